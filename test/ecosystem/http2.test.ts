// WebSockets over HTTP/2 (RFC 8441) on serve({ tls, http2: true }): hawser's own HTTP/2 client,
// the `ws` client over HTTP/1.1 on the same port, headless Chromium from a page of the same
// origin, and the `hawser echo --cert --key --http2` command.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect as connectSession, type Http2SecureServer } from "node:http2";
import { after, before, describe, test } from "node:test";
import { connectHttp2 } from "../../src/client/http2.js";
import { WebSocketHandshakeError } from "../../src/client/errors.js";
import { WebSocketOpcode } from "../../src/protocol/opcodes.js";
import type { Cgi } from "../../src/server/cgi.js";
import { HttpError } from "../../src/server/http-error.js";
import { serve, type HawserServer } from "../../src/server/serve.js";
import { assertBuilt, CLI, runProgram, startProgram } from "../helpers/cli.js";
import { chromiumPeer, launchChromium } from "../helpers/chromium.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { makeCertificate, openssl, type Certificate } from "../helpers/tls-certificate.js";

const browser = chromiumPeer();

/** What the handler saw of each WebSocket request: the HTTP version it came over, and the method. */
interface Seen {
  httpVersion: string;
  method: string;
  extensions: string;
}

const PAGE = `<!doctype html><title>h2</title><p id="state">loaded</p>`;

