// Hostile fragmentation (RFC 6455 section 5.4): a message that never ends, and a message cut
// into one-byte fragments. The first must be refused with 1009 the moment its fragments add up
// past maxMessageBytes, holding no more than the limit meanwhile; the second must cost memory
// in proportion to its bytes, not to its two million frames. Memory is measured in a child
// process running only the server (memory-server.ts).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { WebSocketOpcode } from "../../src/protocol/opcodes.js";
import { encodeFrame, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, withTimeout } from "../helpers/wait.js";
import { assertStillEchoing, drainOrClose } from "./attack.js";
import { mib, MiB, startMemoryServer } from "./memory-child.js";

/** Writes `chunk` again and again (respecting backpressure) until `stop()` or `most` bytes. */
async function flood(client: RawClient, chunk: Buffer, most: number, stop: () => boolean): Promise<number> {
  let sent = 0;
  while (!stop() && !client.isClosed && sent < most) {
    sent += chunk.length;
    if (!client.write(chunk)) await drainOrClose(client.socket);
  }
  return sent;
}

describe("endless continuation frames", () => {
  test("1009 arrives with the frame that passes maxMessageBytes, not one frame later, and not before", async () => {
    const limit = 64 * 1024;
    let echo = false;
    const server = await startSocketServer({ maxMessageBytes: limit }, (socket) => {
      if (echo) socket.onmessage = (event) => socket.send(event.data);
    });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      const errors: Error[] = [];
      socket.onerror = (error) => errors.push(error);
      const piece = "x".repeat(4096);
      client.sendFrame({ opcode: Op.text, payload: piece, fin: false });
      // 16 pieces are exactly the limit: allowed, and nothing comes back.
      for (let i = 1; i < 16; i++) client.sendFrame({ opcode: Op.continuation, payload: piece, fin: false });
      await assert.rejects(client.readFrame(300), /Timed out/, "no close while the message is within the limit");
      // The 17th frame's header already shows the total will pass the limit.
      client.write(encodeFrame({ opcode: Op.continuation, payload: piece, fin: false }).subarray(0, 8));
      const close = await client.readFrame(2000);
      assert.equal(close.opcode, Op.close);
      assert.equal(close.closeCode, 1009);
      await client.waitForClose(3000);
      const last = await withTimeout(socket.recv(), 2000, "the server socket's close");
      assert.equal(last.opcode, WebSocketOpcode.close, "no part of the message was delivered");
      // The peer never sent a close frame, so the server's own close event says 1006 (section 7.1.5).
      assert.equal(last.code, 1006);
      assert.equal((errors[0] as (Error & { closeCode?: number }) | undefined)?.closeCode, 1009, "onerror names the 1009 failure");
      echo = true;
      await assertStillEchoing(server.url, 1000);
    } finally {
      await server.close();
    }
  });

  test("a peer streaming continuation frames forever is cut with 1009, and the server held at most the limit", async (t) => {
    const limit = 4 * MiB;
    const server = await startMemoryServer({ maxMessageBytes: limit });
    try {
      const { client } = await RawClient.open(server.port);
      await server.baseline();
      // 1 MiB of 16 KiB continuation frames, sent again and again after one text start frame.
      const frames: Buffer[] = [];
      for (let i = 0; i < 64; i++) frames.push(encodeFrame({ opcode: Op.continuation, payload: Buffer.alloc(16 * 1024, 0x61), fin: false }));
      const chunk = Buffer.concat(frames);
      client.sendFrame({ opcode: Op.text, payload: "start", fin: false });
      let closeCode: number | undefined;
      const closeFrame = client.readFrame(30_000).then((frame) => (closeCode = frame.closeCode));
      closeFrame.catch(() => undefined);
      const sent = await flood(client, chunk, 512 * MiB, () => closeCode !== undefined);
      await withTimeout(closeFrame, 5000, "the close frame");
      assert.equal(closeCode, 1009, "the server refused the message as too big");
      assert.ok(sent < 512 * MiB, "the flood was stopped by the server");
      await client.waitForClose(10_000);
      let stats = await server.stats(true);
      for (const deadline = Date.now() + 3000; stats.clients > 0 && Date.now() < deadline; stats = await server.stats(true)) await sleep(20);
      const { baseline, peak, now, clients } = stats;
      t.diagnostic(
        `sent ${mib(sent)} before the close; server peak: reassembly ${mib(peak.reassembly)}, buffers +${mib(peak.arrayBuffers - baseline.arrayBuffers)}, RSS +${mib(peak.rss - baseline.rss)}`,
      );
      assert.ok(peak.reassembly <= limit, `the server held ${peak.reassembly} bytes of the message (limit ${limit})`);
      const growth = peak.arrayBuffers - baseline.arrayBuffers;
      assert.ok(growth < limit + 16 * MiB, `buffer memory grew by ${mib(growth)} while ${mib(sent)} were sent`);
      assert.equal(now.reassembly, 0);
      assert.equal(clients, 0, "the connection is gone");
      await assertStillEchoing(server.url);
    } finally {
      await server.close();
    }
  });
});

