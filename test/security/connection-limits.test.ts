// maxConnections and maxConnectionsPerIp under attack: floods of slow and of complete
// handshakes from one loopback address (127.0.0.2) while another (127.0.0.1) still gets in;
// the client address behind a trusted proxy; a HandlerHost mounted without the accept hook;
// WebSocket streams of one HTTP/2 connection.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { connect } from "../../src/client/connect.js";
import { connectHttp2 } from "../../src/client/http2.js";
import type { WebSocketHandshakeError } from "../../src/client/errors.js";
import type { Cgi } from "../../src/server/cgi.js";
import { HandlerHost } from "../../src/server/handler.js";
import type { HandlerOptions } from "../../src/server/handler.js";
import { serve } from "../../src/server/serve.js";
import { makeCertificate, openssl, type Certificate } from "../helpers/tls-certificate.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { closed, readAnswer, slowHandshake, tcpConnect, upgrade, type Answer } from "./requests.js";

const ATTACKER = "127.0.0.2";

/** Echoes every message; a plain request gets a line of text. */
function echo(cgi: Cgi): void {
  if (!cgi.websocketRequested()) {
    cgi.write("echo server\n", true);
    return;
  }
  const socket = cgi.acceptWebsocket();
  socket.onmessage = (event) => socket.send(event.data);
}

async function startEcho(options: HandlerOptions & { http2?: false }): Promise<TestServer & { warnings: string[] }> {
  const warnings: string[] = [];
  const server = await startServer(echo, { onWarning: (message) => warnings.push(message), ...options });
  return Object.assign(server, { warnings });
}

/** A hawser client from 127.0.0.1 gets its message echoed: the server still serves others. */
async function assertServes(url: string): Promise<void> {
  const client = await withTimeout(connect(url), 5000, "a well-behaved client's connection");
  client.send("still here");
  assert.equal((await withTimeout(client.recv(), 5000, "the echo")).textData, "still here");
  client.close();
  await client.closed;
}

function assertRefused(answer: Answer, limit: RegExp): void {
  assert.equal(answer.status, 503, `expected 503, got ${answer.status} ${answer.body}`);
  assert.equal(answer.headers["retry-after"], "5");
  assert.match(answer.body, limit);
}

describe("maxConnectionsPerIp", () => {
  test("a slow-handshake flood from one address holds its own slots and no more; another address still gets in", async (t) => {
    const server = await startEcho({ maxConnectionsPerIp: 20, handshakeTimeoutMs: 8000 });
    const slow: Socket[] = [];
    try {
      // Twenty handshakes in progress, each stopped after its first header (slowloris).
      for (let i = 0; i < 20; i++) slow.push(await slowHandshake(server.port, ATTACKER));
      const answers: Answer[] = [];
      for (let i = 0; i < 30; i++) answers.push(await upgrade(server.port, { from: ATTACKER }));
      for (const answer of answers) assertRefused(answer, /Too many connections from your address.*maxConnectionsPerIp/);
      await assertServes(server.url);
      // One warning for the thirty refusals, naming the address and the option.
      assert.equal(server.warnings.length, 1, server.warnings.join("\n"));
      assert.match(server.warnings[0]!, /refused a connection from 127\.0\.0\.2: it has 20 connections, the maxConnectionsPerIp/);
      t.diagnostic(`attacker: 20 handshakes held open, 30 requests answered 503; 127.0.0.1 echoed normally; warnings: ${server.warnings.length}`);
      // The slots come back when the slow handshakes go.
      for (const socket of slow) socket.destroy();
      await waitUntil(() => server.connections.filter((c) => !c.destroyed).length === 0, 3000, "the server to see the slow connections close");
      const again = await upgrade(server.port, { from: ATTACKER });
      assert.equal(again.status, 101);
      again.socket.destroy();
    } finally {
      for (const socket of slow) socket.destroy();
      await server.close();
    }
  });

  test("a flood of complete handshakes: the first N get in, the rest get 503, and other addresses are untouched", async (t) => {
    const server = await startEcho({ maxConnectionsPerIp: 50 });
    const opened: Answer[] = [];
    try {
      const answers = await Promise.all(Array.from({ length: 300 }, () => upgrade(server.port, { from: ATTACKER })));
      const accepted = answers.filter((a) => a.status === 101);
      opened.push(...accepted);
      const refused = answers.filter((a) => a.status !== 101);
      assert.equal(accepted.length, 50);
      for (const answer of refused) assertRefused(answer, /maxConnectionsPerIp/);
      await assertServes(server.url);
      t.diagnostic(`attacker: ${accepted.length} WebSockets of 300 attempts, ${refused.length} answered 503; 127.0.0.1 echoed normally`);
    } finally {
      for (const answer of opened) answer.socket.destroy();
      await server.close();
    }
  });

  test("a plain HTTP request on a connection past the limit is answered 503 too, with Connection: close", async () => {
    const server = await startEcho({ maxConnectionsPerIp: 1 });
    const held = await slowHandshake(server.port, ATTACKER);
    try {
      const socket = await tcpConnect(server.port, ATTACKER);
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      const answer = await readAnswer(socket);
      assertRefused(answer, /maxConnectionsPerIp/);
      assert.equal(answer.headers.connection, "close");
      await closed(socket);
    } finally {
      held.destroy();
      await server.close();
    }
  });

  test("a connection past the limit that never sends its request is cut after a short grace", async () => {
    // The grace is handshakeTimeoutMs when that is shorter than 2 s; the slow handshake holding
    // the slot lives as long, so the silent one surely arrives while the slot is taken.
    const server = await startEcho({ maxConnectionsPerIp: 1, handshakeTimeoutMs: 1500 });
    const held = await slowHandshake(server.port, ATTACKER);
    try {
      const silent = await tcpConnect(server.port, ATTACKER);
      await closed(silent, 6000);
    } finally {
      held.destroy();
      await server.close();
    }
  });
});