describe("WebSockets over HTTP/2 (RFC 8441)", { skip: openssl.skip }, () => {
  let certificate: Certificate;
  let server: HawserServer<Http2SecureServer>;
  let url: string;
  const seen: Seen[] = [];
  const pages: string[] = [];

  before(async () => {
    certificate = makeCertificate();
    server = await serve(
      async (cgi: Cgi) => {
        if (!cgi.websocketRequested()) {
          pages.push(cgi.httpVersion);
          cgi.header("Content-Type", "text/html; charset=utf-8");
          cgi.write(PAGE, true);
          return;
        }
        if (cgi.pathInfo === "/private") throw new HttpError(401, "no entry", { "www-authenticate": "Bearer" });
        const protocol = cgi.requestedProtocols.includes("chat.v2") ? "chat.v2" : undefined;
        const socket = cgi.acceptWebsocket(protocol);
        seen.push({ httpVersion: cgi.httpVersion, method: cgi.requestMethod, extensions: socket.extensions });
        for await (const message of socket) {
          socket.send(message.opcode === WebSocketOpcode.text ? `echo:${message.textData}` : message.data);
        }
      },
      { tls: { cert: certificate.cert, key: certificate.key }, http2: true, host: "127.0.0.1", port: 0 },
    );
    url = server.url;
  });
  after(async () => {
    await server?.close();
    certificate?.remove();
  });

  test("hawser's HTTP/2 client: an extended CONNECT, 200, messages both ways over the stream", async () => {
    seen.length = 0;
    const socket = await connectHttp2(`${url}echo?x=1`, { ca: certificate.cert, protocols: ["chat.v1", "chat.v2"] });
    assert.equal(socket.protocol, "chat.v2");
    socket.send("hi over h2");
    assert.equal((await socket.recv()).textData, "echo:hi over h2");
    // Bigger than HTTP/2's initial 64 KiB flow-control window, so WINDOW_UPDATEs must flow.
    const big = Buffer.alloc(1024 * 1024 + 7, 0xab);
    socket.send(big);
    const back = await socket.recv();
    assert.equal(back.opcode, WebSocketOpcode.binary);
    assert.ok(back.data.equals(big));
    socket.close(1000, "bye");
    const closed = await socket.closed;
    assert.deepEqual([closed.code, closed.wasClean], [1000, true]);
    // Both sides agree on the extensions (permessage-deflate when the client offers it).
    assert.deepEqual(seen, [{ httpVersion: "2.0", method: "CONNECT", extensions: socket.extensions }]);
  });

  test("several WebSockets share one HTTP/2 connection, each on its own stream", async () => {
    const session = connectSession(url.replace("wss:", "https:"), { ca: certificate.cert });
    try {
      const one = await connectHttp2(url, { ca: certificate.cert, session });
      const two = await connectHttp2(url, { ca: certificate.cert, session });
      one.send("one");
      two.send("two");
      assert.equal((await two.recv()).textData, "echo:two");
      assert.equal((await one.recv()).textData, "echo:one");
      one.close();
      assert.equal((await one.closed).code, 1000);
      // Closing one stream leaves the connection, and the other socket, working.
      two.send("still here");
      assert.equal((await two.recv()).textData, "echo:still here");
      two.close();
      await two.closed;
    } finally {
      session.close();
    }
  });

  test("the same port still takes HTTP/1.1 Upgrade requests (ws client)", async () => {
    seen.length = 0;
    const peer = await WsPeer.connect(url, { ca: certificate.cert });
    await peer.send("hi over h1");
    assert.equal((await peer.next()).text, "echo:hi over h1");
    await peer.close(1000);
    assert.deepEqual(seen, [{ httpVersion: "1.1", method: "GET", extensions: "permessage-deflate" }]);
  });

  test("a handler's refusal is an HTTP status on the stream; a bad version gets 426", async () => {
    const refused = await connectHttp2(`${url}private`, { ca: certificate.cert }).then(
      () => assert.fail("the handshake should be refused"),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof WebSocketHandshakeError);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers["www-authenticate"], "Bearer");
    assert.match(refused.body, /no entry/);

    const session = connectSession(url.replace("wss:", "https:"), { ca: certificate.cert });
    try {
      await new Promise((resolve) => session.once("remoteSettings", resolve));
      const stream = session.request({ ":method": "CONNECT", ":protocol": "websocket", ":scheme": "https", ":path": "/", "sec-websocket-version": "8" });
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.once("response", resolve));
      assert.equal(headers[":status"], 426);
      assert.equal(headers["sec-websocket-version"], "13");
      stream.resume();
      await new Promise((resolve) => stream.once("close", resolve));
    } finally {
      session.close();
    }
  });

  test("a plain CONNECT (a proxy tunnel) is refused with 405 and never reaches the handler", async () => {
    seen.length = 0;
    pages.length = 0;
    const session = connectSession(url.replace("wss:", "https:"), { ca: certificate.cert });
    try {
      const stream = session.request({ ":method": "CONNECT", ":authority": "example.com:443" });
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.once("response", resolve));
      assert.equal(headers[":status"], 405);
      stream.resume();
      await new Promise((resolve) => stream.once("close", resolve));
    } finally {
      session.close();
    }
    assert.deepEqual([seen.length, pages.length], [0, 0]);
  });

  test("a server without RFC 8441 is reported as such, not as a hang", async () => {
    const plain = await serve(() => undefined, { tls: { cert: certificate.cert, key: certificate.key }, host: "127.0.0.1", port: 0 });
    try {
      await assert.rejects(connectHttp2(plain.url, { ca: certificate.cert, handshakeTimeoutMs: 3000 }), WebSocketHandshakeError);
    } finally {
      await plain.close();
    }
  });

  test("close() ends HTTP/2 WebSockets with 1001 like HTTP/1.1 ones", async () => {
    const other = await serve(
      async (cgi) => {
        const socket = cgi.acceptWebsocket();
        for await (const _ of socket);
      },
      { tls: { cert: certificate.cert, key: certificate.key }, http2: true, host: "127.0.0.1", port: 0 },
    );
    const h2 = await connectHttp2(other.url, { ca: certificate.cert });
    const h1 = await WsPeer.connect(other.url, { ca: certificate.cert });
    await withTimeout(other.close(), 5000, "server.close()");
    assert.equal((await h2.closed).code, 1001);
    assert.equal((await h1.closed).code, 1001);
  });

  test("headless Chromium opens wss:// from a page of the origin over HTTP/2", { skip: browser.skip, timeout: 60_000 }, async () => {
    browser.assertAvailable();
    seen.length = 0;
    pages.length = 0;
    const instance = await launchChromium([
      "--ignore-certificate-errors",
      // On by default in current Chromium; named so older builds do it too.
      "--enable-features=WebSocketOverHttp2",
    ]);
    try {
      const page = await instance.newPage();
      await page.goto(url.replace("wss:", "https:"));
      const result = await page.evaluate(
        (wsUrl: string) =>
          new Promise<{ echoed: string[]; extensions: string; code: number }>((resolve, reject) => {
            const socket = new WebSocket(wsUrl);
            const echoed: string[] = [];
            socket.onopen = () => {
              socket.send("from chromium");
              socket.send("x".repeat(100_000));
            };
            socket.onmessage = (event) => {
              echoed.push(String(event.data).slice(0, 40));
              if (echoed.length === 2) socket.close(1000, "done");
            };
            socket.onclose = (event) => resolve({ echoed, extensions: socket.extensions, code: event.code });
            socket.onerror = () => reject(new Error("WebSocket error in the page"));
          }),
        url,
      );
      assert.deepEqual(result.echoed, ["echo:from chromium", `echo:${"x".repeat(35)}`]);
      assert.equal(result.code, 1000);
      // The proof that it was RFC 8441: the handler saw a CONNECT over HTTP/2, not a GET upgrade.
      assert.ok(pages.includes("2.0"), `the page loaded over HTTP/2 (saw ${pages.join(", ")})`);
      assert.deepEqual(
        seen.map((entry) => [entry.httpVersion, entry.method]),
        [["2.0", "CONNECT"]],
      );
      assert.equal(result.extensions, seen[0]!.extensions);
    } finally {
      await instance.close();
    }
  });
});

