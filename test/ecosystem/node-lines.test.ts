// The Node versions hawser claims are the ones CI tests: package.json's engines, the README's
// requirements line and the lines .ci/run runs the suite on must name the same majors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../helpers/cli.js";

/** The CI machine's own Node line, which .ci/run tests before the others. */
const CI_MACHINE_LINE = 20;

test("engines, the README's requirements line and .ci/run's Node lines agree", () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
  const engines = manifest.engines.node.split("||").map((range) => Number(/^\s*\^(\d+)\.0\.0\s*$/.exec(range)?.[1]));
  assert.ok(engines.every(Number.isInteger), `engines.node is a list of ^N.0.0 ranges: ${manifest.engines.node}`);

  const requirements = /\*\*Requirements:\*\* Node\.js ((?:\d+, )*\d+ or \d+)/.exec(readFileSync(join(ROOT, "README.md"), "utf8"));
  assert.ok(requirements, "the README has a **Requirements:** line naming the Node versions");
  const readme = requirements[1]!.split(/, | or /).map(Number);

  const lines = /HAWSER_CI_NODE_LINES:-([\d ]+)\}/.exec(readFileSync(join(ROOT, ".ci/run"), "utf8"));
  assert.ok(lines, ".ci/run names its default Node lines");
  const ci = [CI_MACHINE_LINE, ...lines[1]!.trim().split(/\s+/).map(Number)].sort((a, b) => a - b);

  assert.deepEqual(readme, engines, "README's requirements line and package.json's engines");
  assert.deepEqual(ci, engines, "the Node lines .ci/run tests and package.json's engines");
});
