// `npx hawser echo`: the built command, run as its own process, answering a `ws` client as
// the seed's example does.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { assertBuilt, CLI, ROOT, runProgram, startProgram, type RunningProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

const BROWSER_HINT =
  "You are loading the websocket endpoint in a browser instead of a websocket client. Use a websocket client on this url instead.\n";

test("package.json's bin points `hawser` at the built CLI", () => {
  const pkg = JSON.parse(readFileSync(new URL("package.json", `file://${ROOT}`), "utf8")) as { bin: Record<string, string> };
  assert.equal(new URL(pkg.bin.hawser!, `file://${ROOT}`).pathname, new URL(`file://${CLI}`).pathname);
  assertBuilt();
});

describe("hawser echo", () => {
  let echo: RunningProgram;
  before(async () => {
    assertBuilt();
    echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"]);
  });
  after(() => echo?.stop());

  test("prints where it listens", () => {
    assert.match(echo.output(), new RegExp(`^hawser: listening on http://127\\.0\\.0\\.1:${echo.port}/$`, "m"));
  });

  test('greets with "hello" and " world!", then echoes text and binary', async () => {
    const peer = await WsPeer.connect(echo.url + "/");
    try {
      assert.deepEqual(await peer.next(), { isBinary: false, data: Buffer.from("hello"), text: "hello" });
      assert.equal((await peer.next()).text, " world!");
      await peer.send("echo ✓");
      const text = await peer.next();
      assert.equal(text.isBinary, false);
      assert.equal(text.text, "echo ✓");
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff));
      await peer.send(bytes, { binary: true });
      const binary = await peer.next();
      assert.equal(binary.isBinary, true);
      assert.ok(binary.data.equals(bytes));
      const big = Buffer.alloc(1024 * 1024, 7);
      await peer.send(big);
      assert.ok((await peer.next()).data.equals(big));
    } finally {
      assert.equal((await peer.close(1000, "thanks")).code, 1000);
    }
  });

  test("a plain GET gets the seed's browser hint", async () => {
    const response = await httpRequest(echo.httpUrl + "/");
    assert.equal(response.status, 200);
    assert.equal(response.body, BROWSER_HINT);
  });

  test("without --origin, any origin is accepted", async () => {
    const peer = await WsPeer.connect(echo.url + "/", { origin: "http://anywhere.test" });
    assert.equal((await peer.next()).text, "hello");
    await peer.close();
  });
});

describe("hawser echo --origin", () => {
  let echo: RunningProgram;
  before(async () => {
    assertBuilt();
    echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1", "--origin", "http://x"]);
  });
  after(() => echo?.stop());

  test("accepts that origin", async () => {
    const peer = await WsPeer.connect(echo.url + "/", { origin: "http://x" });
    assert.equal((await peer.next()).text, "hello");
    await peer.close();
  });

  test("refuses other origins, and none, with 403", async () => {
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "http://y" }), { status: 403 });
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "http://x.evil" }), { status: 403 });
    await assert.rejects(WsPeer.connect(echo.url + "/"), { status: 403 });
  });

  test("still gives the browser hint to a plain GET", async () => {
    assert.equal((await httpRequest(echo.httpUrl + "/")).body, BROWSER_HINT);
  });
});

describe("hawser command line", () => {
  test("--no-deflate is accepted and no extension is agreed", async () => {
    assertBuilt();
    const echo = await startProgram(CLI, ["echo", "--no-deflate", "--port", "0", "--host", "127.0.0.1"]);
    try {
      const peer = await WsPeer.connect(echo.url + "/");
      assert.equal(peer.ws.extensions, "", "the client offered permessage-deflate; --no-deflate must refuse it");
      assert.equal((await peer.next()).text, "hello");
      await peer.close();
    } finally {
      await echo.stop();
    }
  });

  test("--listen HOST:PORT works too", async () => {
    assertBuilt();
    const echo = await startProgram(CLI, ["echo", "--listen", "127.0.0.1:0"]);
    try {
      const peer = await WsPeer.connect(echo.url + "/");
      assert.equal((await peer.next()).text, "hello");
      await peer.close();
    } finally {
      await echo.stop();
    }
  });

  test("SIGTERM closes open sockets with 1001 and exits 0", async () => {
    assertBuilt();
    const echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"]);
    const peer = await WsPeer.connect(echo.url + "/");
    assert.equal((await peer.next()).text, "hello");
    echo.child.kill("SIGTERM");
    try {
      assert.equal((await withTimeout(peer.closed, 5000, "the 1001 close")).code, 1001);
      assert.equal(await withTimeout(echo.exited, 5000, "the exit"), 0);
    } finally {
      // A second SIGTERM would cut the graceful shutdown short: only stop a program still running.
      await echo.stop();
    }
  });

  test("--help prints the usage and exits 0; no command exits 1; an unknown one exits 2", async () => {
    assertBuilt();
    const help = await runProgram(CLI, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: hawser <command>/);
    assert.match(help.stdout, /--origin URL/);
    assert.equal((await runProgram(CLI, [])).code, 1);
    const unknown = await runProgram(CLI, ["ehco"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'ehco'/);
  });

  test("a bad port is refused with a message and exit code 1", async () => {
    assertBuilt();
    const result = await runProgram(CLI, ["echo", "--port", "eighty"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Not a port number: 'eighty'/);
  });
});