describe("maxConnections", () => {
  test("counts every address, handshakes in progress included; past it 503 naming maxConnections", async () => {
    const server = await startEcho({ maxConnections: 10 });
    const slow: Socket[] = [];
    try {
      for (let i = 0; i < 10; i++) slow.push(await slowHandshake(server.port, ATTACKER));
      assertRefused(await upgrade(server.port), /at its limit of 10 connections \(maxConnections\)/);
      assert.match(server.warnings.join("\n"), /the server has 10 connections, its maxConnections/);
      slow.pop()!.destroy();
      await waitUntil(() => server.connections.filter((c) => !c.destroyed).length <= 9, 3000, "a slot to free");
      await sleep(20);
      await assertServes(server.url);
    } finally {
      for (const socket of slow) socket.destroy();
      await server.close();
    }
  });
});

describe("behind a reverse proxy", () => {
  const forwarded = (address: string): Array<[string, string]> => [["X-Forwarded-For", address]];

  test("with trustProxy, each forwarded client address has its own allowance; the proxy's own address has none", async () => {
    const server = await startEcho({ trustProxy: true, maxConnectionsPerIp: 2 });
    const opened: Answer[] = [];
    try {
      for (let i = 0; i < 2; i++) opened.push(await upgrade(server.port, { headers: forwarded("203.0.113.1") }));
      assert.deepEqual(
        opened.map((a) => a.status),
        [101, 101],
      );
      assertRefused(await upgrade(server.port, { headers: forwarded("203.0.113.1") }), /maxConnectionsPerIp/);
      // A client cannot escape by naming another address first: the proxy's entry is the last.
      assertRefused(await upgrade(server.port, { headers: forwarded("198.51.100.9, 203.0.113.1") }), /maxConnectionsPerIp/);
      const other = await upgrade(server.port, { headers: forwarded("203.0.113.2") });
      assert.equal(other.status, 101);
      opened.push(other);
      // Slow handshakes from the proxy count towards maxConnections only.
      const slow = await Promise.all(Array.from({ length: 5 }, () => slowHandshake(server.port)));
      const more = await upgrade(server.port, { headers: forwarded("203.0.113.3") });
      assert.equal(more.status, 101);
      opened.push(more);
      for (const socket of slow) socket.destroy();
    } finally {
      for (const answer of opened) answer.socket.destroy();
      await server.close();
    }
  });

  test("without trustProxy, X-Forwarded-For is not believed: every request counts under the peer", async () => {
    const server = await startEcho({ maxConnectionsPerIp: 2 });
    const opened: Answer[] = [];
    try {
      for (const address of ["203.0.113.1", "203.0.113.2"]) opened.push(await upgrade(server.port, { headers: forwarded(address) }));
      assertRefused(await upgrade(server.port, { headers: forwarded("203.0.113.3") }), /maxConnectionsPerIp/);
    } finally {
      for (const answer of opened) answer.socket.destroy();
      await server.close();
    }
  });
});

describe("HandlerHost mounted on the application's server", () => {
  let app: Server;
  let port: number;
  before(async () => {
    const host = new HandlerHost(echo, { maxConnectionsPerIp: 2, onWarning: () => undefined });
    app = createServer((_req, res) => res.end("app\n"));
    app.on("upgrade", host.handleUpgrade);
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    port = (app.address() as AddressInfo).port;
  });
  after(() => {
    app.closeAllConnections();
    return new Promise<void>((resolve) => app.close(() => resolve()));
  });

  test("without the accept hook, WebSockets count from their request: the third from one address gets 503", async () => {
    const opened = [await upgrade(port, { from: ATTACKER }), await upgrade(port, { from: ATTACKER })];
    try {
      assert.deepEqual(
        opened.map((a) => a.status),
        [101, 101],
      );
      assertRefused(await upgrade(port, { from: ATTACKER }), /maxConnectionsPerIp/);
      const other = await upgrade(port);
      assert.equal(other.status, 101);
      other.socket.destroy();
    } finally {
      for (const answer of opened) answer.socket.destroy();
    }
  });
});

describe("HTTP/2 (RFC 8441)", { skip: openssl.skip }, () => {
  let certificate: Certificate;
  before(() => {
    certificate = makeCertificate();
  });
  after(() => certificate?.remove());

  test("each WebSocket stream counts beside its connection: past the limit a stream gets 503", async () => {
    const server = await serve(echo, {
      tls: { cert: certificate.cert, key: certificate.key },
      http2: true,
      host: "127.0.0.1",
      port: 0,
      maxConnectionsPerIp: 3,
      onWarning: () => undefined,
    });
    const { connect: connectSession } = await import("node:http2");
    const session = connectSession(server.url.replace("wss:", "https:"), { ca: certificate.cert });
    try {
      // The HTTP/2 connection is one, each stream one more: two streams fit in three.
      const one = await connectHttp2(server.url, { ca: certificate.cert, session });
      const two = await connectHttp2(server.url, { ca: certificate.cert, session });
      const third = await connectHttp2(server.url, { ca: certificate.cert, session }).then(
        () => assert.fail("a third stream must be refused"),
        (error: unknown) => error as WebSocketHandshakeError,
      );
      assert.equal(third.status, 503);
      one.close();
      await one.closed;
      await sleep(50);
      const again = await connectHttp2(server.url, { ca: certificate.cert, session });
      again.send("h2");
      assert.equal((await again.recv()).textData, "h2");
      again.close();
      two.close();
      await Promise.all([again.closed, two.closed]);
    } finally {
      session.close();
      await server.close();
    }
  });
});
