// hawser's defences on hawser/ws's WebSocketServer: off unless given (so a program written for
// `ws` behaves the same), and when given, the same origin check, connection limits and message
// rate limit as serve(), in both server modes (`port`, and `noServer` with handleUpgrade()).
// Raw requests from chosen loopback addresses (127.0.0.2 is the attacker) as in test/security/.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { deferred, waitUntil, withTimeout } from "../helpers/wait.js";
import { closed, readAnswer, slowHandshake, tcpConnect, upgrade, type Answer } from "../security/requests.js";
import { closeOf, EVENT_MS, listen, messages, next, open, shutdown, WebSocket, WebSocketServer } from "./helpers.js";
import type { ServerOptions } from "../../src/ws/index.js";

const ATTACKER = "127.0.0.2";

function assertUpgraded(answer: Answer, what: string): void {
  assert.equal(answer.status, 101, `${what}: expected 101, got ${answer.status} ${answer.body}`);
  answer.socket.destroy();
}

function assertRefused(answer: Answer, status: 403 | 503, body: RegExp): void {
  assert.equal(answer.status, status, `expected ${status}, got ${answer.status} ${answer.body}`);
  assert.match(answer.body, body);
  if (status === 503) assert.equal(answer.headers["retry-after"], "5");
}

/**
 * Counts the server's side of connections until they close. Its "close" listener is added after
 * the server's own, so once the count drops, the server has released the connection's slot.
 */
function countOpen(): { add(socket: Duplex): void; readonly open: number } {
  const sockets = new Set<Duplex>();
  return {
    add(socket) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    },
    get open() {
      return sockets.size;
    },
  };
}

