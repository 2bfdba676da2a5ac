import { isUtf8 } from "node:buffer";

/**
 * Streaming UTF-8 validation (RFC 3629 section 4), for text messages that arrive in pieces.
 * `push` returns false at the first piece containing an invalid byte, so a bad message is
 * failed (1007) as soon as the bad byte arrives, not when the message ends. The bulk of each
 * piece is checked with Node's SIMD-backed `isUtf8`; only a character split across pieces
 * goes through the byte-at-a-time state machine.
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the current character. */
  private needed = 0;
  /** Bounds for the next continuation byte (narrowed after E0, ED, F0, F4). */
  private lower = 0x80;
  private upper = 0xbf;

  /** True when everything pushed so far ends on a character boundary. */
  get complete(): boolean {
    return this.needed === 0;
  }

  reset(): void {
    this.needed = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }

  push(bytes: Uint8Array): boolean {
    const length = bytes.length;
    let i = 0;
    while (this.needed > 0 && i < length) {
      if (!this.step(bytes[i]!)) return false;
      i++;
    }
    if (i === length) return true;
    const end = completeCharactersEnd(bytes, i);
    if (end > i && !isUtf8(i === 0 && end === length ? bytes : bytes.subarray(i, end))) return false;
    for (let p = end; p < length; p++) if (!this.step(bytes[p]!)) return false;
    return true;
  }

  private step(byte: number): boolean {
    if (this.needed > 0) {
      if (byte < this.lower || byte > this.upper) return false;
      this.lower = 0x80;
      this.upper = 0xbf;
      this.needed--;
      return true;
    }
    if (byte < 0x80) return true;
    if (byte >= 0xc2 && byte <= 0xdf) {
      this.needed = 1;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      this.needed = 2;
      if (byte === 0xe0) this.lower = 0xa0; // no overlong 3-byte forms
      if (byte === 0xed) this.upper = 0x9f; // no surrogates U+D800..U+DFFF
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      this.needed = 3;
      if (byte === 0xf0) this.lower = 0x90; // no overlong 4-byte forms
      if (byte === 0xf4) this.upper = 0x8f; // nothing above U+10FFFF
    } else {
      return false; // 80..C1 cannot start a character, F5..FF never appear
    }
    return true;
  }
}

/**
 * The index after the last complete character in bytes[start..]: a trailing lead byte whose
 * continuation bytes have not all arrived is left for the state machine.
 */
function completeCharactersEnd(bytes: Uint8Array, start: number): number {
  const length = bytes.length;
  let j = length - 1;
  let continuation = 0;
  while (j >= start && continuation < 3 && (bytes[j]! & 0xc0) === 0x80) {
    j--;
    continuation++;
  }
  if (j < start) return length;
  const lead = bytes[j]!;
  const sequenceLength = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 1;
  return j + sequenceLength > length ? j : length;
}

/** Whole-buffer check, for close reasons and single-piece messages. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}
