// A peer that disappears without a FIN or a reset (a pulled cable, a NAT that forgot the
// connection): nothing arrives any more, yet TCP reports no error and writes still succeed.
// Only ping/pong can tell (RFC 6455 section 5.5.2). A proxy between the two ends swallows all
// traffic from one moment on; the side with keepalive must close with 1006 (wasClean false)
// within pingIntervalMs + pongTimeoutMs, plus the timer's granularity.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "../../src/client/connect.js";
import { ReadyState } from "../../src/protocol/opcodes.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, withTimeout } from "../helpers/wait.js";
import { assertStillEchoing, BlackholeProxy } from "./attack.js";

const PING_MS = 100;
const PONG_MS = 200;
/** Keepalive runs every min(ping, pong) ms; detection may take up to two more ticks. */
const TICK = Math.min(PING_MS, PONG_MS);
const SLACK_MS = 400;

test("server: a client that vanishes without a FIN is closed with 1006 after the ping goes unanswered", async (t) => {
  const server = await startSocketServer({ pingIntervalMs: PING_MS, pongTimeoutMs: PONG_MS }, (socket) => {
    socket.onmessage = (event) => socket.send(event.data);
  });
  const proxy = await BlackholeProxy.start(server.port);
  try {
    // The client answers pings but sends none of its own, so only the server can notice.
    const client = await connect(proxy.url, { pingFrequency: 0 });
    const { socket } = await server.nextSocket();
    const errors: Error[] = [];
    socket.onerror = (error) => errors.push(error);
    // While the proxy passes traffic, pings are answered and the connection stays up.
    await sleep(4 * (PING_MS + PONG_MS));
    assert.equal(socket.readyState, ReadyState.OPEN, "a live peer is not cut");
    proxy.blackhole();
    const vanished = Date.now();
    const event = await withTimeout(socket.closed, 5000, "the server to notice the vanished client");
    const after = Date.now() - vanished;
    t.diagnostic(`noticed after ${after} ms (ping interval ${PING_MS} ms, pong timeout ${PONG_MS} ms)`);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.match(errors[0]?.message ?? "", /ping/, "onerror says the ping went unanswered");
    // A ping sent just before the blackhole may have lost its pong: allow some of the timeout.
    assert.ok(after >= PONG_MS / 2, `cut after ${after} ms, before a pong could have come`);
    assert.ok(after <= PING_MS + PONG_MS + 2 * TICK + SLACK_MS, `cut only after ${after} ms`);
    assert.equal(server.server.host.clients.size, 0);
    client.terminate();
    await client.closed;
    await assertStillEchoing(server.url);
  } finally {
    await proxy.close();
    await server.close();
  }
});

test("client: a server that vanishes without a FIN is closed with 1006 after the ping goes unanswered", async (t) => {
  // The server does not ping, so only the client can notice.
  const server = await startSocketServer({ pingIntervalMs: 0, closeTimeoutMs: 200 }, (socket) => {
    socket.onmessage = (event) => socket.send(event.data);
  });
  const proxy = await BlackholeProxy.start(server.port);
  const inactivity = PING_MS + PONG_MS;
  try {
    const client = await connect(proxy.url, { pingFrequency: PING_MS, timeoutFromInactivity: inactivity });
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    await sleep(4 * inactivity);
    assert.equal(client.readyState, ReadyState.OPEN, "a live server is not cut");
    client.send("through the proxy");
    assert.equal((await withTimeout(client.recv(), 2000, "an echo through the proxy")).textData, "through the proxy");
    proxy.blackhole();
    const vanished = Date.now();
    // Writes still succeed: the proxy takes them; nothing tells the client the server is gone.
    assert.equal(client.send("into the void"), true);
    const event = await withTimeout(client.closed, 5000, "the client to notice the vanished server");
    const after = Date.now() - vanished;
    t.diagnostic(`noticed after ${after} ms (pingFrequency ${PING_MS} ms, timeoutFromInactivity ${inactivity} ms)`);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.match(errors[0]?.message ?? "", /ping/);
    assert.ok(after >= PONG_MS / 2, `cut after ${after} ms`);
    // The documented bound (config.ts): timeoutFromInactivity + 3 checks after the last byte.
    assert.ok(after <= inactivity + 3 * TICK + SLACK_MS, `cut only after ${after} ms`);
    await assertStillEchoing(server.url);
  } finally {
    await proxy.close();
    await server.close();
  }
});
