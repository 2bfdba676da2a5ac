#!/bin/sh
# Builds the C load generator into bench/bin/loadgen (gitignored). Needs only gcc and libc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/bin"
${CC:-gcc} -O2 -std=c11 -Wall -Wextra -Wshadow -o "$here/bin/loadgen" "$here/loadgen.c"
"$here/bin/loadgen" --selftest >/dev/null
