// How a new inflater starts with the LZ77 window of the messages before it (RFC 7692 section
// 7.2.2, context takeover). node:zlib's `dictionary` option does it (inflateSetDictionary)
// where the runtime honours it: Node and Bun do. Deno 2's node:zlib accepts the option and
// ignores it, so there the window goes in as a stored block (RFC 1951 section 3.2.4) written
// ahead of the message, and the block's bytes are dropped from the output: any conforming
// inflater ends up with the same window, at the cost of copying it once more.
import zlib from "node:zlib";

export type WindowPriming = "dictionary" | "stored-block";

/** The raw deflate stream "hawser" compressed against the dictionary "hawser": one back-reference. */
const PROBE_DICTIONARY = Buffer.from("hawser");
const PROBE = Buffer.from([0xcb, 0x00, 0x93, 0x00]);

let detected: WindowPriming | undefined;

/** "dictionary" when this runtime's raw inflater honours the `dictionary` option; checked once. */
export function runtimeWindowPriming(): WindowPriming {
  if (detected === undefined) {
    let honoured = false;
    try {
      honoured = zlib.inflateRawSync(PROBE, { dictionary: PROBE_DICTIONARY }).equals(PROBE_DICTIONARY);
    } catch {
      // "invalid distance too far back": the dictionary was not applied.
    }
    detected = honoured ? "dictionary" : "stored-block";
  }
  return detected;
}

/**
 * One stored block, not final, holding `window` (at most 32 KiB, the largest LZ77 window):
 * BFINAL 0 and BTYPE 00 in a zero byte, then LEN and its one's complement NLEN, little-endian.
 * The next block starts on the byte boundary after it, as a message's first block does.
 */
export function storedBlock(window: Uint8Array): Buffer {
  if (window.length > 0xffff) throw new RangeError(`a stored block holds at most 65535 bytes, not ${window.length}`);
  const block = Buffer.allocUnsafe(5 + window.length);
  block[0] = 0x00;
  block.writeUInt16LE(window.length, 1);
  block.writeUInt16LE(~window.length & 0xffff, 3);
  block.set(window, 5);
  return block;
}