/** A `port` server that echoes, collecting its warnings and counting its TCP connections. */
async function echoServer(
  options: Omit<ServerOptions, "port">,
): Promise<{ wss: WebSocketServer; url: string; port: number; warnings: string[]; connections: ReturnType<typeof countOpen> }> {
  const warnings: string[] = [];
  const started = await listen({ onWarning: (message) => warnings.push(message), ...options });
  const connections = countOpen();
  started.wss._server!.on("connection", (socket: Socket) => connections.add(socket));
  started.wss.on("connection", (ws: WebSocket) => {
    ws.on("error", () => undefined);
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return { ...started, warnings, connections };
}

/**
 * An application's node:http server that hands upgrades to a `noServer` WebSocketServer through
 * handleUpgrade(), and answers its own plain requests.
 */
async function mounted(options: Omit<ServerOptions, "noServer" | "port" | "server">): Promise<{
  app: Server;
  wss: WebSocketServer;
  port: number;
  url: string;
  warnings: string[];
  /** The upgrade sockets handed to handleUpgrade() and not yet closed. */
  upgrades: ReturnType<typeof countOpen>;
  close(): Promise<void>;
}> {
  const warnings: string[] = [];
  const wss = new WebSocketServer({ onWarning: (message) => warnings.push(message), ...options, noServer: true });
  wss.on("connection", (ws: WebSocket) => {
    ws.on("error", () => undefined);
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const app = createServer((_req, res) => res.end("the application\n"));
  const upgrades = countOpen();
  app.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    upgrades.add(socket);
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  const port = (app.address() as AddressInfo).port;
  return {
    app,
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    warnings,
    upgrades,
    close: async () => {
      await shutdown(wss);
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    },
  };
}

/** A hawser/ws client from 127.0.0.1 connects and gets its message echoed. */
async function assertServes(url: string): Promise<void> {
  const client = await open(url);
  const echoed = messages(client, 1);
  client.send("still here");
  const [[data]] = await echoed;
  assert.equal((data as Buffer).toString(), "still here");
  client.close();
  await closeOf(client);
}

describe("hawser/ws without the options: ws's behaviour", () => {
  test("a foreign Origin and Origin: null are accepted, as ws accepts them", async () => {
    const { wss, port } = await echoServer({});
    try {
      assertUpgraded(await upgrade(port, { origin: "https://evil.example" }), "a foreign origin");
      assertUpgraded(await upgrade(port, { origin: "null" }), "Origin: null");
    } finally {
      await shutdown(wss);
    }
  });

  test("a burst of 3,000 messages is read at once, never paused or closed (no message rate limit)", async () => {
    const { wss, url, warnings } = await echoServer({});
    try {
      const accepted = next<[WebSocket]>(wss, "connection");
      const client = await open(url);
      const [server] = await accepted;
      let received = 0;
      const all = deferred();
      server.on("message", () => {
        if (++received === 3000) all.resolve();
      });
      for (let i = 0; i < 3000; i++) client.send("x");
      await withTimeout(all.promise, EVENT_MS, "3,000 messages");
      assert.equal(client.readyState, WebSocket.OPEN);
      assert.deepEqual(warnings, []);
      client.terminate();
    } finally {
      await shutdown(wss);
    }
  });

  test("many connections from one address are all accepted (no connection limits)", async () => {
    const { wss, port } = await echoServer({});
    const answers: Answer[] = [];
    try {
      answers.push(...(await Promise.all(Array.from({ length: 40 }, () => upgrade(port, { from: ATTACKER })))));
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([101]));
    } finally {
      for (const answer of answers) answer.socket.destroy();
      await shutdown(wss);
    }
  });
});

describe("allowedOrigins", () => {
  test("port mode: foreign origins and null get 403 naming the option; the own origin, listed ones and no Origin get in", async () => {
    const { wss, port } = await echoServer({ allowedOrigins: ["https://app.example"] });
    try {
      assertRefused(await upgrade(port, { origin: "https://evil.example" }), 403, /Origin 'https:\/\/evil\.example'.*allowedOrigins/);
      assertRefused(await upgrade(port, { origin: "null" }), 403, /allowedOrigins/);
      assertUpgraded(await upgrade(port, { origin: `http://127.0.0.1:${port}` }), "the server's own origin");
      assertUpgraded(await upgrade(port, { origin: "https://app.example" }), "a listed origin");
      assertUpgraded(await upgrade(port, {}), "no Origin");
    } finally {
      await shutdown(wss);
    }
  });

  test("noServer mode: refused before verifyClient runs and without wsClientError, as a refusing verifyClient answers", async () => {
    const verified: string[] = [];
    const clientErrors: Error[] = [];
    const server = await mounted({
      allowedOrigins: ["https://app.example"],
      verifyClient: (info: { origin: string }) => {
        verified.push(info.origin ?? "");
        return true;
      },
    });
    server.wss.on("wsClientError", (error: Error, socket: Duplex) => {
      clientErrors.push(error);
      socket.destroy();
    });
    try {
      const refused = await upgrade(server.port, { origin: "https://evil.example" });
      assertRefused(refused, 403, /allowedOrigins/);
      assert.equal(refused.headers.connection, "close");
      await closed(refused.socket);
      assertRefused(await upgrade(server.port, { origin: "null" }), 403, /allowedOrigins/);
      assertUpgraded(await upgrade(server.port, { origin: `http://127.0.0.1:${server.port}` }), "the own origin");
      assertUpgraded(await upgrade(server.port, {}), "no Origin");
      assert.deepEqual(verified, [`http://127.0.0.1:${server.port}`, ""], "verifyClient saw only the requests that passed");
      assert.deepEqual(clientErrors, []);
    } finally {
      await server.close();
    }
  });

  test("server mode (an application's node:http server given as `server`): the same refusals; its own requests untouched", async () => {
    const app = createServer((_req, res) => res.end("the application\n"));
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    const port = (app.address() as AddressInfo).port;
    const wss = new WebSocketServer({ server: app, allowedOrigins: [], maxConnectionsPerIp: 1, onWarning: () => undefined });
    const held: Answer[] = [];
    try {
      assertRefused(await upgrade(port, { origin: "https://evil.example" }), 403, /allowedOrigins/);
      held.push(await upgrade(port, { origin: `http://127.0.0.1:${port}`, from: ATTACKER }));
      assert.equal(held[0]!.status, 101);
      assertRefused(await upgrade(port, { from: ATTACKER }), 503, /maxConnectionsPerIp/);
      const plain = await tcpConnect(port, ATTACKER);
      plain.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      assert.equal((await readAnswer(plain)).body, "the application\n");
      plain.destroy();
      assertUpgraded(await upgrade(port, {}), "another address");
    } finally {
      for (const answer of held) answer.socket.destroy();
      await shutdown(wss);
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });

  test('a function decides alone, and "*" accepts every origin', async () => {
    const decided = await echoServer({ allowedOrigins: (origin) => origin === "https://partner.example" });
    const any = await echoServer({ allowedOrigins: "*" });
    try {
      assertUpgraded(await upgrade(decided.port, { origin: "https://partner.example" }), "the function's choice");
      assertRefused(await upgrade(decided.port, { origin: `http://127.0.0.1:${decided.port}` }), 403, /allowedOrigins function/);
      assertRefused(await upgrade(decided.port, {}), 403, /allowedOrigins function/);
      assertUpgraded(await upgrade(any.port, { origin: "null" }), '"*" and null');
    } finally {
      await shutdown(decided.wss);
      await shutdown(any.wss);
    }
  });

  test("with trustProxy, the own origin is the one X-Forwarded-Proto and -Host name", async () => {
    const { wss, port } = await echoServer({ allowedOrigins: [], trustProxy: true });
    try {
      const headers: Array<[string, string]> = [
        ["X-Forwarded-Proto", "https"],
        ["X-Forwarded-Host", "chat.example"],
      ];
      assertUpgraded(await upgrade(port, { origin: "https://chat.example", headers }), "the origin the proxy names");
      assertRefused(await upgrade(port, { origin: `http://127.0.0.1:${port}`, headers }), 403, /own origin is 'https:\/\/chat\.example'/);
    } finally {
      await shutdown(wss);
    }
  });

  test("a malformed option throws when the server is made, before it listens", () => {
    assert.throws(() => new WebSocketServer({ port: 0, allowedOrigins: ["https://*.example"] }), /patterns are not supported/);
    assert.throws(() => new WebSocketServer({ noServer: true, maxConnectionsPerIp: 0 }), /maxConnectionsPerIp must be/);
    assert.throws(() => new WebSocketServer({ noServer: true, messageRateLimit: { action: "drop" as "close" } }), /action must be "pause" or "close"/);
  });
});

describe("maxConnectionsPerIp", () => {
  test("port mode: a flood from 127.0.0.2 gets 503 + Retry-After past the limit, while 127.0.0.1 still gets in", async (t) => {
    const server = await echoServer({ maxConnectionsPerIp: 10 });
    const answers: Answer[] = [];
    try {
      answers.push(...(await Promise.all(Array.from({ length: 60 }, () => upgrade(server.port, { from: ATTACKER })))));
      const accepted = answers.filter((a) => a.status === 101);
      const refused = answers.filter((a) => a.status !== 101);
      assert.equal(accepted.length, 10);
      for (const answer of refused) assertRefused(answer, 503, /Too many connections from your address.*maxConnectionsPerIp/);
      await assertServes(server.url);
      assert.equal(server.warnings.length, 1, server.warnings.join("\n"));
      assert.match(server.warnings[0]!, /refused a connection from 127\.0\.0\.2: it has 10 connections, the maxConnectionsPerIp/);
      t.diagnostic(`127.0.0.2: ${accepted.length} of 60 upgraded, ${refused.length} answered 503; 127.0.0.1 echoed`);
    } finally {
      for (const answer of answers) answer.socket.destroy();
      await shutdown(server.wss);
    }
  });

  test("port mode: slow handshakes hold their address's slots; a plain request past the limit gets 503 too; slots come back", async () => {
    const server = await echoServer({ maxConnectionsPerIp: 5 });
    const slow: Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) slow.push(await slowHandshake(server.port, ATTACKER));
      assertRefused(await upgrade(server.port, { from: ATTACKER }), 503, /maxConnectionsPerIp/);
      const plain = await tcpConnect(server.port, ATTACKER);
      plain.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      const answer = await readAnswer(plain);
      assertRefused(answer, 503, /maxConnectionsPerIp/);
      assert.equal(answer.headers.connection, "close");
      await assertServes(server.url);
      for (const socket of slow) socket.destroy();
      await waitUntil(() => server.connections.open === 0, EVENT_MS, "the server to see the slow handshakes close");
      assertUpgraded(await upgrade(server.port, { from: ATTACKER }), "127.0.0.2 once its slow handshakes left");
    } finally {
      for (const socket of slow) socket.destroy();
      await shutdown(server.wss);
    }
  });

  test("noServer mode: counted from the upgrade request, released at close; the application's own requests are untouched", async () => {
    const server = await mounted({ maxConnectionsPerIp: 4 });
    const answers: Answer[] = [];
    try {
      answers.push(...(await Promise.all(Array.from({ length: 20 }, () => upgrade(server.port, { from: ATTACKER })))));
      assert.equal(answers.filter((a) => a.status === 101).length, 4);
      for (const answer of answers.filter((a) => a.status !== 101)) assertRefused(answer, 503, /maxConnectionsPerIp/);
      await assertServes(server.url);
      // A plain request from the same address is the application's, not the limit's.
      const plain = await tcpConnect(server.port, ATTACKER);
      plain.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      const page = await readAnswer(plain);
      assert.equal(page.status, 200);
      assert.equal(page.body, "the application\n");
      plain.destroy();
      // One WebSocket leaves: its slot is free again.
      answers.find((a) => a.status === 101)!.socket.destroy();
      await waitUntil(() => server.upgrades.open === 3, EVENT_MS, "the server to see the socket close");
      assertUpgraded(await upgrade(server.port, { from: ATTACKER }), "127.0.0.2 after one of its sockets closed");
    } finally {
      for (const answer of answers) answer.socket.destroy();
      await server.close();
    }
  });
});

describe("maxConnections", () => {
  test("port mode: handshakes in progress count from the TCP accept; past it 503 for every address", async () => {
    const server = await echoServer({ maxConnections: 3 });
    const slow: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) slow.push(await slowHandshake(server.port, ATTACKER));
      assertRefused(await upgrade(server.port), 503, /at its limit of 3 connections \(maxConnections\)/);
      assert.match(server.warnings.join("\n"), /the server has 3 connections, its maxConnections/);
      slow.pop()!.destroy();
      await waitUntil(() => server.connections.open === 2, EVENT_MS, "the server to see a slow handshake close");
      assertUpgraded(await upgrade(server.port), "a client once a slow handshake left");
    } finally {
      for (const socket of slow) socket.destroy();
      await shutdown(server.wss);
    }
  });

  test("noServer mode: a handshake waiting on an asynchronous verifyClient counts", async () => {
    const pending: Array<(verified: boolean) => void> = [];
    const server = await mounted({
      maxConnections: 2,
      verifyClient: (_info: unknown, done: (verified: boolean) => void) => {
        pending.push(done);
      },
    });
    try {
      const first = upgrade(server.port);
      const second = upgrade(server.port);
      await waitUntil(() => pending.length === 2, EVENT_MS, "two handshakes to reach verifyClient");
      assertRefused(await upgrade(server.port), 503, /maxConnections/);
      assert.equal(pending.length, 2, "the refused one never reached verifyClient");
      pending[0]!(false);
      const refusedByVerify = await first;
      assert.equal(refusedByVerify.status, 401);
      // Its slot came back with its socket; a new handshake reaches verifyClient.
      await waitUntil(() => server.upgrades.open === 1, EVENT_MS, "the server to close the refused socket");
      const third = upgrade(server.port);
      await waitUntil(() => pending.length === 3, EVENT_MS, "a third handshake to reach verifyClient");
      pending[1]!(true);
      pending[2]!(true);
      assertUpgraded(await second, "the second");
      assertUpgraded(await third, "the third");
    } finally {
      for (const done of pending) done(false);
      await server.close();
    }
  });
});

