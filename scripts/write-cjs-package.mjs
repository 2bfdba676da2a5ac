#!/usr/bin/env node
// Marks dist/cjs as CommonJS: the root package.json says "type": "module", so without this
// Node would read dist/cjs/*.js (and TypeScript dist/cjs/*.d.ts) as ES modules.
import { mkdirSync, writeFileSync } from "node:fs";

mkdirSync("dist/cjs", { recursive: true });
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }, null, 2) + "\n");
