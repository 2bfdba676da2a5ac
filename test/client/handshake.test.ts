// The client's opening handshake (RFC 6455 section 4.1) against fake servers that answer
// rightly and wrongly: keys, headers, accept check, subprotocols, extensions, HTTP errors,
// redirects, timeouts, bytes that arrive with the 101.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ClientWebSocket, connect, WebSocket, WebSocketHandshakeError } from "../../src/index.js";
import { Op } from "../helpers/frames.js";
import { expectedAccept } from "../helpers/raw-client.js";
import { withTimeout } from "../helpers/wait.js";
import { httpResponse, startRawServer, type RawConnection, type RawServer } from "./raw-server.js";

const servers: RawServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

async function rawServer(onRequest: (connection: RawConnection) => void): Promise<RawServer> {
  const server = await startRawServer(onRequest);
  servers.push(server);
  return server;
}

/** Connects and expects failure: returns the error and the events the socket reported. */
async function expectFailure(url: string, config = {}): Promise<{ error: WebSocketHandshakeError; events: string[]; socket: ClientWebSocket }> {
  const socket = new ClientWebSocket(url, config);
  const events: string[] = [];
  socket.onerror = () => events.push(`error rs=${socket.readyState}`);
  socket.onclose = (event) => events.push(`close ${event.code} ${event.wasClean} rs=${socket.readyState}`);
  socket.onopen = () => events.push("open");
  const error = await withTimeout(
    socket.connect().then(
      () => null,
      (e: unknown) => e,
    ),
    5000,
    "connect() to fail",
  );
  assert.ok(error instanceof WebSocketHandshakeError, `expected a WebSocketHandshakeError, got ${String(error)}`);
  return { error, events, socket };
}

