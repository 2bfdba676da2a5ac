/**
 * Test helpers for the Sans-I/O core: build raw frames byte by byte (any header bits, any
 * length encoding, masked or not), drive a Connection that records every event, and decode
 * the bytes it writes back with a small reference decoder independent of src/protocol.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Connection, type ConnectionEvents, type ConnectionOptions, type Role } from "../../src/protocol/connection.js";

export const OP = { cont: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A fixed masking key for frames we feed a server; any key works, this one is not all zeros. */
export const TEST_MASK = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

export interface RawFrame {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A masking key, `true` for TEST_MASK, or null/false/undefined for an unmasked frame. */
  mask?: Uint8Array | boolean | null;
  /** Force the length encoding (7, 16 or 64 bits) even when a shorter one would do. */
  lengthBits?: 7 | 16 | 64;
  /** Declare this payload length in the header instead of the real one (header-only tests). */
  declaredLength?: number;
  /** Raw 8 bytes for a 64-bit length, written as is (e.g. with the MSB set). */
  rawLength64?: Uint8Array;
}

export function bytes(payload: Uint8Array | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  return typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload);
}

/** Encodes one frame straight from RFC 6455 section 5.2, without using src/protocol. */
export function frame(spec: RawFrame): Buffer {
  const payload = bytes(spec.payload);
  const length = spec.declaredLength ?? payload.length;
  const key = spec.mask === true ? TEST_MASK : spec.mask ? spec.mask : null;
  const bits = spec.rawLength64 ? 64 : (spec.lengthBits ?? (length < 126 ? 7 : length < 65536 ? 16 : 64));
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | (spec.opcode & 0x0f)];
  const maskBit = key ? 0x80 : 0;
  if (bits === 7) {
    if (length > 125) throw new Error(`a 7-bit length cannot hold ${length}`);
    head.push(maskBit | length);
  } else if (bits === 16) {
    if (length > 0xffff) throw new Error(`a 16-bit length cannot hold ${length}`);
    head.push(maskBit | 126, length >> 8, length & 0xff);
  } else {
    head.push(maskBit | 127);
    if (spec.rawLength64) head.push(...spec.rawLength64);
    else {
      const high = Math.floor(length / 2 ** 32);
      const low = length % 2 ** 32;
      head.push(high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
      head.push(low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
    }
  }
  if (key) head.push(key[0]!, key[1]!, key[2]!, key[3]!);
  const body = Buffer.from(payload);
  if (key) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), body]);
}

/** A frame as a client sends it (masked with TEST_MASK unless `mask` says otherwise). */
export function clientFrame(opcode: number, payload?: Uint8Array | string, extra: Partial<RawFrame> = {}): Buffer {
  return frame({ mask: true, ...extra, opcode, ...(payload === undefined ? {} : { payload }) });
}

/** A frame as a server sends it (unmasked unless `mask` says otherwise). */
export function serverFrame(opcode: number, payload?: Uint8Array | string, extra: Partial<RawFrame> = {}): Buffer {
  return frame({ mask: false, ...extra, opcode, ...(payload === undefined ? {} : { payload }) });
}

/** A close payload: 2-byte code and reason, or raw bytes. */
export function closePayload(code: number, reason: string | Uint8Array = ""): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, bytes(reason)]);
}

export type Recorded =
  | { type: "message"; opcode: number; data: Buffer; compressed: boolean }
  | { type: "ping"; data: Buffer }
  | { type: "pong"; data: Buffer }
  | { type: "closeReceived"; code: number; reason: string }
  | { type: "closeHandshakeComplete" }
  | { type: "failed"; code: number; message: string; violation: string; value: number | undefined };

/** ConnectionEvents that remember everything, with payloads copied at the time they arrive. */
export class Recorder implements ConnectionEvents {
  readonly events: Recorded[] = [];
  /** Each write() call, its chunks joined. */
  readonly writes: Buffer[] = [];
  /** The buffers handed to message() as delivered, to check nothing changes them afterwards. */
  readonly delivered: Array<{ live: Buffer; copy: Buffer }> = [];

  write(chunks: Buffer[]): void {
    this.writes.push(Buffer.concat(chunks));
  }
  message(opcode: number, data: Buffer, compressed: boolean): void {
    this.delivered.push({ live: data, copy: Buffer.from(data) });
    this.events.push({ type: "message", opcode, data: Buffer.from(data), compressed });
  }
  ping(data: Buffer): void {
    this.events.push({ type: "ping", data: Buffer.from(data) });
  }
  pong(data: Buffer): void {
    this.events.push({ type: "pong", data: Buffer.from(data) });
  }
  closeReceived(code: number, reason: string): void {
    this.events.push({ type: "closeReceived", code, reason });
  }
  closeHandshakeComplete(): void {
    this.events.push({ type: "closeHandshakeComplete" });
  }
  /** Set by a test to hold the reply to the peer's close frame. */
  holdCloseReply?: (code: number | undefined, reason: string) => boolean;

  failed(code: number, message: string, violation: string, value?: number): void {
    this.events.push({ type: "failed", code, message, violation, value });
  }

