// A compression bomb over a real socket: about 1 MiB of permessage-deflate data that inflates
// to 1 GiB of zeros, sent by a raw client to a hawser server (in a child process of its own,
// so its memory can be measured) whose maxMessageBytes is 8 MiB. The server must close with
// 1009 and its peak RSS must grow by a small multiple of the limit, nowhere near 1 GiB; the
// same as one frame and as 1,024 fragments. The server must then serve the next client.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import { after, before, describe, test } from "node:test";
import { connect } from "../../src/index.js";
import { startLoadServer, type LoadServer } from "../helpers/deflate-load-server.js";
import { Op } from "../helpers/frames.js";
import { MiB } from "../helpers/payloads.js";
import { RawClient } from "../helpers/raw-client.js";
import { withTimeout } from "../helpers/wait.js";

const LIMIT = 8 * MiB;
const INFLATED = 1024 * MiB;
/** Generous: the limit, the compressed message, zlib's chunk, and the allocator's slack. */
const MAX_PEAK_GROWTH = 64 * MiB;

/**
 * DEFLATE's best ratio is about 1032:1, so 1 GiB takes about 1 MiB. One MiB of zeros,
 * sync-flushed, is a unit that starts and ends on a block boundary; copies of it concatenate
 * into one valid stream. The sender drops the final 00 00 ff ff (RFC 7692 section 7.2.1).
 */
function bombUnits(): Buffer[] {
  const unit = zlib.deflateRawSync(Buffer.alloc(MiB), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const units = Array<Buffer>(INFLATED / MiB).fill(unit);
  units[units.length - 1] = unit.subarray(0, unit.length - 4);
  return units;
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

describe("a permessage-deflate bomb over a real socket", () => {
  let server: LoadServer;
  const units = bombUnits();
  const compressedBytes = units.reduce((sum, unit) => sum + unit.length, 0);

  before(async () => {
    server = await startLoadServer({ maxMessageBytes: LIMIT, pingIntervalMs: 0 });
    // The construction is sound: the first units inflate to zeros of the expected length.
    const three = zlib.inflateRawSync(Buffer.concat(units.slice(0, 3)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.equal(three.length, 3 * MiB);
    assert.ok(three.every((byte) => byte === 0));
  });
  after(() => server?.stop());

  const shapes = [
    { name: "one frame", frames: () => [{ opcode: Op.binary, rsv: 4, payload: Buffer.concat(units) }] },
    {
      name: "1,024 fragments",
      frames: () =>
        units.map((unit, i) => ({ opcode: i === 0 ? Op.binary : Op.continuation, rsv: i === 0 ? 4 : 0, fin: i === units.length - 1, payload: unit })),
    },
  ];

  for (const shape of shapes) {
    test(`${shape.name}: ${mib(compressedBytes)} inflating to 1 GiB closes with 1009, RSS grows by far less`, async (t) => {
      const { client, response } = await RawClient.open(server.port, {
        headers: [["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"]],
      });
      try {
        assert.match(response.headers["sec-websocket-extensions"] ?? "", /^permessage-deflate/, "the server agreed to compress");
        const before = await server.request("gc");
        await server.request("resetPeak");
        const started = performance.now();
        for (const frame of shape.frames()) client.sendFrame(frame);
        const frames = await client.readFramesUntil(Op.close, 20_000);
        const ms = performance.now() - started;
        const close = frames[frames.length - 1]!;
        assert.equal(close.closeCode, 1009, `close code (reason: ${close.closeReason})`);
        await withTimeout(client.closed, 5000, "the server to end the connection");
        const after = await server.request("stats");
        const growth = after.peakRssBytes - before.rssBytes;
        t.diagnostic(
          `server RSS ${mib(before.rssBytes)} before, peak ${mib(after.peakRssBytes)}${after.peakResettable ? "" : " (lifetime peak)"}: ` +
            `grew ${mib(growth)} for a ${mib(compressedBytes)} message that inflates to 1 GiB (limit ${mib(LIMIT)}); closed with 1009 after ${ms.toFixed(0)} ms`,
        );
        assert.ok(growth < MAX_PEAK_GROWTH, `peak RSS grew by ${mib(growth)}, more than ${mib(MAX_PEAK_GROWTH)}`);
      } finally {
        client.destroy();
      }

      // The server is still well: a new client gets its compressed echo.
      const next = await connect(`ws://127.0.0.1:${server.port}/`, { pingFrequency: 0 });
      const text = "still here ".repeat(200);
      next.send(text);
      assert.equal((await withTimeout(next.recv(), 5000, "the echo")).textData, text);
      assert.match(next.extensions, /^permessage-deflate/);
      next.close();
      await next.closed;
    });
  }
});