describe("client handshake request", () => {
  test("sends a fresh random 16-byte key and the handshake headers, and takes the config's headers", async () => {
    const server = await rawServer((connection) => connection.accept());
    const first = await connect(`${server.url}/chat?room=1`, {
      origin: "http://example.test",
      userAgent: "hawser-test/1",
      cookies: { a: "1", b: "two" },
      additionalHeaders: { "X-One": "1" },
      protocol: ["chat", "superchat"],
      pingFrequency: 0,
    });
    const second = await connect(server.url, { additionalHeaders: ["X-Two: 2"], protocols: "a, b", pingFrequency: 0 });
    const [one, two] = server.connections.map((connection) => connection.request);
    assert.equal(one!.method, "GET");
    assert.equal(one!.path, "/chat?room=1");
    assert.equal(one!.headers.host, `127.0.0.1:${server.port}`);
    assert.equal(one!.headers.upgrade, "websocket");
    assert.equal(one!.headers.connection, "Upgrade");
    assert.equal(one!.headers["sec-websocket-version"], "13");
    assert.equal(one!.headers.origin, "http://example.test");
    assert.equal(one!.headers["user-agent"], "hawser-test/1");
    assert.equal(one!.headers.cookie, "a=1; b=two");
    assert.equal(one!.headers["x-one"], "1");
    assert.equal(one!.headers["sec-websocket-protocol"], "chat, superchat");
    assert.equal(one!.headers["sec-websocket-extensions"], "permessage-deflate; client_max_window_bits", "permessage-deflate is offered by default");
    assert.equal(two!.headers["x-two"], "2");
    assert.equal(two!.headers["sec-websocket-protocol"], "a, b");
    const keys = [one!.headers["sec-websocket-key"]!, two!.headers["sec-websocket-key"]!];
    for (const key of keys) assert.equal(Buffer.from(key, "base64").length, 16, `key ${key} is not 16 bytes of base64`);
    assert.notEqual(keys[0], keys[1], "each connection needs its own key");
    first.terminate();
    second.terminate();
  });

  test("bad config throws at once, saying what to fix", () => {
    assert.throws(() => new ClientWebSocket("ftp://x/"), /Unsupported URL scheme 'ftp:'/);
    assert.throws(() => new ClientWebSocket("ws://x/#top"), /fragment/);
    assert.throws(() => new ClientWebSocket("not a url"), /absolute URL/);
    assert.throws(() => new ClientWebSocket("ws://x/", { protocol: ["a", "a"] }), /listed twice/);
    assert.throws(() => new ClientWebSocket("ws://x/", { protocol: "a b" }), /Invalid subprotocol/);
    assert.throws(() => new ClientWebSocket("ws://x/", { additionalHeaders: { "Sec-WebSocket-Key": "x" } }), /set by the WebSocket handshake/);
    assert.throws(() => new ClientWebSocket("ws://x/", { additionalHeaders: { "Sec-WebSocket-Protocol": "x" } }), /config\.protocol/);
    assert.throws(() => new ClientWebSocket("ws://x/", { additionalHeaders: { "X-Bad": "a\r\nInjected: 1" } }), /Invalid request header/);
    assert.throws(() => new ClientWebSocket("ws://x/", { additionalHeaders: ["no colon"] }), /Name: value/);
    assert.throws(() => new ClientWebSocket("ws://x/", { pingFrequency: 5000, timeoutFromInactivity: 5000 }), /longer than pingFrequency/);
    assert.throws(() => new ClientWebSocket("ws://x/", { maximumMessageSize: 0 }), /maximumMessageSize must be a positive number/);
  });

  test("http:// and https:// URLs are taken as ws:// and wss://", () => {
    assert.equal(new ClientWebSocket("http://example.test:80/a?b").url, "ws://example.test/a?b");
    assert.equal(new ClientWebSocket("https://example.test/").url, "wss://example.test/");
  });

  test("ws+unix: connects over a Unix domain socket", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "hawser-unix-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "ws.sock");
    let seen = "";
    const server = createServer((socket) => {
      socket.once("data", (chunk: Buffer) => {
        seen = chunk.toString("latin1");
        const key = /sec-websocket-key: *(\S+)/i.exec(seen)![1]!;
        socket.write(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + `Sec-WebSocket-Accept: ${expectedAccept(key)}\r\n\r\n`,
        );
        socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // text "hi"
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const socket = await connect(`ws+unix:${path}:/over/unix?q=1`, { pingFrequency: 0 });
    assert.equal((await socket.recv()).textData, "hi");
    assert.match(seen, /^GET \/over\/unix\?q=1 HTTP\/1\.1\r\n/);
    assert.match(seen, /\r\nHost: localhost\r\n/i);
    socket.terminate();
    await socket.closed;
  });
});

describe("client handshake response checks", () => {
  test("a wrong Sec-WebSocket-Accept fails the connection: error, then close 1006", async () => {
    const server = await rawServer((connection) =>
      connection.socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n"),
    );
    const { error, events, socket } = await expectFailure(server.url);
    assert.match(error.message, /wrong Sec-WebSocket-Accept/);
    assert.equal(error.status, 101);
    assert.deepEqual(events, ["error rs=0", "close 1006 false rs=3"]);
    assert.equal(socket.readyState, WebSocket.CLOSED);
    assert.equal((await socket.recv()).code, 1006, "recv() reports the end too");
  });

  test("a 101 without Upgrade: websocket fails", async () => {
    const server = await rawServer((connection) => {
      const response = connection.acceptResponse().replace("Upgrade: websocket\r\n", "");
      connection.socket.write(response);
    });
    const { error } = await expectFailure(server.url);
    assert.match(error.message, /Upgrade: websocket/);
  });

  test("a subprotocol the client did not offer fails the connection", async () => {
    const server = await rawServer((connection) => connection.accept(["Sec-WebSocket-Protocol: other"]));
    const none = await expectFailure(server.url);
    assert.match(none.error.message, /subprotocol 'other', which was not offered/);
    const some = await expectFailure(server.url, { protocol: ["chat"] });
    assert.match(some.error.message, /subprotocol 'other'/);
  });

  test("requireProtocol: offering subprotocols and getting none back fails (the browsers' rule)", async () => {
    const server = await rawServer((connection) => connection.accept());
    const { error } = await expectFailure(server.url, { protocol: ["chat"], requireProtocol: true });
    assert.match(error.message, /subprotocols were offered \(chat\) but the server chose none/);
    const socket = await connect(server.url, { protocol: ["chat"], pingFrequency: 0 });
    assert.equal(socket.protocol, "", "by default (RFC 6455) a server may choose none");
    socket.terminate();
  });

  test("the subprotocol the server chose is `protocol`", async () => {
    const server = await rawServer((connection) => connection.accept(["Sec-WebSocket-Protocol: superchat"]));
    const socket = await connect(server.url, { protocol: ["chat", "superchat"], pingFrequency: 0 });
    assert.equal(socket.protocol, "superchat");
    assert.equal(socket.extensions, "");
    socket.terminate();
  });

  test("an extension the client did not offer fails the connection", async () => {
    const server = await rawServer((connection) => connection.accept(["Sec-WebSocket-Extensions: permessage-deflate"]));
    const { error, events } = await expectFailure(server.url, { perMessageDeflate: false });
    assert.match(error.message, /extensions that were not offered: permessage-deflate/);
    assert.deepEqual(events, ["error rs=0", "close 1006 false rs=3"]);
  });

  test("an extension answer beyond the offer fails the connection", async () => {
    const server = await rawServer((connection) => connection.accept(["Sec-WebSocket-Extensions: x-unknown"]));
    const { error } = await expectFailure(server.url);
    assert.match(error.message, /x-unknown/);
  });

  test("an HTTP error answer rejects with its status, headers and body", async () => {
    const server = await rawServer((connection) => connection.socket.end(httpResponse("404 Not Found", ["X-Reason: no-such-room"], "no WebSocket here")));
    const { error, events } = await expectFailure(`${server.url}/missing`);
    assert.equal(error.status, 404);
    assert.equal(error.statusText, "Not Found");
    assert.equal(error.headers["x-reason"], "no-such-room");
    assert.equal(error.body, "no WebSocket here");
    assert.equal(error.url, `${server.url}/missing`);
    assert.match(error.message, /HTTP 404 Not Found instead of 101.*no WebSocket here/);
    assert.deepEqual(events, ["error rs=0", "close 1006 false rs=3"]);
  });

  test("a refused TCP connection rejects with the system error code", async () => {
    const server = await rawServer(() => undefined);
    const port = server.port;
    await server.close();
    const { error } = await expectFailure(`ws://127.0.0.1:${port}/`);
    assert.equal(error.code, "ECONNREFUSED");
    assert.equal(error.status, undefined);
  });

  test("a server that never answers hits handshakeTimeoutMs", async () => {
    const server = await rawServer(() => undefined);
    const started = Date.now();
    const { error, events } = await expectFailure(server.url, { handshakeTimeoutMs: 200 });
    const elapsed = Date.now() - started;
    assert.match(error.message, /timed out after 200 ms/);
    assert.ok(elapsed >= 190 && elapsed < 2000, `timed out after ${elapsed} ms`);
    assert.deepEqual(events, ["error rs=0", "close 1006 false rs=3"]);
  });

  test("close() while connecting abandons the attempt: error, close 1006, connect() rejects", async () => {
    const server = await rawServer(() => undefined);
    const socket = new ClientWebSocket(server.url);
    const events: string[] = [];
    socket.onerror = (error) => events.push(`error ${error.message}`);
    socket.onclose = (event) => events.push(`close ${event.code}`);
    const opening = socket.connect();
    assert.equal(socket.readyState, WebSocket.CONNECTING);
    socket.close();
    await assert.rejects(opening, /close\(\) was called before the connection opened/);
    assert.deepEqual(events, ["error close() was called before the connection opened.", "close 1006"]);
    assert.throws(() => socket.send("x"), /before the connection opened/);
  });

  test("frames sent right behind the 101, in the same packet, are delivered", async () => {
    const server = await rawServer((connection) => {
      const frame = Buffer.from([0x81, 0x05, ...Buffer.from("early"), 0x82, 0x01, 0x07]);
      connection.socket.write(Buffer.concat([Buffer.from(connection.acceptResponse()), frame]));
    });
    const socket = new ClientWebSocket(server.url, { pingFrequency: 0 });
    const seen: string[] = [];
    socket.onopen = () => seen.push("open");
    socket.ontextmessage = (text) => seen.push(`text ${text}`);
    socket.onbinarymessage = (data) => seen.push(`binary ${data.toString("hex")}`);
    await socket.connect();
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (seen.length === 3) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      }),
      2000,
      "both early messages",
    );
    assert.deepEqual(seen, ["open", "text early", "binary 07"]);
    socket.terminate();
  });
});

