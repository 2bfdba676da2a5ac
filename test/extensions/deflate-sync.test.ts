// decompressSync: small whole messages inflated on the calling thread, interleaved with the
// zlib-stream path, sharing one LZ77 window (RFC 7692 section 7.2.2).
import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { DeflateError, PerMessageDeflate } from "../../src/extensions/deflate.js";
import { forRole, type DeflateParams } from "../../src/extensions/deflate-negotiation.js";
import { SlidingWindow } from "../../src/extensions/sliding-window.js";
import type { WindowPriming } from "../../src/extensions/window-priming.js";

/** Both ways an inflater gets the window: Node's is "dictionary"; Deno's node:zlib needs the other. */
const PRIMINGS: readonly WindowPriming[] = ["dictionary", "stored-block"];

const TAKEOVER: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** A peer compressing with context takeover: each message ends with a sync flush, tail dropped. */
function peerCompressor(windowBits = 15) {
  const stream = zlib.createDeflateRaw({ windowBits: Math.max(9, windowBits), flush: zlib.constants.Z_SYNC_FLUSH });
  return (message: Buffer): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer): void => void chunks.push(c);
      stream.on("data", onData);
      stream.write(message, () => {
        stream.off("data", onData);
        resolve(Buffer.concat(chunks).subarray(0, -4));
      });
    });
}

/** Pseudo-random bytes that do not compress (so the compressed form passes 16 KiB). */
function noise(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    // xorshift32: no short cycles in the top byte, unlike a small LCG
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) >>> 24;
  }
  return out;
}

for (const priming of PRIMINGS)
  test(`small messages inflate at once, large ones on zlib streams, and back-references cross between them (window: ${priming})`, async () => {
    for (const bits of [9, 12, 15]) {
      const receiver = new PerMessageDeflate(forRole({ ...TAKEOVER, clientMaxWindowBits: bits }, "server"), {}, undefined, priming);
      const compress = peerCompressor(bits);
      const phrase = Buffer.from(`the same phrase again and again, window ${bits} `);
      // Each large message starts with the phrase, a back-reference into the message before it.
      const big = Buffer.concat([phrase, noise(40_000, bits), phrase]);
      const messages = [
        phrase,
        phrase,
        big,
        phrase,
        Buffer.concat([phrase, phrase]),
        Buffer.concat([phrase, noise(30_000, 7)]),
        phrase,
        Buffer.alloc(0),
        phrase,
      ];
      const paths: string[] = [];
      const expected: string[] = [];
      for (const [i, message] of messages.entries()) {
        const compressed = await compress(message);
        expected.push(compressed.length > 16 * 1024 ? "stream" : "sync");
        let out = receiver.decompressSync(compressed, 1 << 20);
        paths.push(out === undefined ? "stream" : "sync");
        out ??= await receiver.decompress(compressed, true, 1 << 20);
        assert.ok(out.equals(message), `bits ${bits}, message ${i}`);
      }
      assert.deepEqual(paths, expected, `bits ${bits}`);
      assert.ok(paths.includes("stream") && paths.indexOf("sync", paths.indexOf("stream")) > 0, "both paths, sync after stream");
      // The repeats really were back-references into earlier messages (context takeover).
      assert.ok((await compress(phrase)).length < phrase.length / 2);
      receiver.close();
    }
  });

