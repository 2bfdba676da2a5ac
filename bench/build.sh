#!/bin/sh
# Builds the C load generator into bench/bin/loadgen (gitignored). Needs gcc, libc and zlib (zlib1g-dev) for --deflate.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/bin"
${CC:-gcc} -O2 -std=c11 -Wall -Wextra -Wshadow -o "$here/bin/loadgen" "$here/loadgen.c" -lz
"$here/bin/loadgen" --selftest >/dev/null
