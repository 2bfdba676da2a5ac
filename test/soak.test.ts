// A short soak run (scripts/soak.ts) as part of the suite: 2,000 connections over 20 s against
// the `hawser echo` server in a child process, every echo checked. Nothing may be lost, nothing
// may fail, and the server may not keep file descriptors (at most 10 more at the end than at
// the start) or memory (RSS at most 64 MiB above its level after the warm-up) per connection.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { SoakResult } from "../scripts/soak.js";

test("soak: 2,000 connections in 20 s, every message echoed, no descriptor or memory growth", async (t) => {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/soak.ts", "--connections", "2000", "--seconds", "20", "--concurrency", "50", "--json"], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  for (const line of out.split("\n")) if (line !== "" && !line.startsWith("soak-result: ")) t.diagnostic(line);
  const line = out.split("\n").find((text) => text.startsWith("soak-result: "));
  assert.ok(line, `the soak printed no result (exit ${code}): ${out}${err}`);
  const result = JSON.parse(line.slice("soak-result: ".length)) as SoakResult;
  assert.deepEqual(result.errorSamples, [], "no connection failed");
  assert.equal(result.errors, 0);
  assert.equal(result.served, 2000, "every connection was served and closed cleanly");
  assert.ok(result.messagesSent >= 2000 * 6);
  assert.equal(result.messagesLost, 0);
  assert.equal(result.messagesReceived, result.messagesSent);
  assert.ok(result.fdsEnd - result.fdsStart <= 10, `server descriptors went from ${result.fdsStart} to ${result.fdsEnd}`);
  assert.ok(result.rssGrowthMiB <= 64, `server RSS grew by ${result.rssGrowthMiB.toFixed(1)} MiB after the warm-up`);
  assert.equal(result.passed, true);
  assert.equal(code, 0, "the soak script exits 0 when everything held");
});
