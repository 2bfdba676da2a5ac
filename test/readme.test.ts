// The README's examples are the example files (checked line for line), and each example file
// is run: here for the client examples, elsewhere for the servers (named below).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { assertBuilt, CLI, ROOT, startProgram } from "./helpers/cli.js";

const run = promisify(execFile);
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** `<!-- example: PATH -->` followed by a fenced block: the block must be a run of PATH's lines. */
const marked = [...readme.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map((match) => ({
  path: match[1]!,
  code: match[2]!,
}));

/** The test that runs each example that is a server (the clients are run below), and what it loads. */
const RUN_BY: Record<string, { test: string; loads: string }> = {
  "examples/echo.ts": { test: "test/server/example-echo.test.ts", loads: "examples/echo.ts" },
  // Every mount-*.ts example serves mount-handler.ts's handler.
  "examples/mount-handler.ts": { test: "test/ecosystem/mounting.test.ts", loads: "examples/mount-http.js" },
  "examples/mount-http.ts": { test: "test/ecosystem/mounting.test.ts", loads: "examples/mount-http.js" },
  "examples/cluster-chat.ts": { test: "test/pubsub/cluster-example.test.ts", loads: "cluster-chat" },
  "examples/socket-io.ts": { test: "test/ws-dependents/socket-io-example.test.ts", loads: "examples/socket-io.js" },
  "examples/resume.ts": { test: "test/pubsub/resume-example.test.ts", loads: "examples/resume.ts" },
  "examples/resume-client.ts": { test: "test/pubsub/resume-example.test.ts", loads: "examples/resume-client.ts" },
};

test("every marked README block is a contiguous excerpt of its example file", () => {
  assert.ok(marked.length >= 4, `found ${marked.length} marked examples`);
  for (const { path, code } of marked) {
    const file = readFileSync(join(ROOT, path), "utf8");
    assert.ok(file.includes(code), `README's block for ${path} differs from the file: copy the file's lines again`);
  }
});

test("every server example in the README is run by a test", () => {
  for (const { path } of marked) {
    if (path === "examples/client.ts" || path === "examples/web-client.ts") continue;
    const runner = RUN_BY[path];
    assert.ok(runner, `no test is named as running ${path}: add it to RUN_BY with the test that runs it`);
    assert.ok(readFileSync(join(ROOT, runner.test), "utf8").includes(runner.loads), `${runner.test} no longer loads ${runner.loads}`);
  }
});

for (const [example, expected] of [
  ["examples/client.ts", ["hello", " world!", "echo me", "closed with 1000"]],
  ["examples/web-client.ts", ["message: hello", "message:  world!", "message: echo me", "close: 1000 clean=true"]],
] as const) {
  test(`${example} runs against \`hawser echo\` and prints what its comments say`, async () => {
    assertBuilt();
    const server = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"]);
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", example, `${server.url}/`], { cwd: ROOT, timeout: 20_000 });
      assert.deepEqual(stdout.trimEnd().split("\n"), expected);
    } finally {
      await server.stop();
    }
  });
}
