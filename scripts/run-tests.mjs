#!/usr/bin/env node
// Runs every test file under test/ (and conformance/*.test.ts) with Node's own test runner.
// Node 20's --test does not expand globs or know .ts, so we list the files and load tsx.
// The report on the console is the spec reporter's on every Node line; a TAP copy goes to a
// temp file, from which the last line says which Node ran and its counts. With
// HAWSER_TEST_SUMMARY set to a file name, that line is also appended there (.ci/run collects
// one per Node line).
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** "node v22.23.5: 931 tests, 931 pass, 0 fail, 0 skipped, ..." from the TAP report's last lines. */
function summary(tap, status, seconds) {
  const count = (name) => [...tap.matchAll(new RegExp(`^# ${name} (\\d+)$`, "gm"))].at(-1)?.[1];
  const counts = ["tests", "pass", "fail", "skipped", "cancelled", "todo"].map((name) => [name, count(name)]);
  const head = `node ${process.version}:`;
  if (counts.some(([, value]) => value === undefined)) return `${head} no counts (the test runner exited with ${status}) in ${seconds} s`;
  return `${head} ${counts.map(([name, value]) => `${value} ${name}`).join(", ")} in ${seconds} s`;
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : collect("test", []).sort();
// Tests talk to servers on 127.0.0.1; a proxy set in the developer's shell or the CI would
// carry hawser's client (which honours HTTP_PROXY / HTTPS_PROXY) away from them. The proxy
// tests set these variables themselves.
const env = { ...process.env };
for (const name of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"]) delete env[name];
const reportDir = mkdtempSync(join(tmpdir(), "hawser-tests-"));
const tapFile = join(reportDir, "report.tap");
const started = Date.now();
// Spec on the console (every Node line alike), TAP into the file the summary is read from.
const reporters = ["--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=tap", `--test-reporter-destination=${tapFile}`];
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...reporters, ...files], {
  stdio: "inherit",
  env,
});
let tap = "";
try {
  tap = readFileSync(tapFile, "utf8");
} catch {
  // No report: the runner did not start; the summary says so.
}
rmSync(reportDir, { recursive: true, force: true });
const line = summary(tap, result.status ?? result.signal, Math.round((Date.now() - started) / 1000));
console.log(`\ntests: ${line}`);
if (process.env.HAWSER_TEST_SUMMARY) appendFileSync(process.env.HAWSER_TEST_SUMMARY, `${line}\n`);
process.exit(result.status ?? 1);