  /** Every byte written so far. */
  get written(): Buffer {
    return Buffer.concat(this.writes);
  }
  /** Events without the failure message text, for comparisons. */
  get shape(): unknown[] {
    return this.events.map((e) => (e.type === "failed" ? { type: "failed", code: e.code } : e));
  }
  get failures(): Array<Extract<Recorded, { type: "failed" }>> {
    return this.events.filter((e): e is Extract<Recorded, { type: "failed" }> => e.type === "failed");
  }
  get messages(): Array<Extract<Recorded, { type: "message" }>> {
    return this.events.filter((e): e is Extract<Recorded, { type: "message" }> => e.type === "message");
  }
}

export interface TestConnection {
  conn: Connection;
  rec: Recorder;
  /** The masking keys handed out, in order (client role). */
  keys: Uint8Array[];
  /** Feeds a copy of the bytes (the connection may unmask its input in place). */
  feed(...chunks: Uint8Array[]): void;
  /** Frames written so far, decoded. */
  sent(): DecodedFrame[];
}

/**
 * A Connection with a recording ConnectionEvents. A client gets a deterministic maskSource
 * whose keys differ from frame to frame and are all recorded.
 */
export function connect(role: Role, options: Partial<Omit<ConnectionOptions, "role">> = {}): TestConnection {
  const rec = new Recorder();
  const keys: Uint8Array[] = [];
  let counter = 0;
  const maskSource = (): Uint8Array => {
    counter++;
    const key = Uint8Array.of(counter & 0xff, (counter * 7 + 1) & 0xff, (counter * 13 + 2) & 0xff, 0xa5 ^ (counter & 0xff));
    keys.push(Uint8Array.from(key));
    return key;
  };
  const conn = new Connection({ role, maxMessageBytes: 1 << 20, ...(role === "client" ? { maskSource } : {}), ...options }, rec);
  return {
    conn,
    rec,
    keys,
    feed(...chunks) {
      for (const chunk of chunks) conn.receive(Buffer.from(chunk));
    },
    sent() {
      return decodeAll(rec.written);
    },
  };
}

export interface DecodedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  mask: Buffer | null;
  /** Unmasked payload. */
  payload: Buffer;
}

/**
 * Reference decoder of a complete byte stream (section 5.2), written for clarity rather than
 * speed. Returns null at `at` if the bytes end inside a frame.
 */
export function decodeOne(data: Buffer, at: number): { frame: DecodedFrame; next: number } | null {
  if (data.length - at < 2) return null;
  const b0 = data[at]!;
  const b1 = data[at + 1]!;
  let p = at + 2;
  let length = b1 & 0x7f;
  if (length === 126) {
    if (data.length - p < 2) return null;
    length = data.readUInt16BE(p);
    p += 2;
  } else if (length === 127) {
    if (data.length - p < 8) return null;
    length = Number(data.readBigUInt64BE(p));
    p += 8;
  }
  let mask: Buffer | null = null;
  if (b1 & 0x80) {
    if (data.length - p < 4) return null;
    mask = Buffer.from(data.subarray(p, p + 4));
    p += 4;
  }
  if (data.length - p < length) return null;
  const payload = Buffer.from(data.subarray(p, p + length));
  if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
  return {
    frame: {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      mask,
      payload,
    },
    next: p + length,
  };
}

/** Decodes a stream that must consist of whole frames. */
export function decodeAll(data: Buffer): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  let at = 0;
  while (at < data.length) {
    const one = decodeOne(data, at);
    assert.ok(one, `written bytes end inside a frame at offset ${at} of ${data.length}`);
    out.push(one.frame);
    at = one.next;
  }
  return out;
}

/** The close frames written, as { code, reason } (code undefined for an empty close). */
export function sentCloses(t: TestConnection): Array<{ code: number | undefined; reason: string }> {
  return t
    .sent()
    .filter((f) => f.opcode === OP.close)
    .map((f) => ({
      code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined,
      reason: f.payload.subarray(2).toString("utf8"),
    }));
}

/**
 * Asserts the connection failed exactly once with `code`, wrote exactly one close frame
 * carrying that code, and emitted nothing after the failure.
 */
export function assertFailedWith(t: TestConnection, code: number): void {
  const failures = t.rec.failures;
  assert.equal(failures.length, 1, `expected one failure, got ${JSON.stringify(t.rec.shape)}`);
  assert.equal(failures[0]!.code, code, `failure message: ${failures[0]!.message}`);
  assert.equal(t.rec.events.at(-1)!.type, "failed", "no event may follow the failure");
  const closes = sentCloses(t);
  assert.equal(closes.length, 1, "exactly one close frame is written");
  assert.equal(closes[0]!.code, code, "the close frame carries the failure code");
}

/** Splits `data` into pieces at the given sorted cut points. */
export function splitAt(data: Uint8Array, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from || cut >= data.length) continue;
    out.push(Buffer.from(data.subarray(from, cut)));
    from = cut;
  }
  out.push(Buffer.from(data.subarray(from)));
  return out;
}

/** Every byte on its own. */
export function oneByteAtATime(data: Uint8Array): Buffer[] {
  return Array.from(data, (b) => Buffer.of(b));
}

/** A small deterministic PRNG (mulberry32) for reproducible random splits. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
