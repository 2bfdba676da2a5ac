// The opening handshake over real sockets (RFC 6455 section 4.2): token lists, key and version
// checks, subprotocol choice, malformed and oversized requests, and the handshake timeout.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebSocketOpcode } from "../../src/protocol/opcodes.js";
import type { Handler } from "../../src/server/handler.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { Op } from "../helpers/frames.js";
import { httpRequest } from "../helpers/http.js";
import { expectedAccept, RawClient, upgradeRequest } from "../helpers/raw-client.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { deferred } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

/** Accepts every upgrade and echoes messages; answers plain requests with "plain". */
const echo: Handler = async (cgi) => {
  if (!cgi.websocketRequested()) {
    cgi.write("plain", true);
    return;
  }
  const socket = cgi.acceptWebsocket();
  for await (const frame of socket) socket.send(frame.opcode === WebSocketOpcode.text ? frame.textData : frame.data);
};

/** Proves a server still works: a fresh `ws` client gets an echo. */
async function assertStillServing(server: TestServer): Promise<void> {
  const peer = await WsPeer.connect(server.url + "/");
  await peer.send("still there?");
  assert.equal((await peer.next()).text, "still there?");
  await peer.close();
}

/** Sends `text` on a fresh connection and reads the HTTP answer. */
async function rawExchange(server: TestServer, text: string | Buffer): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const client = await RawClient.connect(server.port);
  try {
    client.write(text);
    const response = await client.readHttpResponse();
    return { status: response.status, headers: response.headers, body: response.body.toString("utf8") };
  } finally {
    client.destroy();
  }
}

