#!/usr/bin/env node
// Makes dist/cli.js (the `hawser` bin) executable. tsc writes it without the execute bit;
// npm sets the bit only when it links the bin, so after a rebuild in a checkout that npx had
// linked before (`git clean`, a fresh clone at the same path), `npx hawser` failed with
// "Permission denied".
import { chmodSync } from "node:fs";

chmodSync("dist/cli.js", 0o755);