describe("messageRateLimit", () => {
  test('action "close": past the burst the client is closed with 1008 and the server socket reports WS_ERR_MESSAGE_RATE_LIMIT', async () => {
    const { wss, url, warnings } = await echoServer({ messageRateLimit: { messagesPerSecond: 20, burstMessages: 20, action: "close" } });
    try {
      const accepted = next<[WebSocket]>(wss, "connection");
      const client = await open(url);
      const [server] = await accepted;
      let received = 0;
      server.on("message", () => received++);
      const serverError = next<[Error & { code?: string }]>(server, "error");
      const clientClosed = closeOf(client);
      for (let i = 0; i < 200; i++) client.send(`message ${i}`);
      const { code } = await clientClosed;
      assert.equal(code, 1008);
      const [error] = await serverError;
      assert.equal(error.code, "WS_ERR_MESSAGE_RATE_LIMIT");
      assert.ok(received <= 21, `the server took ${received} messages past a burst of 20`);
      assert.match(warnings.join("\n"), /sent faster than messageRateLimit allows .*closed with 1008/);
    } finally {
      await shutdown(wss);
    }
  });

  test("pings count: a ping flood is closed with 1008 too", async () => {
    const { wss, url } = await echoServer({ messageRateLimit: { messagesPerSecond: 20, burstMessages: 20, action: "close" } });
    try {
      const accepted = next<[WebSocket]>(wss, "connection");
      const client = await open(url);
      const [server] = await accepted;
      let pings = 0;
      server.on("ping", () => pings++);
      const clientClosed = closeOf(client);
      for (let i = 0; i < 200; i++) client.ping();
      assert.equal((await clientClosed).code, 1008);
      assert.ok(pings <= 21, `the server took ${pings} pings past a burst of 20`);
    } finally {
      await shutdown(wss);
    }
  });

  test('action "pause": everything is delivered, in order, at the rate: the socket stays open', async (t) => {
    const rate = { messagesPerSecond: 100, burstMessages: 10, action: "pause" as const };
    const { wss, url, warnings } = await echoServer({ messageRateLimit: rate });
    try {
      const accepted = next<[WebSocket]>(wss, "connection");
      const client = await open(url);
      const [server] = await accepted;
      const count = 110;
      const received: string[] = [];
      const all = deferred();
      server.on("message", (data) => {
        if (received.push((data as Buffer).toString()) === count) all.resolve();
      });
      const started = performance.now();
      for (let i = 0; i < count; i++) client.send(`message ${i}`);
      await withTimeout(all.promise, 15_000, `${count} messages`);
      const elapsedMs = performance.now() - started;
      assert.deepEqual(
        received,
        Array.from({ length: count }, (_, i) => `message ${i}`),
      );
      assert.equal(client.readyState, WebSocket.OPEN);
      assert.equal(server.readyState, WebSocket.OPEN);
      assert.match(warnings.join("\n"), /reading from it paused until its budget refilled/);
      // The budget cannot grant more than the burst plus the rate: 100 messages past the burst
      // take at least a second (a lower bound, which a slow machine only makes longer).
      const earliestMs = ((count - rate.burstMessages) / rate.messagesPerSecond) * 1000;
      assert.ok(elapsedMs >= earliestMs * 0.9, `${count} messages took ${elapsedMs.toFixed(0)} ms; the rate allows no fewer than ${earliestMs} ms`);
      t.diagnostic(`${count} messages at ${rate.messagesPerSecond}/s (burst ${rate.burstMessages}): all delivered in ${elapsedMs.toFixed(0)} ms`);
      client.close();
      await closeOf(client);
    } finally {
      await shutdown(wss);
    }
  });

  test("noServer mode: the same limit applies to sockets made by handleUpgrade()", async () => {
    const server = await mounted({ messageRateLimit: { messagesPerSecond: 20, burstMessages: 20, action: "close" } });
    try {
      const client = await open(server.url);
      const clientClosed = closeOf(client);
      for (let i = 0; i < 200; i++) client.send("x");
      assert.equal((await clientClosed).code, 1008);
    } finally {
      await server.close();
    }
  });
});
