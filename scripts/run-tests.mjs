#!/usr/bin/env node
// Runs every test file under test/ (and conformance/*.test.ts) with Node's own test runner.
// Node 20's --test does not expand globs or know .ts, so we list the files and load tsx.
import { readdirSync, statSync } from "node:fs";
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

const only = process.argv.slice(2);
const files = only.length > 0 ? only : collect("test", []).sort();
// Tests talk to servers on 127.0.0.1; a proxy set in the developer's shell or the CI would
// carry hawser's client (which honours HTTP_PROXY / HTTPS_PROXY) away from them. The proxy
// tests set these variables themselves.
const env = { ...process.env };
for (const name of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"]) delete env[name];
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...files],
  { stdio: "inherit", env },
);
process.exit(result.status ?? 1);
