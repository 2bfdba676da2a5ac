// The types of hawser/ws against programs written for `ws` and @types/ws: the programs in
// test/ws/fixtures/ (an ES module, and CommonJS with a default import and with require) are
// compiled by tsc importing "hawser/ws" (the built package's declarations, import and require
// flavours), and again importing "ws" against @types/ws, which proves they are real ws programs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { assertBuilt, ROOT } from "../helpers/cli.js";

const FIXTURES = join(ROOT, "test", "ws", "fixtures");
let project: string | null = null;

after(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

test("programs typed against @types/ws compile against hawser/ws with only their import changed", () => {
  assertBuilt();
  project = mkdtempSync(join(tmpdir(), "hawser-ws-types-"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "ws-user", private: true, type: "module" }));
  // "hawser" is this repository (its package.json exports map hawser/ws to dist/); the rest
  // (@types/node, @types/ws) comes from its node_modules.
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules", "hawser"));
  for (const name of ["@types", "ws"]) symlinkSync(join(ROOT, "node_modules", name), join(project, "node_modules", name));
  const fixtures = readdirSync(FIXTURES);
  assert.ok(fixtures.length >= 3, "the ES module, default-import and require fixtures");
  for (const [dir, module] of [
    ["hawser", "hawser/ws"],
    ["ws", "ws"],
  ] as const) {
    mkdirSync(join(project, dir));
    for (const file of fixtures) {
      const source = readFileSync(join(FIXTURES, file), "utf8");
      assert.match(source, /from "hawser\/ws"|require\("hawser\/ws"\)/, `${file} imports hawser/ws`);
      writeFileSync(join(project, dir, file), source.replaceAll('"hawser/ws"', JSON.stringify(module)));
    }
  }
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        esModuleInterop: true,
        noEmit: true,
        types: ["node"],
        // Third-party declarations are not ours to check; hawser's own are checked by the build.
        skipLibCheck: true,
      },
      include: ["hawser", "ws"],
    }),
  );
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json", "--listFiles"], { cwd: project, encoding: "utf8", timeout: 120_000 });
  const errors = result.stdout
    .split("\n")
    .filter((line) => !line.startsWith("/"))
    .join("\n");
  assert.equal(result.status, 0, `tsc found errors:\n${errors}${result.stderr}`);
  // Both flavours of hawser/ws's declarations were used: import (ESM) and require (CommonJS).
  assert.match(result.stdout, /\/dist\/ws\/index\.d\.ts/);
  assert.match(result.stdout, /\/dist\/cjs\/ws\/commonjs\.d\.cts/);
  assert.match(result.stdout, /@types\/ws\/index\.d\.ts/, "the same programs were checked against @types/ws");
});
