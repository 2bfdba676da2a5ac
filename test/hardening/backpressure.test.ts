// Peers that do not read: a ping flood whose pongs nobody collects, and many slow readers of a
// server that keeps sending. The server's memory must stay bounded by maxSendBufferBytes per
// connection, send() must say so (false), and everyone else must still be served. Memory is
// measured in a child process running only the server (memory-server.ts).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { connect } from "../../src/client/connect.js";
import { encodeFrame, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { sleep, withTimeout } from "../helpers/wait.js";
import { assertStillEchoing, drainOrClose } from "./attack.js";
import { mib, MiB, startMemoryServer, type MemoryServer } from "./memory-child.js";

/** Polls the server until it reports `clients` open sockets. */
async function waitForClients(server: MemoryServer, clients: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await server.stats()).clients !== clients) {
    if (Date.now() > deadline) assert.fail(`the server did not get to ${clients} open sockets within 5 s`);
    await sleep(20);
  }
}

test("a ping flood from a peer that never reads: no pongs beyond maxSendBufferBytes, and others are served", async (t) => {
  const limit = MiB;
  const server = await startMemoryServer({ maxSendBufferBytes: limit });
  const echoClient = await connect(server.url, { perMessageDeflate: false });
  try {
    const { client } = await RawClient.open(server.port);
    client.pause();
    await waitForClients(server, 2);
    const baseline = await server.baseline();
    // 8,000 pings of 125 bytes per MiB; 64 MiB of them would need ~62 MiB of pongs.
    const pings: Buffer[] = [];
    for (let i = 0; i < 8000; i++) pings.push(encodeFrame({ opcode: Op.ping, payload: Buffer.alloc(125, i & 0xff) }));
    const chunk = Buffer.concat(pings);
    let sent = 0;
    let flooding = true;
    const flood = (async () => {
      while (sent < 64 * MiB && !client.isClosed) {
        sent += chunk.length;
        if (!client.write(chunk)) await drainOrClose(client.socket);
      }
      flooding = false;
    })();
    // Meanwhile another client is served: round trips keep working during the flood.
    let roundTrips = 0;
    let slowest = 0;
    while (flooding) {
      const start = performance.now();
      echoClient.send(`round trip ${roundTrips}`);
      const echo = await withTimeout(echoClient.recv(), 5000, "an echo during the flood");
      assert.equal(echo.textData, `round trip ${roundTrips}`);
      slowest = Math.max(slowest, performance.now() - start);
      roundTrips++;
      await sleep(10);
    }
    await flood;
    // Let the server finish reading what is in flight before taking the figures.
    await sleep(200);
    const { peak, clients } = await server.stats();
    const rssGrowth = peak.rss - baseline.rss;
    t.diagnostic(
      `flooded ${mib(sent)} of pings; server peak: unsent ${mib(peak.unsent)}, buffers +${mib(peak.arrayBuffers - baseline.arrayBuffers)}, ` +
        `RSS +${mib(rssGrowth)}; ${roundTrips} echo round trips meanwhile, slowest ${slowest.toFixed(0)} ms`,
    );
    assert.ok(sent >= 64 * MiB, "the whole flood was taken in (the server kept reading)");
    assert.equal(clients, 2, "the server kept both connections");
    assert.ok(peak.unsent <= limit + 256 * 1024, `unsent bytes peaked at ${mib(peak.unsent)} (limit ${mib(limit)})`);
    assert.ok(rssGrowth < 32 * MiB, `server RSS grew by ${mib(rssGrowth)} during a ${mib(sent)} ping flood`);
    assert.ok(roundTrips >= 3, `only ${roundTrips} round trips during the flood`);
    // The flooder reads at last: it gets pongs (the latest pings are answered again once it reads).
    client.resume();
    client.sendFrame({ opcode: Op.ping, payload: "last" });
    const frames = await client.readFramesUntil(Op.pong, 10_000);
    assert.equal(frames.at(-1)!.opcode, Op.pong);
    client.destroy();
    await assertStillEchoing(server.url);
  } finally {
    echoClient.terminate();
    await server.close();
  }
});

test("50 slow readers of a server that keeps sending: each costs at most maxSendBufferBytes, send() refuses beyond", async (t) => {
  const limit = 4 * MiB;
  const readers = 50;
  const messageSize = 64 * 1024;
  const server = await startMemoryServer({ maxSendBufferBytes: limit });
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < readers; i++) {
      const { client } = await RawClient.open(server.port);
      client.pause();
      clients.push(client);
    }
    await waitForClients(server, readers);
    const baseline = await server.baseline();
    // Up to 25 MiB per reader, 1.25 GiB in all, if nothing stopped it.
    const most = 400;
    const pushed = await server.push(messageSize, most);
    const { peak } = await server.stats();
    const rssGrowth = peak.rss - baseline.rss;
    const perReader = limit + messageSize;
    t.diagnostic(
      `accepted per reader ${Math.min(...pushed.accepted)}..${Math.max(...pushed.accepted)} messages of 64 KiB; ` +
        `server peak: unsent ${mib(peak.unsent)}, RSS +${mib(rssGrowth)} for ${readers} readers`,
    );
    assert.equal(pushed.accepted.length, readers);
    for (const [i, accepted] of pushed.accepted.entries()) {
      assert.ok(accepted < most, `reader ${i}: send() accepted all ${accepted} messages`);
      assert.ok(pushed.buffered[i]! <= perReader, `reader ${i}: ${mib(pushed.buffered[i]!)} queued, over the limit plus one message`);
    }
    assert.ok(peak.unsent <= readers * perReader, `${mib(peak.unsent)} unsent over all readers`);
    assert.ok(rssGrowth < readers * perReader + 64 * MiB, `server RSS grew by ${mib(rssGrowth)}`);

    // One reader reads at last: every accepted message arrives intact, in order.
    const reader = clients[0]!;
    reader.resume();
    for (let i = 0; i < pushed.accepted[0]!; i++) {
      const frame = await reader.readFrame(10_000);
      assert.equal(frame.payload.length, messageSize);
      assert.ok(frame.payload.equals(Buffer.alloc(messageSize, i & 0xff)), `message ${i} intact`);
    }
    // The others vanish: their queued data is released.
    for (const client of clients) client.destroy();
    await waitForClients(server, 0);
    // V8 frees buffer memory on a background thread after a collection: poll for it.
    let kept = Infinity;
    for (const deadline = Date.now() + 5000; kept >= 16 * MiB && Date.now() < deadline; await sleep(50)) {
      kept = (await server.stats(true)).now.arrayBuffers - baseline.arrayBuffers;
    }
    assert.ok(kept < 16 * MiB, `${mib(kept)} of buffers still held after the readers left`);
    await assertStillEchoing(server.url);
  } finally {
    for (const client of clients) client.destroy();
    await server.close();
  }
});