describe("a frame header announcing more than maxFrameBytes", () => {
  test("a header claiming 1 TiB is refused with 1009 before any payload, and nothing is allocated for it", async () => {
    const server = await startMemoryServer({ maxMessageBytes: MiB });
    try {
      const { client } = await RawClient.open(server.port);
      await server.baseline();
      // FIN + binary, MASK + 127, a 64-bit length of 2^40, a masking key: and no payload.
      const header = Buffer.alloc(14);
      header[0] = 0x80 | Op.binary;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(1n << 40n, 2);
      client.write(header);
      const close = await client.readFrame(2000);
      assert.equal(close.closeCode, 1009);
      await client.waitForClose(3000);
      const { baseline, peak } = await server.stats();
      assert.ok(peak.arrayBuffers - baseline.arrayBuffers < MiB, "no buffer was sized by the announced length");
      await assertStillEchoing(server.url);
    } finally {
      await server.close();
    }
  });
});

describe("a message in one-byte fragments", () => {
  test("2 MiB as 2,097,152 frames: memory stays a small multiple of 2 MiB and the echo is exact", async (t) => {
    const size = 2 * MiB;
    const data = randomBytes(size);
    // Reassembly memory is the subject here: at the default rate limit (1,000 frames/s) the
    // 2,097,152 frames would take 35 minutes (test/security/rate-limit.test.ts attacks that limit).
    const server = await startMemoryServer({ messageRateLimit: false });
    try {
      const { client } = await RawClient.open(server.port);
      const before = await server.baseline();
      // Built by hand: encodeFrame per byte would spend seconds on two million small buffers.
      // Each frame: FIN/opcode, MASK|1, a 4-byte key, the masked byte (section 5.2).
      const key = [0x37, 0xfa, 0x21, 0x3d] as const;
      const wire = Buffer.alloc(size * 7);
      for (let i = 0; i < size; i++) {
        const at = i * 7;
        wire[at] = (i === 0 ? Op.binary : Op.continuation) | (i === size - 1 ? 0x80 : 0);
        wire[at + 1] = 0x81;
        wire[at + 2] = key[0];
        wire[at + 3] = key[1];
        wire[at + 4] = key[2];
        wire[at + 5] = key[3];
        wire[at + 6] = data[i]! ^ key[0];
      }
      // Everything but the last frame: the server now holds size - 1 bytes of an unfinished message.
      const allButLast = wire.subarray(0, wire.length - 7);
      for (let at = 0; at < allButLast.length; at += MiB) {
        if (!client.write(allButLast.subarray(at, at + MiB))) await drainOrClose(client.socket, 10_000);
      }
      const deadline = Date.now() + 30_000;
      for (let held = 0; held < size - 1; held = (await server.stats()).now.reassembly) {
        if (Date.now() > deadline) assert.fail(`the server took in ${held} of ${size - 1} bytes within 30 s`);
        await sleep(20);
      }
      const holding = await server.stats(true);
      const retained = holding.now.heapUsed + holding.now.arrayBuffers - (before.heapUsed + before.arrayBuffers);
      assert.ok(retained < 3 * size, `an unfinished ${mib(size)} message in 2M fragments keeps ${mib(retained)} alive`);
      client.write(wire.subarray(wire.length - 7));
      const echo = await client.readFrame(30_000);
      assert.equal(echo.opcode, Op.binary);
      assert.equal(echo.payload.length, size);
      assert.equal(createHash("sha256").update(echo.payload).digest("hex"), createHash("sha256").update(data).digest("hex"), "the echo is exact");
      const { baseline, peak } = await server.stats();
      const rssGrowth = peak.rss - baseline.rss;
      t.diagnostic(
        `held unfinished: ${mib(retained)} retained; peak over the run: RSS +${mib(rssGrowth)}, heap +${mib(peak.heapUsed - baseline.heapUsed)}, buffers +${mib(peak.arrayBuffers - baseline.arrayBuffers)}`,
      );
      assert.ok(rssGrowth < 16 * size, `server RSS grew by ${mib(rssGrowth)} for a ${mib(size)} message`);
      client.destroy();
      await assertStillEchoing(server.url);
    } finally {
      await server.close();
    }
  });
});
