// `hawser connect URL` as a user runs it: the built command (dist/cli.js) against the built
// `hawser echo`, piped stdin, headers, subprotocols, binary output, exit statuses, TLS.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { formatMessage, parseConnectArguments } from "../../src/cli/connect.js";
import type { Cgi } from "../../src/index.js";
import { assertBuilt, CLI, ROOT, startProgram, type RunningProgram } from "../helpers/cli.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";
import { makeSelfSignedCertificate, openssl } from "../helpers/tls-certificate.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hawser connect ARGS` with `input` on stdin (ended unless `keepStdinOpen`). */
function hawserConnect(args: string[], input = "", keepStdinOpen = false): Promise<Run> {
  const child = spawn(process.execPath, [CLI, "connect", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.write(input);
  if (!keepStdinOpen) child.stdin.end();
  return withTimeout(
    new Promise<Run>((resolve) =>
      child.once("close", (code) => {
        child.stdin.destroy();
        resolve({ code, stdout, stderr });
      }),
    ),
    15_000,
    `hawser connect ${args.join(" ")}`,
  ).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  });
}

describe("hawser connect against hawser echo (both built)", () => {
  let echo: RunningProgram;
  before(async () => {
    assertBuilt();
    echo = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"]);
  });
  after(() => echo?.stop());

  test("echo hi | hawser connect URL: prints the greeting and the echo, closes with 1000, exits 0", async () => {
    const run = await hawserConnect([`${echo.url}/`], "hi\n");
    assert.equal(run.stdout, "hello\n world!\nhi\n");
    assert.match(run.stderr, /^Connected to ws:\/\/127\.0\.0\.1:\d+\/\.\n/);
    assert.match(run.stderr, /Disconnected \(code 1000\)\.\n$/);
    assert.equal(run.code, 0);
  });

  test("several lines, including an empty one and non-ASCII, are sent in order", async () => {
    const run = await hawserConnect([`${echo.url}/`, "--wait", "0.2"], "one\n\ntrois ✓\n");
    assert.equal(run.stdout, "hello\n world!\none\n\ntrois ✓\n");
    assert.equal(run.code, 0);
  });
});

describe("hawser connect options and exit statuses", () => {
  let url = "";
  let server: TestServer | undefined;
  after(() => server?.close());
  const seen: Array<{ path: string; headers: Record<string, unknown>; protocol: string }> = [];
  before(async () => {
    assertBuilt();
    server = await startServer(
      (cgi: Cgi) => {
        const protocol = cgi.requestedProtocols.includes("chat") ? "chat" : undefined;
        const socket = cgi.acceptWebsocket(protocol);
        seen.push({ path: cgi.pathInfo, headers: { ...cgi.headers }, protocol: socket.protocol });
        if (cgi.pathInfo === "/binary") {
          socket.send(Buffer.from([0, 1, 2, 0xfe, 0xff]));
          socket.send(Buffer.alloc(20, 0xab));
          socket.send(Buffer.alloc(0));
          socket.close(1001, "done");
        } else if (cgi.pathInfo === "/app-close") {
          socket.close(4000, "application says no");
        } else if (cgi.pathInfo === "/drop") {
          socket.terminate();
        }
      },
      // The --origin test sends a foreign Origin on purpose.
      { pingIntervalMs: 0, allowedOrigins: ["http://example.test"] },
    );
    url = server.url;
  });

  test("-H, -s and --origin reach the server; the chosen subprotocol is reported", async () => {
    const run = await hawserConnect([`${url}/binary`, "-H", "X-One: 1", "-H", "X-Two:two", "-s", "other", "-s", "chat", "--origin", "http://example.test"]);
    const request = seen.find((entry) => entry.path === "/binary")!;
    assert.equal(request.headers["x-one"], "1");
    assert.equal(request.headers["x-two"], "two");
    assert.equal(request.headers["sec-websocket-protocol"], "other, chat");
    assert.equal(request.headers.origin, "http://example.test");
    assert.match(run.stderr, /\(subprotocol chat\)/);
    assert.equal(run.stdout, "<binary 5 bytes: 000102feff>\n<binary 20 bytes: abababababababababababababababab…>\n<binary 0 bytes>\n");
    assert.match(run.stderr, /Disconnected \(code 1001, reason "done"\)/);
    assert.equal(run.code, 0, "1001 is a normal close");
  });

  test("the server closing first ends the program even while stdin stays open", async () => {
    const run = await hawserConnect([`${url}/app-close`], "", true);
    assert.match(run.stderr, /Disconnected \(code 4000, reason "application says no"\)/);
    assert.equal(run.code, 1, "an application close code is not a normal end");
  });

  test("a dropped connection exits 1", async () => {
    const run = await hawserConnect([`${url}/drop`], "", true);
    assert.match(run.stderr, /Disconnected \(code 1006, not clean\)/);
    assert.equal(run.code, 1);
  });

  test("a refused connection exits 1 and says why", async () => {
    const run = await hawserConnect(["ws://127.0.0.1:1/"]);
    assert.match(run.stderr, /ECONNREFUSED/);
    assert.equal(run.code, 1);
  });

  test("usage errors exit 2 with the usage text; --help exits 0", async () => {
    for (const args of [[], ["-H", "no-colon", "ws://x/"], ["ws://x/", "--ping", "soon"], ["ws://x/", "--bogus"], ["ftp://x/"]]) {
      const run = await hawserConnect(args);
      assert.equal(run.code, 2, `hawser connect ${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /hawser connect: /);
    }
    const help = await hawserConnect(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: hawser connect URL/);
  });

  test("--no-check connects to a self-signed wss:// server; without it the certificate is refused", { skip: openssl.skip }, async (t) => {
    openssl.assertAvailable();
    const tlsServer = await startServer((cgi: Cgi) => cgi.acceptWebsocket().close(1000), { tls: makeSelfSignedCertificate(), pingIntervalMs: 0 });
    t.after(() => tlsServer.close());
    const wss = `wss://127.0.0.1:${tlsServer.port}/`;
    const refused = await hawserConnect([wss]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /self[- ]signed certificate/);
    const accepted = await hawserConnect([wss, "--no-check"]);
    assert.match(accepted.stderr, /Disconnected \(code 1000\)/);
    assert.equal(accepted.code, 0);
  });
});

describe("hawser connect building blocks", () => {
  test("--ping sets the ping period and a dead-peer timeout of three periods", () => {
    const parsed = parseConnectArguments(["ws://x/", "--ping", "2"]);
    assert.ok(parsed !== "help");
    assert.equal(parsed.config.pingFrequency, 2000);
    assert.equal(parsed.config.timeoutFromInactivity, 6000);
    const off = parseConnectArguments(["ws://x/", "--ping", "0", "--no-check", "-w", "1.5"]);
    assert.ok(off !== "help");
    assert.equal(off.config.pingFrequency, 0);
    assert.equal(off.config.verifyPeer, false);
    assert.equal(off.waitMs, 1500);
  });

  test("binary messages print as a length and a hex prefix", () => {
    assert.equal(formatMessage({ type: "message", data: "text", isBinary: false, rawData: Buffer.from("text") }), "text");
    assert.equal(
      formatMessage({ type: "message", data: Buffer.alloc(16, 1), isBinary: true, rawData: Buffer.alloc(16, 1) }),
      `<binary 16 bytes: ${"01".repeat(16)}>`,
    );
    assert.equal(
      formatMessage({ type: "message", data: Buffer.alloc(17, 1), isBinary: true, rawData: Buffer.alloc(17, 1) }),
      `<binary 17 bytes: ${"01".repeat(16)}…>`,
    );
  });
});
