// permessage-deflate under load, measured on a hawser echo server in a child process of its
// own (test/helpers/deflate-load-server.ts): 1,000 connections that each send a compressed
// 64 KiB message at the same moment, three rounds, with the server compressing every echo.
// Peak RSS with and without context takeover (the memory-fragmentation scenario `ws`
// documents), and a second wave to show that memory kept after the first is reused, not
// leaked. Bounds are generous; the figures themselves are printed as diagnostics.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import { after, describe, test } from "node:test";
import { settledStats as settled, startLoadServer, type LoadServer, type LoadServerStats } from "../helpers/deflate-load-server.js";
import { Op } from "../helpers/frames.js";
import { KiB, MiB } from "../helpers/payloads.js";
import { RawClient } from "../helpers/raw-client.js";
import { withTimeout } from "../helpers/wait.js";

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** 64 KiB of JSON-like text, as a chat or API server would send (compresses about 6:1). */
function jsonMessage(): Buffer {
  const records: string[] = [];
  for (let i = 0; records.join(",").length < 64 * KiB; i++) {
    records.push(`{"id":${i},"user":"user${i % 97}","score":${(i * 7919) % 1000},"active":${i % 3 === 0}}`);
  }
  return Buffer.from(records.join(",")).subarray(0, 64 * KiB);
}

/** A message compressed on its own (so it is valid whatever context the receiver keeps), tail dropped. */
function compress(message: Buffer): Buffer {
  const flushed = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return flushed.subarray(0, flushed.length - TAIL.length);
}

function inflate(payload: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

const servers: LoadServer[] = [];
after(async () => {
  for (const server of servers) await server.stop();
});

const CONNECTIONS = 1000;
const ROUNDS = 3;
/** Generous: ~300 KiB of zlib state per connection with takeover, plus socket buffers. */
const MAX_PEAK_RSS = 1536 * MiB;

/** Opens `count` raw connections that offer permessage-deflate as browsers do. */
async function openClients(port: number, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, () =>
        RawClient.open(port, { headers: [["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"]] }),
      ),
    );
    for (const { client, response } of batch) {
      assert.match(response.headers["sec-websocket-extensions"] ?? "", /^permessage-deflate/);
      clients.push(client);
    }
  }
  return clients;
}

async function closeClients(clients: readonly RawClient[]): Promise<void> {
  for (const client of clients) client.sendFrame({ opcode: Op.close, payload: Buffer.from([0x03, 0xe8]) });
  await Promise.all(clients.map((client) => withTimeout(client.closed, 10_000, "the server to close").catch(() => client.destroy())));
}

interface Wave {
  connected: LoadServerStats;
  busy: LoadServerStats;
  closed: LoadServerStats;
  ms: number;
}

/**
 * One wave: CONNECTIONS clients connect; in each of ROUNDS rounds every client sends the
 * compressed message before any reads, so the server has them all to inflate, echo and
 * compress at once; then everyone closes.
 */
async function wave(server: LoadServer, message: Buffer, inflatesAlone: boolean): Promise<Wave> {
  const compressed = compress(message);
  const clients = await openClients(server.port, CONNECTIONS);
  try {
    const connected = await server.request("gc");
    await server.request("resetPeak");
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (const client of clients) client.sendFrame({ opcode: Op.text, rsv: 4, payload: compressed });
      const echoes = await Promise.all(clients.map((client) => client.readFrame(20_000)));
      for (const echo of echoes) {
        assert.equal(echo.opcode, Op.text);
        assert.equal(echo.rsv, 4, "the echo is compressed (RSV1)");
      }
      // With context takeover only a connection's first echo inflates on its own.
      if (round === 0 || inflatesAlone) assert.ok(inflate(echoes[0]!.payload).equals(message), "the echo inflates to the message");
    }
    const ms = performance.now() - started;
    const busy = await server.request("stats");
    await closeClients(clients);
    return { connected, busy, closed: await settled(server), ms };
  } finally {
    for (const client of clients) client.destroy();
  }
}

describe(`${CONNECTIONS.toLocaleString("en")} connections compressing at once`, () => {
  for (const serverNoContextTakeover of [false, true]) {
    const name = serverNoContextTakeover ? "server_no_context_takeover" : "context takeover";
    test(`${name}: ${ROUNDS} rounds of a 64 KiB message from every connection, echoed compressed; twice`, async (t) => {
      // Every connection comes from 127.0.0.1: past the default maxConnectionsPerIp (256).
      const server = await startLoadServer({ pingIntervalMs: 0, perMessageDeflate: { serverNoContextTakeover }, maxConnectionsPerIp: CONNECTIONS });
      servers.push(server);
      const message = jsonMessage();
      const idle = await server.request("gc");
      const waves: Wave[] = [];
      for (let i = 0; i < 2; i++) {
        const result = await wave(server, message, serverNoContextTakeover);
        waves.push(result);
        t.diagnostic(
          `wave ${i + 1}: server RSS ${mib(result.connected.rssBytes)} with ${CONNECTIONS} idle connections, ` +
            `peak ${mib(result.busy.peakRssBytes)}${result.busy.peakResettable ? "" : " (lifetime peak)"} during ${ROUNDS} rounds ` +
            `(${result.ms.toFixed(0)} ms, ${mib(CONNECTIONS * ROUNDS * message.length)} inflated and compressed), ` +
            `${mib(result.busy.rssBytes)} after them, ${mib(result.closed.rssBytes)} once all closed`,
        );
        assert.equal(result.closed.openSockets, 0);
        assert.equal(result.closed.closeCodes["1000"], CONNECTIONS * (i + 1));
        assert.ok(result.busy.peakRssBytes < MAX_PEAK_RSS, `peak RSS ${mib(result.busy.peakRssBytes)} is over ${mib(MAX_PEAK_RSS)}`);
      }
      t.diagnostic(`server RSS ${mib(idle.rssBytes)} before any connection`);
      // Memory freed after the first wave is reused by the second, not added to: no leak.
      const [first, second] = waves as [Wave, Wave];
      assert.ok(
        second.busy.peakRssBytes < first.busy.peakRssBytes * 1.25 + 16 * MiB,
        `the second wave peaked at ${mib(second.busy.peakRssBytes)}, the first at ${mib(first.busy.peakRssBytes)}`,
      );
      assert.equal(second.busy.messages - first.busy.messages, CONNECTIONS * ROUNDS);
      await server.stop();
    });
  }
});
