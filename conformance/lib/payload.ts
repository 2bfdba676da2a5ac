// Deterministic payloads, so a failing case can be rerun byte for byte.

function xorshift(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Pseudo-random bytes. */
export function binary(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  const r = xorshift(seed);
  let i = 0;
  for (; i + 4 <= n; i += 4) b.writeUInt32LE(r(), i);
  for (; i < n; i++) b[i] = r() & 0xff;
  return b;
}

const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_*+#');

/** ASCII text (valid UTF-8 whatever the cut). */
export function text(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  const r = xorshift(seed);
  for (let i = 0; i < n; i++) b[i] = ALPHABET[r() % ALPHABET.length] as number;
  return b;
}

/** Text of 1- to 4-byte characters, cut at a character boundary to at most n bytes. */
export function multibyteText(n: number): Buffer {
  const unit = Buffer.from('aκόσμε€𝄞\u{10FFFD}ß', 'utf8');
  const reps = Math.ceil(n / unit.length) + 1;
  const full = Buffer.concat(Array.from({ length: reps }, () => unit)).subarray(0, n);
  let end = full.length;
  // Step back over a cut character: continuation bytes are 10xxxxxx (RFC 3629 3).
  while (end > 0 && ((full[end - 1] as number) & 0xc0) === 0x80) end--;
  if (end > 0 && (full[end - 1] as number) >= 0xc0) {
    const lead = full[end - 1] as number;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (full.length - (end - 1) < need) end--;
    else end = full.length;
  } else end = full.length;
  return full.subarray(0, end);
}

/** Compressible text: a random block repeated, so back-references reach `distance` bytes back
 *  (a peer compressing beyond its negotiated window is then caught on inflate). */
export function repetitive(n: number, distance: number, seed = 7): Buffer {
  const block = text(distance, seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += distance) block.copy(b, i, 0, Math.min(distance, n - i));
  return b;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function sizeName(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} B`;
}
