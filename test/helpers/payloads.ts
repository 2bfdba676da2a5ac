// Test payloads: random bytes, and random text of an exact UTF-8 byte length that mixes 1-, 2-,
// 3- and 4-byte characters (so a server that splits or re-encodes text wrongly is caught).
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** The sizes every interop test sends: empty, the 7-bit length edge (125/126), 16- and 64-bit lengths. */
export const INTEROP_SIZES = [0, 125, 126, 65_535, 64 * KiB, 16 * MiB] as const;

/** Close codes and reasons a peer's server sends in the interop tests: plain, going away, an error, an application's own. */
export const INTEROP_SERVER_CLOSES = [
  [1000, ""],
  [1001, "going away"],
  [1011, "oops"],
  [4000, "app reason ✓"],
] as const;

export function randomPayload(size: number): Buffer {
  return randomBytes(size);
}

const MULTIBYTE = Buffer.from("é€😀"); // 2 + 3 + 4 bytes

/** Random printable text of exactly `size` UTF-8 bytes, with multibyte characters every ~1 KiB. */
export function randomText(size: number): string {
  const bytes = randomBytes(size);
  for (let i = 0; i < size; i++) bytes[i] = 0x20 + (bytes[i]! % 95);
  for (let i = 0; i + MULTIBYTE.length <= size; i += 1009) MULTIBYTE.copy(bytes, i);
  const text = bytes.toString("utf8");
  if (Buffer.byteLength(text) !== size) throw new Error("randomText: length mismatch (bug in the helper)");
  return text;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** "16 MiB", "64 KiB", "125 B": for test names. */
export function sizeLabel(size: number): string {
  if (size >= MiB && size % MiB === 0) return `${size / MiB} MiB`;
  if (size >= KiB && size % KiB === 0) return `${size / KiB} KiB`;
  return `${size} B`;
}
