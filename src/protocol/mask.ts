/**
 * Masking (RFC 6455 section 5.3). XOR is its own inverse, so one function masks and unmasks.
 * `offset` is the position of data[0] within the frame payload, so a payload that arrives in
 * pieces can be unmasked piece by piece.
 */
export function applyMask(data: Uint8Array, mask: Uint8Array, offset = 0): void {
  const length = data.length;
  let i = 0;
  // Bytes one at a time until data is 4-byte aligned, so the bulk can go a word at a time.
  if (length >= 16) {
    const head = (4 - (data.byteOffset & 3)) & 3;
    for (; i < head; i++) data[i] = data[i]! ^ mask[(offset + i) & 3]!;
    const wordCount = (length - i) >>> 2;
    const words = new Uint32Array(data.buffer, data.byteOffset + i, wordCount);
    // Typed arrays use the platform's byte order; reading the rotated key through a
    // Uint32Array gives the key word in that same order.
    const keyBytes = new Uint8Array(4);
    for (let k = 0; k < 4; k++) keyBytes[k] = mask[(offset + i + k) & 3]!;
    const key = new Uint32Array(keyBytes.buffer)[0]!;
    for (let w = 0; w < wordCount; w++) words[w] = words[w]! ^ key;
    i += wordCount << 2;
  }
  for (; i < length; i++) data[i] = data[i]! ^ mask[(offset + i) & 3]!;
}

/** Produces masking keys for a client's frames. */
export type MaskSource = () => Uint8Array;

const POOL_SIZE = 8192;

/**
 * Masking keys from a pool of cryptographically random bytes, refilled when used up: RFC 6455
 * section 10.3 requires keys an attacker cannot predict, and one getrandom call per 2048 frames
 * costs far less than one per frame. Each key is a fresh view; callers must not keep it past
 * encoding the frame.
 */
export function randomMaskSource(fill: (pool: Uint8Array) => void): MaskSource {
  const pool = new Uint8Array(POOL_SIZE);
  let used = POOL_SIZE;
  return () => {
    if (used === POOL_SIZE) {
      fill(pool);
      used = 0;
    }
    const key = pool.subarray(used, used + 4);
    used += 4;
    return key;
  };
}
