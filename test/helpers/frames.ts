// An independent, deliberately plain WebSocket frame codec (RFC 6455 section 5.2) for raw-socket
// tests. It does not reuse src/protocol on purpose: a test that builds its bytes with the code
// under test could not notice when that code is wrong.
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";

export const Op = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** Bits RSV1..RSV3 as a 3-bit number (4 = RSV1). */
  rsv?: number;
  /** Clients must mask (section 5.3); `false` makes a frame a server must refuse. */
  mask?: boolean;
  /** A fixed masking key, for reproducible bytes. */
  maskKey?: Uint8Array;
}

/** Encodes one frame the way a client sends it (masked unless `mask: false`). */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === "string" ? Buffer.from(spec.payload) : Buffer.from(spec.payload ?? []);
  const masked = spec.mask ?? true;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  head[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  const lengthCode = lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127;
  head[1] = (masked ? 0x80 : 0) | lengthCode;
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = Buffer.from(spec.maskKey ?? randomBytes(4));
  key.copy(head, 2 + lengthBytes);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([head, body]);
}

/** A close frame payload: 2-byte code then UTF-8 reason (section 5.5.1). */
export function closePayload(code: number, reason = ""): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** For close frames: the code (1005 when the payload is empty) and reason. */
  closeCode?: number;
  closeReason?: string;
}

/** The total size of the first frame in `bytes`, or null while its header is incomplete. */
export function frameSize(bytes: Buffer): number | null {
  if (bytes.length < 2) return null;
  const masked = (bytes[1]! & 0x80) !== 0 ? 4 : 0;
  const code = bytes[1]! & 0x7f;
  if (code < 126) return 2 + masked + code;
  if (code === 126) return bytes.length < 4 ? null : 4 + masked + bytes.readUInt16BE(2);
  return bytes.length < 10 ? null : 10 + masked + Number(bytes.readBigUInt64BE(2));
}

/** Decodes the first frame in `bytes`, or returns null when more bytes are needed. */
export function decodeFrame(bytes: Buffer): { frame: DecodedFrame; size: number } | null {
  if (bytes.length < 2) return null;
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  let offset = 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (bytes.length < 4) return null;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return null;
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  let key: Buffer | null = null;
  if (masked) {
    if (bytes.length < offset + 4) return null;
    key = bytes.subarray(offset, offset + 4);
    offset += 4;
  }
  if (bytes.length < offset + length) return null;
  const payload = Buffer.from(bytes.subarray(offset, offset + length));
  if (key) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
  const frame: DecodedFrame = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload };
  if (frame.opcode === Op.close) {
    frame.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    frame.closeReason = payload.subarray(2).toString("utf8");
  }
  return { frame, size: offset + length };
}
