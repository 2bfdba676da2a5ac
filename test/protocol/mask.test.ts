import { test } from "node:test";
import assert from "node:assert/strict";
import { applyMask, copyMasked, randomMaskSource, unmaskShortInPlace } from "../../src/protocol/mask.js";
import { maskSimd } from "../../src/protocol/mask-simd.js";

/** Section 5.3, literally: transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4). */
function naiveMask(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  return Uint8Array.from(data, (b, i) => b ^ key[(offset + i) % 4]!);
}

const KEY = Uint8Array.of(0x81, 0x3c, 0xe7, 0x5a);

test("applyMask equals the naive section 5.3 XOR for every offset 0-3, length 0-64 and buffer alignment", () => {
  for (let alignment = 0; alignment < 8; alignment++) {
    for (let length = 0; length <= 64; length++) {
      for (let offset = 0; offset < 4; offset++) {
        // Guard bytes on both sides catch writes outside the view.
        const backing = new Uint8Array(alignment + length + 8);
        for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + length) & 0xff;
        const original = Uint8Array.from(backing);
        const view = backing.subarray(alignment, alignment + length);
        const expected = naiveMask(view, KEY, offset);
        applyMask(view, KEY, offset);
        assert.deepEqual(view, expected, `alignment ${alignment}, length ${length}, offset ${offset}`);
        assert.deepEqual(backing.subarray(0, alignment), original.subarray(0, alignment), "bytes before the view untouched");
        assert.deepEqual(backing.subarray(alignment + length), original.subarray(alignment + length), "bytes after the view untouched");
      }
    }
  }
});

test("the WebAssembly SIMD path is available on this Node and equals the naive XOR past its 64 KiB slices", () => {
  assert.ok(maskSimd !== null, "Node 20 runs WebAssembly SIMD; without it large payloads mask 3x slower");
  for (const length of [1023, 1024, 1025, 4099, 65535, 65536, 65537, 131072 + 77]) {
    for (const alignment of [0, 1, 3]) {
      for (const offset of [0, 1, 2, 3, 6]) {
        const backing = new Uint8Array(alignment + length + 8);
        for (let i = 0; i < backing.length; i++) backing[i] = (i * 31 + (i >> 8)) & 0xff;
        const original = Uint8Array.from(backing);
        const view = backing.subarray(alignment, alignment + length);
        const expected = naiveMask(view, KEY, offset);
        applyMask(view, KEY, offset);
        assert.deepEqual(view, expected, `length ${length}, alignment ${alignment}, offset ${offset}`);
        assert.deepEqual(backing.subarray(alignment + length), original.subarray(alignment + length), "bytes after the view untouched");
        assert.deepEqual(backing.subarray(0, alignment), original.subarray(0, alignment), "bytes before the view untouched");
      }
    }
  }
});

test("copyMasked writes the masked copy into the target and leaves the source as it was", () => {
  for (const length of [0, 5, 1000, 70000]) {
    const source = Uint8Array.from({ length }, (_, i) => (i * 7) & 0xff);
    const before = Uint8Array.from(source);
    const target = new Uint8Array(length + 4).fill(0xee);
    copyMasked(source, target, KEY, 3);
    assert.deepEqual(target.subarray(0, length), naiveMask(before, KEY, 3), `length ${length}`);
    assert.deepEqual(target.subarray(length), Uint8Array.of(0xee, 0xee, 0xee, 0xee), "nothing written past the copy");
    assert.deepEqual(source, before);
  }
});

test("applyMask is its own inverse, and masking in pieces with offsets equals masking whole", () => {
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 0xff);
  const whole = Uint8Array.from(data);
  applyMask(whole, KEY);
  for (const cut of [1, 2, 3, 5, 17, 64, 333, 999]) {
    const pieces = Uint8Array.from(data);
    applyMask(pieces.subarray(0, cut), KEY, 0);
    applyMask(pieces.subarray(cut), KEY, cut);
    assert.deepEqual(pieces, whole, `cut at ${cut}`);
  }
  applyMask(whole, KEY);
  assert.deepEqual(whole, data);
});

test("applyMask with an all-zero key leaves data unchanged and a key view into a larger pool works", () => {
  const data = Uint8Array.from({ length: 40 }, (_, i) => i);
  const copy = Uint8Array.from(data);
  applyMask(data, new Uint8Array(4));
  assert.deepEqual(data, copy);
  const pool = Uint8Array.of(9, 9, 9, 0x81, 0x3c, 0xe7, 0x5a, 9);
  applyMask(data, pool.subarray(3, 7), 2);
  assert.deepEqual(data, naiveMask(copy, KEY, 2));
});

test("randomMaskSource hands out successive 4-byte keys and refills its pool once per 2048 keys", () => {
  let fills = 0;
  const source = randomMaskSource((pool) => {
    fills++;
    // Each 4-byte slot holds its own number, so a key tells which slot it came from.
    const view = new DataView(pool.buffer, pool.byteOffset, pool.byteLength);
    for (let slot = 0; slot < pool.length / 4; slot++) view.setUint32(slot * 4, fills * 100000 + slot);
  });
  const seen = new Set<number>();
  for (let n = 0; n < 2048 * 2 + 1; n++) {
    const key = source();
    assert.equal(key.length, 4);
    const value = new DataView(key.buffer, key.byteOffset, 4).getUint32(0);
    assert.equal(value, fills * 100000 + (n % 2048), `key ${n} is slot ${n % 2048} of fill ${fills}`);
    seen.add(value);
  }
  assert.equal(fills, 3, "the pool is refilled when used up, not before");
  assert.equal(seen.size, 2048 * 2 + 1, "each key is a fresh slice of the pool");
});

test("unmaskShortInPlace unmasks with the key stored in the frame, and says ASCII only when every byte is", () => {
  for (let length = 0; length <= 70; length++) {
    for (const highByteAt of [-1, 0, length - 1, length >> 1]) {
      const plain = Uint8Array.from({ length }, (_, i) => (i * 13 + 1) & 0x7f);
      if (highByteAt >= 0 && highByteAt < length) plain[highByteAt] = 0xc3;
      // [guard, key x4, masked payload, guard], the key at an odd position as in a real chunk.
      const chunk = new Uint8Array(1 + 4 + length + 1);
      chunk.set(KEY, 1);
      chunk.set(naiveMask(plain, KEY, 0), 5);
      chunk[0] = 0xee;
      chunk[chunk.length - 1] = 0xee;
      const ascii = unmaskShortInPlace(new DataView(chunk.buffer), 1, 5, 5 + length);
      assert.deepEqual(chunk.subarray(5, 5 + length), plain, `length ${length}`);
      assert.equal(
        ascii,
        plain.every((b) => b < 0x80),
        `ascii flag, length ${length}, high byte at ${highByteAt}`,
      );
      assert.deepEqual([chunk[0], chunk[chunk.length - 1]], [0xee, 0xee], "bytes outside the payload untouched");
    }
  }
});
