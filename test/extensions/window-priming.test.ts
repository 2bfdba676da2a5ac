// How an inflater is given the window of earlier messages (src/extensions/window-priming.ts):
// the runtime's probe, and the stored block that stands in for zlib's dictionary where a
// runtime ignores that option (Deno). PerMessageDeflate runs both ways in deflate-sync.test.ts
// and deflate.test.ts; Deno itself runs hawser in test/runtimes/runtimes.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import { runtimeWindowPriming, storedBlock } from "../../src/extensions/window-priming.js";

test("Node's raw inflater honours the dictionary option, so Node keeps zlib's own priming", () => {
  assert.equal(runtimeWindowPriming(), "dictionary");
});

test("a stored block of the window, then data compressed against it, inflates to the window and the data", () => {
  for (const size of [1, 255, 256, 4096, 32 * 1024]) {
    const window = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
    // The message repeats the start of the window: a back-reference as far back as the window goes.
    const message = Buffer.concat([window.subarray(0, Math.min(size, 300)), Buffer.from(" and more")]);
    const compressed = zlib.deflateRawSync(message, { dictionary: window, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    // (A 1-byte window is too short for a back-reference: zlib's shortest match is 3 bytes.)
    if (size >= 256)
      assert.throws(() => zlib.inflateRawSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH }), /distance too far back/, "the data needs the window");
    const out = zlib.inflateRawSync(Buffer.concat([storedBlock(window), compressed]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok(out.subarray(0, size).equals(window), `window of ${size}: its bytes come out first`);
    assert.ok(out.subarray(size).equals(message), `window of ${size}: then the message`);
  }
});

test("a stored block holds at most 65535 bytes", () => {
  assert.equal(storedBlock(Buffer.alloc(0xffff)).length, 5 + 0xffff);
  assert.throws(() => storedBlock(Buffer.alloc(0x10000)), RangeError);
});