describe("opening handshake", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(echo, { maxHeaderBytes: 4096, maxHeaderCount: 20 });
  });
  after(() => server.close());

  const tokenCases: Array<[string, string]> = [
    ["websocket", "Upgrade"],
    ["WebSocket", "upgrade"],
    ["WEBSOCKET", "keep-alive, UPGRADE"],
    ["websocket", "Upgrade,keep-alive"],
    ["foo/1, websocket", "keep-alive,  Upgrade  "],
  ];
  for (const [upgrade, connection] of tokenCases) {
    test(`accepts Upgrade: "${upgrade}" with Connection: "${connection}" and the connection works`, async () => {
      const client = await RawClient.connect(server.port);
      try {
        const request = upgradeRequest({ upgrade, connection });
        client.write(request.text);
        const response = await client.readHttpResponse();
        assert.equal(response.status, 101);
        assert.equal(response.headers["upgrade"]?.toLowerCase(), "websocket");
        assert.equal(response.headers["connection"]?.toLowerCase(), "upgrade");
        assert.equal(response.headers["sec-websocket-accept"], expectedAccept(request.key));
        assert.equal(response.headers["sec-websocket-protocol"], undefined, "no subprotocol was chosen");
        client.sendFrame({ opcode: Op.text, payload: "over the raw socket" });
        const frame = await client.readFrame();
        assert.equal(frame.opcode, Op.text);
        assert.equal(frame.masked, false, "server frames are never masked (section 5.1)");
        assert.equal(frame.payload.toString(), "over the raw socket");
      } finally {
        client.destroy();
      }
    });
  }

  test("the key is compared exactly as sent: the RFC's own example key gets the RFC's accept value", async () => {
    const client = await RawClient.connect(server.port);
    try {
      client.write(upgradeRequest({ key: "dGhlIHNhbXBsZSBub25jZQ==" }).text);
      const response = await client.readHttpResponse();
      assert.equal(response.status, 101);
      // RFC 6455 section 1.3 gives this pair.
      assert.equal(response.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    } finally {
      client.destroy();
    }
  });

  const badKeys: Array<[string, string | null]> = [
    ["a missing Sec-WebSocket-Key", null],
    ["a key of 15 bytes", Buffer.alloc(15, 1).toString("base64")],
    ["a key of 17 bytes", Buffer.alloc(17, 1).toString("base64")],
    ["a key that is not base64", "this is not base64!!!!=="],
    ["an empty key", ""],
  ];
  for (const [what, key] of badKeys) {
    test(`answers ${what} with 400 and a reason`, async () => {
      const response = await rawExchange(server, upgradeRequest({ key }).text);
      assert.equal(response.status, 400);
      assert.match(response.body, /Sec-WebSocket-Key/);
    });
  }

  test("answers Sec-WebSocket-Version: 8 with 426 and Sec-WebSocket-Version: 13 (section 4.4)", async () => {
    const response = await rawExchange(server, upgradeRequest({ version: "8" }).text);
    assert.equal(response.status, 426);
    assert.equal(response.headers["sec-websocket-version"], "13");
  });

  test("answers a missing Sec-WebSocket-Version with 426 and the supported version", async () => {
    const response = await rawExchange(server, upgradeRequest({ version: null }).text);
    assert.equal(response.status, 426);
    assert.equal(response.headers["sec-websocket-version"], "13");
  });

  test("a `ws` client sees the refusals as HTTP statuses", async () => {
    await assert.rejects(WsPeer.connect(server.url + "/", { protocolVersion: 8 }), { status: 426 });
  });

  test("a non-GET upgrade is not a WebSocket request: websocketRequested() is false and accepting it gives 405", async () => {
    const seen = deferred<boolean>();
    const strict = await startServer((cgi) => {
      seen.resolve(cgi.websocketRequested());
      cgi.acceptWebsocket();
    });
    try {
      const response = await rawExchange(strict, upgradeRequest({ method: "POST" }).text.replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n"));
      assert.equal(await seen.promise, false);
      assert.equal(response.status, 405);
      assert.equal(response.headers["allow"], "GET");
    } finally {
      await strict.close();
    }
  });

  test("a handshake missing Connection: Upgrade or Upgrade: websocket gets 400 from a handler that accepts it", async () => {
    const strict = await startServer((cgi) => {
      cgi.acceptWebsocket();
    });
    try {
      const noConnection = await rawExchange(strict, upgradeRequest({ connection: null }).text);
      assert.equal(noConnection.status, 400);
      assert.match(noConnection.body, /Connection/);
      const keepAliveOnly = await rawExchange(strict, upgradeRequest({ connection: "keep-alive" }).text);
      assert.equal(keepAliveOnly.status, 400);
      const noUpgrade = await rawExchange(strict, upgradeRequest({ upgrade: null }).text);
      assert.equal(noUpgrade.status, 400);
      assert.match(noUpgrade.body, /Upgrade/);
      const otherProtocol = await rawExchange(strict, upgradeRequest({ upgrade: "h2c" }).text);
      assert.equal(otherProtocol.status, 400);
      assert.equal(strict.handlerErrors.length, 0, "a malformed handshake is the client's fault, not a handler failure");
      // A plain GET with no handshake headers at all is the handler's mistake: 500, reported.
      const plain = await rawExchange(strict, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(plain.status, 500);
      assert.match(String(strict.handlerErrors[0]?.error), /check websocketRequested\(\) first/);
    } finally {
      await strict.close();
    }
  });

  test("a GET without Upgrade: websocket reaches the handler as a plain request", async () => {
    const response = await rawExchange(server, upgradeRequest({ upgrade: null, connection: "keep-alive" }).text);
    assert.equal(response.status, 200);
    assert.equal(response.body, "plain");
  });

  describe("subprotocols", () => {
    let chooser: TestServer;
    const accepted: WebSocket[] = [];
    const offered: string[][] = [];
    before(async () => {
      chooser = await startServer((cgi) => {
        offered.push(cgi.requestedProtocols);
        const wanted = cgi.query.get("pick");
        const socket = cgi.acceptWebsocket(wanted ?? undefined);
        accepted.push(socket);
        socket.send(`protocol=${socket.protocol}`);
      });
    });
    after(() => chooser.close());

    test("the handler's choice appears in the 101 answer, as socket.protocol, and in the client", async () => {
      const peer = await WsPeer.connect(chooser.url + "/?pick=chat", { protocols: ["superchat", "chat"] });
      try {
        assert.equal(peer.ws.protocol, "chat");
        assert.equal((await peer.next()).text, "protocol=chat");
        assert.deepEqual(offered.at(-1), ["superchat", "chat"]);
        assert.equal(accepted.at(-1)?.protocol, "chat");
      } finally {
        await peer.close();
      }
    });

    test("the raw 101 answer names exactly one protocol", async () => {
      const client = await RawClient.connect(chooser.port);
      try {
        client.write(upgradeRequest({ path: "/?pick=superchat", headers: [["Sec-WebSocket-Protocol", "superchat, chat"]] }).text);
        const response = await client.readHttpResponse();
        assert.equal(response.status, 101);
        assert.equal(response.headers["sec-websocket-protocol"], "superchat");
      } finally {
        client.destroy();
      }
    });

    test("no choice means no Sec-WebSocket-Protocol header and an empty socket.protocol", async () => {
      const client = await RawClient.connect(chooser.port);
      try {
        client.write(upgradeRequest({ headers: [["Sec-WebSocket-Protocol", "chat"]] }).text);
        const response = await client.readHttpResponse();
        assert.equal(response.status, 101);
        assert.equal(response.headers["sec-websocket-protocol"], undefined);
        assert.equal((await client.readFrame()).payload.toString(), "protocol=");
      } finally {
        client.destroy();
      }
    });

    test("choosing a protocol the client did not offer is a handler error: 500, reported to onHandlerError", async () => {
      const before = chooser.handlerErrors.length;
      await assert.rejects(WsPeer.connect(chooser.url + "/?pick=mqtt", { protocols: ["chat"] }), { status: 500 });
      assert.equal(chooser.handlerErrors.length, before + 1);
      assert.match(String(chooser.handlerErrors.at(-1)?.error), /mqtt.*not offered/);
      await assert.rejects(WsPeer.connect(chooser.url + "/?pick=mqtt"), { status: 500 });
    });
  });

  describe("malformed and oversized requests get an HTTP error and the server goes on", () => {
    const garbage: Array<[string, string | Buffer]> = [
      ["binary garbage", Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a])],
      ["a request line without a target or version", "GET\r\n\r\n"],
      ["an unknown HTTP version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n"],
      ["a header line without a colon", "GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n"],
      ["a TLS ClientHello sent to a plain port", Buffer.from("16030100a5010000a10303", "hex")],
    ];
    for (const [what, bytes] of garbage) {
      test(`${what} gets 400`, async () => {
        const client = await RawClient.connect(server.port);
        try {
          client.write(bytes);
          // Some garbage is only recognised once the client stops sending.
          if (typeof bytes !== "string") client.end();
          const response = await client.readHttpResponse();
          assert.equal(response.status, 400);
          await client.waitForClose();
        } finally {
          client.destroy();
        }
      });
    }

    test("a request head over maxHeaderBytes gets 431 (upgrade and plain request)", async () => {
      const big: Array<[string, string]> = [["X-Filler", "a".repeat(6000)]];
      assert.equal((await rawExchange(server, upgradeRequest({ headers: big }).text)).status, 431);
      assert.equal((await rawExchange(server, `GET / HTTP/1.1\r\nHost: x\r\nX-Filler: ${"b".repeat(6000)}\r\n\r\n`)).status, 431);
    });

    test("a request head under maxHeaderBytes is accepted", async () => {
      const response = await rawExchange(server, upgradeRequest({ headers: [["X-Filler", "a".repeat(3000)]] }).text);
      assert.equal(response.status, 101);
    });

    test("more headers than maxHeaderCount get 431 (upgrade and plain request)", async () => {
      const many = Array.from({ length: 25 }, (_, i): [string, string] => [`X-Header-${i}`, String(i)]);
      assert.equal((await rawExchange(server, upgradeRequest({ headers: many }).text)).status, 431);
      const plain = `GET / HTTP/1.1\r\nHost: x\r\n${many.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
      assert.equal((await rawExchange(server, plain)).status, 431);
    });

    test("exactly maxHeaderCount headers are accepted", async () => {
      // upgradeRequest sends 5 headers itself: Host, Upgrade, Connection, key, version.
      const fifteen = Array.from({ length: 15 }, (_, i): [string, string] => [`X-Header-${i}`, String(i)]);
      assert.equal((await rawExchange(server, upgradeRequest({ headers: fifteen }).text)).status, 101);
    });

    test("after all of the above, the server still serves WebSockets and plain HTTP", async () => {
      await assertStillServing(server);
      const plain = await httpRequest(server.httpUrl + "/");
      assert.equal(plain.body, "plain");
    });
  });
});

describe("handshake timeout", () => {
  const timeoutMs = 500;
  let server: TestServer;
  const stuckHandler = deferred<void>();
  before(async () => {
    server = await startServer(
      async (cgi) => {
        if (cgi.pathInfo === "/stuck") {
          // A handler that never gets round to accepting holds the socket only until the timeout.
          stuckHandler.resolve();
          await new Promise(() => undefined);
        }
        return echo(cgi);
      },
      { handshakeTimeoutMs: timeoutMs },
    );
  });
  after(() => server.close());

  /** Asserts the server cut `client` (408 or a plain close) roughly `timeoutMs` after `start`. */
  async function assertCutInTime(client: RawClient, start: number): Promise<void> {
    const info = await client.waitForClose(timeoutMs + 3000);
    const elapsed = (client.endedAt ?? info.at) - start;
    assert.ok(elapsed >= timeoutMs - 50, `cut after ${elapsed} ms, before the ${timeoutMs} ms timeout`);
    assert.ok(elapsed < timeoutMs + 2000, `cut only after ${elapsed} ms`);
    const answer = client.takeAll().toString("latin1");
    if (answer !== "") assert.match(answer, /^HTTP\/1\.1 408 /);
  }

  test("a client that connects and sends nothing is cut", async () => {
    const start = Date.now();
    const client = await RawClient.connect(server.port);
    try {
      await assertCutInTime(client, start);
    } finally {
      client.destroy();
    }
  });

  test("a client that sends its request a byte at a time, each well inside the timeout, is cut", async () => {
    const start = Date.now();
    const client = await RawClient.connect(server.port);
    const text = upgradeRequest().text;
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < text.length && !client.isClosed) client.write(text[sent++]!);
    }, 100);
    try {
      await assertCutInTime(client, start);
      assert.ok(sent < text.length, "the whole request went out before the cut: the test proves nothing");
    } finally {
      clearInterval(trickle);
      client.destroy();
    }
  });

  test("an upgrade the handler never accepts is answered with 408", async () => {
    const client = await RawClient.connect(server.port);
    try {
      const start = Date.now();
      client.write(upgradeRequest({ path: "/stuck" }).text);
      await stuckHandler.promise;
      const response = await client.readHttpResponse(timeoutMs + 3000);
      const elapsed = Date.now() - start;
      assert.equal(response.status, 408);
      assert.ok(elapsed >= timeoutMs - 50 && elapsed < timeoutMs + 2000, `408 after ${elapsed} ms`);
      await client.waitForClose();
    } finally {
      client.destroy();
    }
  });

  test("an accepted WebSocket is not cut by the handshake timeout", async () => {
    const peer = await WsPeer.connect(server.url + "/");
    try {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs + 400));
      await peer.send("after the timeout");
      assert.equal((await peer.next()).text, "after the timeout");
    } finally {
      await peer.close();
    }
  });

  test("the server still serves after cutting slow clients", () => assertStillServing(server));
});
