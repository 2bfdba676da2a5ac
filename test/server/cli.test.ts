// `npx hawser echo`: the built command, run as its own process, answering a `ws` client as
// the seed's example does.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { assertBuilt, CLI, ROOT, runProgram, startProgram, type RunningProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

const BROWSER_HINT = "You are loading the websocket endpoint in a browser instead of a websocket client. Use a websocket client on this url instead.\n";

test("package.json's bin points `hawser` at the built CLI", () => {
  const pkg = JSON.parse(readFileSync(new URL("package.json", `file://${ROOT}`), "utf8")) as { bin: Record<string, string> };
  assert.equal(new URL(pkg.bin.hawser!, `file://${ROOT}`).pathname, new URL(`file://${CLI}`).pathname);
  assertBuilt();
  // npm sets the bit only when it links the bin; a rebuild must keep the command runnable.
  assert.notEqual(statSync(CLI).mode & 0o111, 0, "dist/cli.js is not executable: the build must mark it so");
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

  test("without --origin, another site's page is refused with 403; its own origin and programs get in", async () => {
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "http://anywhere.test" }), { status: 403 });
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "null" }), { status: 403 });
    for (const origin of [echo.httpUrl, undefined]) {
      const peer = await WsPeer.connect(echo.url + "/", origin ? { origin } : {});
      assert.equal((await peer.next()).text, "hello");
      await peer.close();
    }
  });
});

describe("hawser echo --any-origin", () => {
  test("accepts pages of every origin", async () => {
    assertBuilt();
    const echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1", "--any-origin"]);
    try {
      for (const origin of ["http://anywhere.test", "null"]) {
        const peer = await WsPeer.connect(echo.url + "/", { origin });
        assert.equal((await peer.next()).text, "hello");
        await peer.close();
      }
    } finally {
      await echo.stop();
    }
  });
});

describe("hawser echo --origin", () => {
  let echo: RunningProgram;
  before(async () => {
    assertBuilt();
    echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1", "--origin", "http://x", "--origin", "https://y.test"]);
  });
  after(() => echo?.stop());

  test("accepts those origins (repeatable), beside its own and programs without Origin", async () => {
    for (const origin of ["http://x", "https://y.test", echo.httpUrl, undefined]) {
      const peer = await WsPeer.connect(echo.url + "/", origin ? { origin } : {});
      assert.equal((await peer.next()).text, "hello", `Origin ${origin}`);
      await peer.close();
    }
  });

  test("refuses other origins with 403", async () => {
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "http://y" }), { status: 403 });
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "http://x.evil" }), { status: 403 });
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

describe("hawser refuses what it does not understand", () => {
  const refused: Array<[string[], RegExp]> = [
    [["echo", "--no-deflat"], /hawser echo does not know the option '--no-deflat'/],
    [["echo", "--orgin", "http://x"], /does not know the option '--orgin'/],
    [["chat", "--cert", "cert.pem"], /hawser chat does not know the option '--cert'/],
    [["demo", "--redis", "redis://127.0.0.1"], /hawser demo does not know the option '--redis'/],
    [["autobahn", "--http2"], /hawser autobahn does not know the option '--http2'/],
    [["echo", "8085"], /hawser echo takes no argument '8085'/],
    [["echo", "--origin"], /Option '--origin[^']*' argument/],
    [["echo", "--origin", "https://x.test/app"], /--origin: 'https:\/\/x\.test\/app' has more than an origin.*'https:\/\/x\.test'/],
    [["echo", "--any-origin", "--origin", "https://x.test"], /give it or --origin URL, not both/],
    [["echo", "--max-connections-per-ip", "none"], /--max-connections-per-ip expects a whole number of 1 or more, or 'unlimited'/],
    [["echo", "--rate-limit-action", "drop"], /--rate-limit-action is 'pause' or 'close'/],
  ];
  for (const [args, message] of refused) {
    test(`hawser ${args.join(" ")}: exit 2, naming the argument, and nothing listens`, async () => {
      assertBuilt();
      const result = await runProgram(CLI, [...args, "--port", "0", "--host", "127.0.0.1"]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stdout, /listening on/);
    });
  }

  test("the limits on the command line reach the server: --max-connections-per-ip 1 refuses a second connection with 503", async () => {
    assertBuilt();
    const echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1", "--max-connections-per-ip", "1", "--messages-per-second", "unlimited"]);
    try {
      const first = await WsPeer.connect(echo.url + "/");
      assert.equal((await first.next()).text, "hello");
      await assert.rejects(WsPeer.connect(echo.url + "/"), { status: 503 });
      await first.close();
      assert.match(echo.output(), /refused a connection from 127\.0\.0\.1.*maxConnectionsPerIp/);
    } finally {
      await echo.stop();
    }
  });
});
