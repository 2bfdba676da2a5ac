// pingFrequency / timeoutFromInactivity: the client pings a quiet server on its own, and a
// server that stops answering is closed with 1006 (wasClean false) within the documented time:
// between timeoutFromInactivity and timeoutFromInactivity + 3 x min(pingFrequency,
// timeoutFromInactivity - pingFrequency) after the last byte it sent.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { connect, type CloseEvent } from "../../src/index.js";
import { Op } from "../helpers/frames.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, withTimeout } from "../helpers/wait.js";
import { startRawServer } from "./raw-server.js";

const PING_MS = 100;
const INACTIVITY_MS = 300;

test("a live server answers the automatic pings and the connection stays open", async () => {
  const server = await startSocketServer({ pingIntervalMs: 0 });
  after(() => server.close());
  const client = await connect(server.url, { pingFrequency: PING_MS, timeoutFromInactivity: INACTIVITY_MS });
  const { socket: peer } = await server.nextSocket();
  let pings = 0;
  peer.onping = () => pings++;
  await sleep(INACTIVITY_MS * 3);
  assert.equal(client.readyState, client.OPEN);
  assert.ok(pings >= 2, `expected a ping after every ~${PING_MS} ms of silence, saw ${pings}`);
  client.close();
  await client.closed;
});

test("a server that stops reading and answering is declared gone: onerror, then onclose 1006 in time", async () => {
  let lastServerByte = 0;
  const server = await startRawServer((connection) => {
    connection.accept();
    lastServerByte = Date.now();
    // Stop reading: pings pile up unread, no pong ever comes back.
    connection.socket.pause();
  });
  after(() => server.close());
  const client = await connect(server.url, { pingFrequency: PING_MS, timeoutFromInactivity: INACTIVITY_MS });
  const events: string[] = [];
  client.onerror = (error) => events.push(`error: ${error.message}`);
  const closed = new Promise<CloseEvent>((resolve) => (client.onclose = resolve));
  const event = await withTimeout(closed, 5000, "the dead server to be detected");
  const detectedAfter = Date.now() - lastServerByte;
  assert.equal(event.code, 1006);
  assert.equal(event.wasClean, false);
  assert.match(events[0] ?? "", /^error: No answer to a ping within 200 ms/);
  const tick = Math.min(PING_MS, INACTIVITY_MS - PING_MS);
  assert.ok(detectedAfter >= INACTIVITY_MS - 20, `detected too early: ${detectedAfter} ms`);
  // The documented bound, plus slack for a loaded machine.
  assert.ok(detectedAfter <= INACTIVITY_MS + 3 * tick + 400, `detected too late: ${detectedAfter} ms`);
});

test("pingFrequency 0 sends no pings", async () => {
  const server = await startRawServer((connection) => connection.accept());
  after(() => server.close());
  const client = await connect(server.url, { pingFrequency: 0 });
  await sleep(300);
  assert.equal(server.connections[0]!.frames.length, 0);
  client.ping("manual");
  const frame = await server.connections[0]!.frame(0);
  assert.equal(frame.opcode, Op.ping);
  client.terminate();
});