for (const priming of PRIMINGS)
  test(`decompressSync keeps the limits: 1009 past the size limit, 1007 on corrupt data, and the error sticks (window: ${priming})`, async () => {
    const receiver = new PerMessageDeflate(forRole(TAKEOVER, "server"), {}, undefined, priming);
    const compress = peerCompressor();
    const bomb = await compress(Buffer.alloc(1_000_000));
    assert.ok(bomb.length < 16 * 1024, "small enough for the synchronous path");
    assert.throws(
      () => receiver.decompressSync(bomb, 100_000),
      (err: unknown) => err instanceof DeflateError && err.closeCode === 1009,
    );
    await assert.rejects(receiver.decompress(Buffer.from([0x00]), true, 10), (err: unknown) => err instanceof DeflateError && err.closeCode === 1009);
    receiver.close();

    const corrupt = new PerMessageDeflate(forRole(TAKEOVER, "server"), {}, undefined, priming);
    assert.throws(
      () => corrupt.decompressSync(Buffer.from([0xff, 0xff, 0xff]), 1000),
      (err: unknown) => err instanceof DeflateError && err.closeCode === 1007,
    );
    assert.throws(
      () => corrupt.decompressSync(Buffer.from([0x00]), 1000),
      (err: unknown) => err instanceof DeflateError && err.closeCode === 1007,
    );
    corrupt.close();

    const exact = new PerMessageDeflate(forRole(TAKEOVER, "server"), {}, undefined, priming);
    const message = Buffer.alloc(5000, 0x61);
    const exactPeer = peerCompressor();
    assert.equal(exact.decompressSync(await exactPeer(message), 5000)!.length, 5000, "exactly the limit is allowed");
    // With a window in place (however it was primed), the limit counts the message's bytes only.
    assert.ok(exact.decompressSync(await exactPeer(message), 5000)!.equals(message), "exactly the limit, after a window");
    const third = await exactPeer(message);
    assert.throws(
      () => exact.decompressSync(third, 4999),
      (err: unknown) => err instanceof DeflateError && err.closeCode === 1009,
    );
    assert.throws(
      () =>
        new PerMessageDeflate(forRole(TAKEOVER, "server"), {}, undefined, priming).decompressSync(
          zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4),
          0,
        ),
      (err: unknown) => err instanceof DeflateError && err.closeCode === 1009,
    );
    exact.close();
  });

for (const priming of PRIMINGS)
  test(`a message with a BFINAL block followed by more is left to the stream path, which handles it (window: ${priming})`, async () => {
    const receiver = new PerMessageDeflate(forRole(TAKEOVER, "server"), {}, undefined, priming);
    const first = zlib.deflateRawSync(Buffer.from("hello hello hello ")); // ends with BFINAL
    const rest = zlib.deflateRawSync(Buffer.from("world"), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const message = Buffer.concat([first, rest]);
    assert.equal(receiver.decompressSync(message, 1000), undefined);
    assert.equal((await receiver.decompress(message, true, 1000)).toString(), "hello hello hello world");
    receiver.close();
  });

for (const priming of PRIMINGS)
  test(`without context takeover nothing carries over, and no window is kept (window: ${priming})`, async () => {
    const receiver = new PerMessageDeflate(forRole({ ...TAKEOVER, clientNoContextTakeover: true }, "server"), {}, undefined, priming);
    for (let i = 0; i < 3; i++) {
      const message = Buffer.from(`message ${i} message ${i}`);
      const compressed = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
      assert.ok(receiver.decompressSync(compressed, 1000)!.equals(message));
    }
    receiver.close();
  });

test("SlidingWindow keeps exactly the last `size` bytes across slides", () => {
  const window = new SlidingWindow(100);
  assert.equal(window.bytes, undefined);
  const all: number[] = [];
  for (let i = 0; i < 500; i++) {
    const piece = Buffer.from(Array.from({ length: (i * 7) % 23 }, (_, k) => (i + k) & 0xff));
    window.append(piece);
    all.push(...piece);
    assert.deepEqual([...(window.bytes ?? [])], all.slice(-100), `after append ${i}`);
  }
  window.append(Buffer.alloc(250, 9));
  assert.deepEqual([...window.bytes!], new Array(100).fill(9));
});

for (const priming of PRIMINGS)
  test(`a small message that inflates past 256 KiB goes to the thread pool, which still enforces the limit (window: ${priming})`, async () => {
    const receiver = new PerMessageDeflate(forRole(TAKEOVER, "server"), {}, undefined, priming);
    const compress = peerCompressor();
    const large = Buffer.alloc(1_000_000, 0x61);
    const compressed = await compress(large);
    assert.ok(compressed.length < 16 * 1024);
    assert.equal(receiver.decompressSync(compressed, 10_000_000), undefined, "not inflated on the event loop");
    assert.ok((await receiver.decompress(compressed, true, 10_000_000)).equals(large));
    // The window carried over from the thread-pool path to the next small message.
    const small = Buffer.alloc(100, 0x61);
    assert.ok(receiver.decompressSync(await compress(small), 10_000_000)!.equals(small));
    await assert.rejects(receiver.decompress(await compress(large), true, 500_000), (err: unknown) => err instanceof DeflateError && err.closeCode === 1009);
    receiver.close();
  });