describe("hawser echo --cert --key [--http2]", { skip: openssl.skip }, () => {
  let certificate: Certificate;
  before(() => {
    assertBuilt();
    certificate = makeCertificate();
  });
  after(() => certificate?.remove());

  test("--http2 serves RFC 8441 and HTTP/1.1 on one port, greeting as the seed does", async () => {
    const program = await startProgram(CLI, [
      "echo",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--cert",
      certificate.certFile,
      "--key",
      certificate.keyFile,
      "--http2",
    ]);
    try {
      assert.match(program.output(), /listening on https:\/\//);
      const socket = await connectHttp2(`wss://127.0.0.1:${program.port}/`, { ca: certificate.cert });
      assert.equal((await socket.recv()).textData, "hello");
      assert.equal((await socket.recv()).textData, " world!");
      socket.send("over h2");
      assert.equal((await socket.recv()).textData, "over h2");
      socket.close();
      await socket.closed;
      const peer = await WsPeer.connect(`wss://127.0.0.1:${program.port}/`, { ca: certificate.cert });
      assert.equal((await peer.next()).text, "hello");
      await peer.close(1000);
    } finally {
      await program.stop();
    }
  });

  test("--http2 without a certificate, or half a certificate, is refused with a hint", async () => {
    const noTls = await runProgram(CLI, ["echo", "--port", "0", "--http2"]);
    assert.equal(noTls.code, 1);
    assert.match(noTls.stderr, /--http2 needs --cert FILE --key FILE/);
    const half = await runProgram(CLI, ["echo", "--port", "0", "--cert", certificate.certFile]);
    assert.equal(half.code, 1);
    assert.match(half.stderr, /--cert and --key go together/);
  });

  test("without --http2: wss:// over HTTP/1.1 only", async () => {
    const program = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1", "--cert", certificate.certFile, "--key", certificate.keyFile]);
    try {
      const peer = await WsPeer.connect(`wss://127.0.0.1:${program.port}/`, { ca: certificate.cert });
      assert.equal((await peer.next()).text, "hello");
      await peer.close(1000);
      await assert.rejects(connectHttp2(`wss://127.0.0.1:${program.port}/`, { ca: certificate.cert, handshakeTimeoutMs: 3000 }), WebSocketHandshakeError);
    } finally {
      await program.stop();
    }
  });
});
