/**
 * fast-check arbitraries for frame streams: valid ones (messages fragmented anyhow, control
 * frames between fragments, any length encoding, random masks), an optional close, and the
 * ways to cut and mutate them.
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { frame, OP } from "../protocol/helpers.js";

export interface FrameItem {
  opcode: number;
  payload: Buffer;
  fin: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  key: Uint8Array;
  /** Requested length encoding; a shorter one than the length needs is raised to fit. */
  encoding: 7 | 16 | 64;
  /** Overrides whether the frame is masked (default: masked exactly when sent to a server). */
  masked?: boolean;
  declaredLength?: number;
}

export type Role = "server" | "client";

const keyArb = fc.uint8Array({ minLength: 4, maxLength: 4 });
const encodingArb = fc.constantFrom<7 | 16 | 64>(7, 7, 7, 16, 64);

export const controlArb: fc.Arbitrary<FrameItem> = fc
  .record({ opcode: fc.constantFrom(OP.ping, OP.pong), payload: fc.uint8Array({ maxLength: 125 }), key: keyArb, encoding: encodingArb })
  .map(({ opcode, payload, key, encoding }) => ({ opcode, payload: Buffer.from(payload), fin: true, key, encoding }));

/** One whole data message as frames: fragmented at random byte offsets (even inside a UTF-8 character), controls between. */
export const messageArb: fc.Arbitrary<FrameItem[]> = fc
  .record({
    isText: fc.boolean(),
    text: fc.string({ unit: "binary", maxLength: 60 }),
    binary: fc.uint8Array({ maxLength: 300 }),
    cuts: fc.array(fc.nat({ max: 400 }), { maxLength: 4 }),
    between: fc.array(fc.array(controlArb, { maxLength: 2 }), { maxLength: 4 }),
    keys: fc.array(keyArb, { minLength: 5, maxLength: 5 }),
    encodings: fc.array(encodingArb, { minLength: 5, maxLength: 5 }),
  })
  .map(({ isText, text, binary, cuts, between, keys, encodings }) => {
    const payload = isText ? Buffer.from(text, "utf8") : Buffer.from(binary);
    const points = cuts.map((c) => c % (payload.length + 1)).sort((a, b) => a - b);
    const bounds = [0, ...points, payload.length];
    const frames: FrameItem[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      frames.push({
        opcode: i === 0 ? (isText ? OP.text : OP.binary) : OP.cont,
        payload: payload.subarray(bounds[i], bounds[i + 1]),
        fin: last,
        key: keys[i]!,
        encoding: encodings[i]!,
      });
      if (!last) frames.push(...(between[i] ?? []));
    }
    return frames;
  });

const validCloseCodeArb = fc.oneof(
  fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
  fc.integer({ min: 3000, max: 4999 }),
);

export const closeArb: fc.Arbitrary<FrameItem> = fc
  .record({
    empty: fc.boolean(),
    code: validCloseCodeArb,
    reason: fc.string({ unit: "binary", maxLength: 30 }).filter((r) => Buffer.byteLength(r) <= 123),
    key: keyArb,
  })
  .map(({ empty, code, reason, key }) => {
    const payload = empty ? Buffer.alloc(0) : Buffer.concat([Buffer.of(code >> 8, code & 0xff), Buffer.from(reason)]);
    return { opcode: OP.close, payload, fin: true, key, encoding: 7 as const };
  });

/** A valid stream: messages and lone control frames, maybe a close, maybe frames after it. */
export const validStreamArb: fc.Arbitrary<FrameItem[]> = fc
  .record({
    body: fc.array(fc.oneof({ weight: 3, arbitrary: messageArb }, { weight: 1, arbitrary: controlArb.map((c) => [c]) }), {
      maxLength: 6,
    }),
    close: fc.option(closeArb),
    after: fc.array(messageArb, { maxLength: 1 }),
  })
  .map(({ body, close, after }) => [...body.flat(), ...(close ? [close, ...after.flat()] : [])]);

/** Encodes items as the peer of `role` sends them. */
export function encodeStream(items: FrameItem[], role: Role): Buffer {
  return Buffer.concat(items.map((item) => encodeItem(item, role)));
}

export function encodeItem(item: FrameItem, role: Role): Buffer {
  const length = item.declaredLength ?? item.payload.length;
  const minimal = length < 126 ? 7 : length < 65536 ? 16 : 64;
  const lengthBits = Math.max(minimal, item.encoding) as 7 | 16 | 64;
  const masked = item.masked ?? role === "server";
  return frame({
    opcode: item.opcode,
    payload: item.payload,
    fin: item.fin,
    rsv1: item.rsv1 ?? false,
    rsv2: item.rsv2 ?? false,
    rsv3: item.rsv3 ?? false,
    mask: masked ? item.key : null,
    lengthBits,
    ...(item.declaredLength === undefined ? {} : { declaredLength: item.declaredLength }),
  });
}

/** Cut points as fractions, so they fit whatever length the stream turns out to have. */
export const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

export function cutPositions(length: number, fractions: number[]): number[] {
  return fractions.map((f) => Math.floor(f * length)).sort((a, b) => a - b);
}

export type Mutation = { kind: "flip" | "set" | "insert" | "delete" | "truncate"; at: number; value: number };

export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(
  fc
    .record({
      kind: fc.constantFrom<Mutation["kind"]>("flip", "flip", "set", "insert", "delete", "truncate"),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      value: fc.integer({ min: 0, max: 255 }),
    })
    .map(({ kind, at, value }) => ({ kind, at: Math.floor(at * 1e6), value })),
  { minLength: 1, maxLength: 4 },
);

export function mutate(data: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(data);
  for (const m of mutations) {
    if (out.length === 0) {
      out = Buffer.of(m.value);
      continue;
    }
    const at = m.at % out.length;
    if (m.kind === "flip") out[at] = out[at]! ^ (1 << (m.value & 7));
    else if (m.kind === "set") out[at] = m.value;
    else if (m.kind === "insert") out = Buffer.concat([out.subarray(0, at), Buffer.of(m.value), out.subarray(at)]);
    else if (m.kind === "delete") out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else out = out.subarray(0, at);
  }
  return out;
}

/**
 * Run counts are bounded so each fuzz file stays within seconds in `npm test`; set
 * HAWSER_FUZZ_SCALE (e.g. 50) for a deeper local campaign. fast-check prints the seed and a
 * shrunk counterexample on failure; replay it with `fc.assert(..., { seed, path })`.
 */
export function runs(n: number): number {
  const scale = Number(process.env.HAWSER_FUZZ_SCALE ?? "1");
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
