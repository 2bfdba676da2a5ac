// Frame encoding and an incremental frame parser for the test drivers (RFC 6455 5.2).
// The encoder writes whatever it is told, including invalid frames; the parser reports what
// the peer sent and leaves judging to the session.
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import type { FrameSpec } from './types.js';

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;
export const RSV1 = 4;
export const RSV2 = 2;
export const RSV3 = 1;

export function toBuf(p: Buffer | string | undefined): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/** XOR `buf` in place with the 4-byte key (RFC 6455 5.3). */
export function applyMask(buf: Buffer, key: Buffer): void {
  const n = buf.length;
  let i = 0;
  // Word at a time where aligned: 16 MiB payloads are masked in a few ms.
  if (n >= 16 && buf.byteOffset % 4 === 0) {
    const words = new Uint32Array(buf.buffer, buf.byteOffset, n >>> 2);
    // The Uint32Array view uses host byte order; read the key the same way.
    const k = endianness() === 'LE' ? key.readUInt32LE(0) : key.readUInt32BE(0);
    for (let w = 0; w < words.length; w++) words[w] = (words[w] as number) ^ k;
    i = words.length * 4;
  }
  for (; i < n; i++) buf[i] = (buf[i] as number) ^ (key[i & 3] as number);
}

export interface Encoded {
  bytes: Buffer;
  headerLength: number;
}

/** Encode one frame; `masked` is the role's default, `spec.invertMask` flips it. */
export function encodeFrame(spec: FrameSpec, masked: boolean): Encoded {
  const payload = toBuf(spec.payload);
  const doMask = spec.invertMask ? !masked : masked;
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const headerLength = 2 + lenBytes + (doMask ? 4 : 0);
  const out = Buffer.allocUnsafe(headerLength + len);
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = doMask ? 0x80 : 0;
  if (lenBytes === 0) out[1] = maskBit | len;
  else if (lenBytes === 2) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  payload.copy(out, headerLength);
  if (doMask) {
    const key = randomBytes(4);
    key.copy(out, headerLength - 4);
    applyMask(out.subarray(headerLength), key);
  }
  return { bytes: out, headerLength };
}

export function closePayload(code?: number, reason?: Buffer | string): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const r = toBuf(reason);
  const b = Buffer.allocUnsafe(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** Set when the length was not in its minimal form or had the top bit set (RFC 6455 5.2). */
  lengthProblem?: string;
}

/** Incremental parser: keeps received chunks and concatenates only what one frame needs. */
export class FrameParser {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Buffer): ParsedFrame[] {
    this.chunks.push(chunk);
    this.total += chunk.length;
    const out: ParsedFrame[] = [];
    for (let f = this.next(); f; f = this.next()) out.push(f);
    return out;
  }

  private peek(n: number): Buffer | null {
    if (this.total < n) return null;
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    const merged = Buffer.concat(this.chunks, this.total);
    this.chunks = [merged];
    return merged;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    this.total -= n;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0] as Buffer;
      if (c.length <= need) {
        parts.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    return Buffer.concat(parts, n);
  }

  private next(): ParsedFrame | null {
    const h2 = this.peek(2);
    if (!h2) return null;
    const b0 = h2[0] as number;
    const b1 = h2[1] as number;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLength = 2 + extra + (masked ? 4 : 0);
    const h = this.peek(headerLength);
    if (!h) return null;
    let len = len7;
    let lengthProblem: string | undefined;
    if (len7 === 126) {
      len = h.readUInt16BE(2);
      if (len < 126) lengthProblem = `16-bit length ${len} not minimal`;
    } else if (len7 === 127) {
      const hi = h.readUInt32BE(2);
      if (hi & 0x80000000) lengthProblem = '64-bit length with the most significant bit set';
      len = (hi & 0x7fffffff) * 2 ** 32 + h.readUInt32BE(6);
      if (len < 65536) lengthProblem = `64-bit length ${len} not minimal`;
    }
    if (this.total < headerLength + len) return null;
    const key = masked ? Buffer.from(h.subarray(2 + extra, headerLength)) : null;
    this.take(headerLength);
    const payload = len === 0 ? Buffer.alloc(0) : Buffer.from(this.take(len));
    if (key) applyMask(payload, key);
    const f: ParsedFrame = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload };
    if (lengthProblem) f.lengthProblem = lengthProblem;
    return f;
  }
}
