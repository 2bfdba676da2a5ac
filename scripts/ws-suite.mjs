#!/usr/bin/env node
// Runs `ws`'s own server and client test files against hawser's `ws` face, by hand (CI has no
// copy of ws's repository): the checkout is copied to a temporary directory, its package root
// (index.js, what the tests load as `require('..')`) is made to load the built `hawser/ws`
// CommonJS entry, and mocha runs test/websocket.test.js and test/websocket-server.test.js.
// Everything else of the checkout (its private modules the tests also load, its fixtures)
// stays as it is. Prints how many passed and failed, and every failing test's title.
//
//   npm run build && node scripts/ws-suite.mjs /path/to/ws-checkout
//   node scripts/ws-suite.mjs /path/to/ws-checkout --root node_modules/ws   (the same, on another module)
//
// The checkout needs its dev dependencies installed (`npm install` in it, for mocha).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TEST_FILES = ["test/websocket.test.js", "test/websocket-server.test.js"];

const args = process.argv.slice(2);
const rootFlag = args.indexOf("--root");
const rootModule = rootFlag === -1 ? join(ROOT, "dist/cjs/ws/commonjs.cjs") : resolve(args[rootFlag + 1] ?? "");
const checkout = args.find((arg, i) => !arg.startsWith("--") && (rootFlag === -1 || i !== rootFlag + 1));

if (!checkout) {
  console.error(
    "usage: node scripts/ws-suite.mjs <path to a checkout of github.com/websockets/ws> [--root <module>]\n" +
      "Get one with: git clone https://github.com/websockets/ws && (cd ws && npm install)\n" +
      "The tests run against the built hawser/ws entry: run `npm run build` first.",
  );
  process.exit(2);
}
const source = resolve(checkout);
for (const file of ["package.json", "index.js", ...TEST_FILES]) {
  if (!existsSync(join(source, file))) {
    console.error(`${source} does not look like a ws checkout: ${file} is missing.`);
    process.exit(2);
  }
}
const mocha = join(source, "node_modules", "mocha", "bin", "mocha");
if (!existsSync(mocha)) {
  console.error(`mocha is not installed in ${source}: run \`npm install\` there first.`);
  process.exit(2);
}
if (!existsSync(rootModule)) {
  console.error(`${rootModule} is missing: run \`npm run build\` first.`);
  process.exit(2);
}
const version = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;

const work = mkdtempSync(join(tmpdir(), "ws-suite-"));
try {
  cpSync(source, work, { recursive: true, dereference: false, filter: (path) => !path.includes(`${source}/.git`) });
  writeFileSync(join(work, "index.js"), `'use strict';\nmodule.exports = require(${JSON.stringify(rootModule)});\n`);
  const result = spawnSync(process.execPath, [mocha, "--reporter", "json", "--timeout", "10000", "--exit", ...TEST_FILES], {
    cwd: work,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60 * 1000,
  });
  const start = result.stdout.indexOf("{\n");
  if (start === -1) {
    console.error(`mocha produced no report (exit ${result.status}):\n${result.stderr}`);
    process.exit(1);
  }
  const report = JSON.parse(result.stdout.slice(start));
  const { passes, pending, tests } = report.stats;
  // mocha reports a test twice when it fails twice (an assertion in a late event, say).
  const failing = new Map();
  for (const failure of report.failures) {
    if (!failing.has(failure.fullTitle)) failing.set(failure.fullTitle, String(failure.err?.message ?? "").split("\n")[0]);
  }
  console.log(`ws ${version}, ${TEST_FILES.join(" and ")}, package root answered by ${rootModule}`);
  console.log(`passed ${passes} of ${tests}; failed ${failing.size}${pending ? `; skipped ${pending}` : ""}`);
  for (const [title, reason] of failing) console.log(`- ${title}\n    ${reason}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