describe("client handshake redirects", () => {
  /** A server that redirects /hop/N to /hop/N-1 ... and accepts at /hop/0. */
  async function redirectingServer(status: number): Promise<RawServer> {
    return rawServer((connection) => {
      const match = /^\/hop\/(\d+)/.exec(connection.request.path);
      const left = match ? Number(match[1]) : 0;
      if (left > 0) connection.socket.end(httpResponse(`${status} Moved`, [`Location: /hop/${left - 1}`]));
      else connection.accept();
    });
  }

  test("are refused by default, with the status and location in the error", async () => {
    const server = await redirectingServer(302);
    const { error } = await expectFailure(`${server.url}/hop/1`);
    assert.equal(error.status, 302);
    assert.equal(error.headers.location, "/hop/0");
    assert.match(error.message, /redirected \(HTTP 302\) to \/hop\/0; set followRedirects: true/);
    assert.equal(server.connections.length, 1);
  });

  for (const status of [301, 302, 307, 308]) {
    test(`${status} is followed when followRedirects is on`, async () => {
      const server = await redirectingServer(status);
      const socket = await connect(`${server.url}/hop/2`, { followRedirects: true, pingFrequency: 0 });
      assert.deepEqual(
        server.connections.map((connection) => connection.request.path),
        ["/hop/2", "/hop/1", "/hop/0"],
      );
      const keys = new Set(server.connections.map((connection) => connection.request.headers["sec-websocket-key"]));
      assert.equal(keys.size, 3, "every attempt has its own key");
      socket.terminate();
    });
  }

  test("303 and other statuses are not followed", async () => {
    const server = await redirectingServer(303);
    const { error } = await expectFailure(`${server.url}/hop/1`, { followRedirects: true });
    assert.equal(error.status, 303);
  });

  test("stop after maxRedirects", async () => {
    const server = await redirectingServer(307);
    const { error } = await expectFailure(`${server.url}/hop/3`, { followRedirects: true, maxRedirects: 2 });
    assert.match(error.message, /Too many redirects: more than 2/);
    assert.equal(server.connections.length, 3);
    const socket = await connect(`${server.url}/hop/2`, { followRedirects: true, maxRedirects: 2, pingFrequency: 0 });
    socket.terminate();
  });

  test("an absolute http:// location on another server is followed as ws://, without the cookies", async () => {
    const target = await rawServer((connection) => connection.accept());
    const origin = await rawServer((connection) =>
      connection.socket.end(httpResponse("301 Moved Permanently", [`Location: http://127.0.0.1:${target.port}/landed`])),
    );
    const socket = await connect(`${origin.url}/start`, {
      followRedirects: true,
      cookies: { session: "secret" },
      additionalHeaders: { Authorization: "Bearer x", "X-Keep": "yes" },
      pingFrequency: 0,
    });
    assert.equal(origin.connections[0]!.request.headers.cookie, "session=secret");
    const landed = target.connections[0]!.request;
    assert.equal(landed.path, "/landed");
    assert.equal(landed.headers.cookie, undefined, "cookies are not sent to another origin");
    assert.equal(landed.headers.authorization, undefined, "credentials are not sent to another origin");
    assert.equal(landed.headers["x-keep"], "yes");
    socket.terminate();
  });
});

test("a 101 answer is followed by frames: the client's first frame is masked text", async () => {
  const server = await rawServer((connection) => connection.accept());
  const socket = await connect(server.url, { pingFrequency: 0 });
  socket.send("x");
  const frame = await server.connections[0]!.frame(0);
  assert.equal(frame.opcode, Op.text);
  assert.equal(frame.masked, true);
  socket.terminate();
});
