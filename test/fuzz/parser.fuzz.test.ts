/**
 * Property-based fuzzing of the frame parser and the connection state machine (issue 5,
 * item 2): valid streams agree with a straightforward reference decoder whatever the cuts;
 * mutated and random streams never throw, fail at most once, and never deliver or hold more
 * than the limit; a violation injected into a valid stream gets its close code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer, isUtf8 } from "node:buffer";
import fc from "fast-check";
import { connect, decodeAll, decodeOne, OP, splitAt, type TestConnection } from "../protocol/helpers.js";
import {
  controlArb,
  cutPositions,
  cutsArb,
  encodeItem,
  encodeStream,
  messageArb,
  mutate,
  mutationsArb,
  validStreamArb,
  type FrameItem,
  type Role,
  runs,
} from "./streams.js";

const roleArb = fc.constantFrom<Role>("server", "client");
const limitArb = fc.oneof(fc.constant(1 << 20), fc.integer({ min: 0, max: 400 }));

type Event = unknown[];

/**
 * The reference model, for valid streams: decode the whole stream at once, frame by frame,
 * and apply the message rules in the plainest way. Returns the events and the frames we owe
 * (as [opcode, payload hex], close frames as [8, code]).
 */
function reference(stream: Buffer, limit: number): { events: Event[]; writes: Event[] } {
  const events: Event[] = [];
  const writes: Event[] = [];
  let message: { opcode: number; pieces: Buffer[]; size: number } | null = null;
  let at = 0;
  for (;;) {
    const decoded = decodeOne(stream, at);
    if (!decoded) break;
    const f = decoded.frame;
    at = decoded.next;
    if (f.opcode === OP.ping) {
      writes.push([OP.pong, f.payload.toString("hex")]);
      events.push(["ping", f.payload.toString("hex")]);
    } else if (f.opcode === OP.pong) {
      events.push(["pong", f.payload.toString("hex")]);
    } else if (f.opcode === OP.close) {
      const code = f.payload.length === 0 ? 1005 : f.payload.readUInt16BE(0);
      writes.push([OP.close, code === 1005 ? "none" : code]);
      events.push(["closeReceived", code, f.payload.subarray(2).toString("utf8")], ["closeHandshakeComplete"]);
      break;
    } else {
      if (f.opcode !== OP.cont) message = { opcode: f.opcode, pieces: [], size: 0 };
      if (message!.size + f.payload.length > limit) {
        writes.push([OP.close, 1009]);
        events.push(["failed", 1009]);
        break;
      }
      message!.pieces.push(f.payload);
      message!.size += f.payload.length;
      if (f.fin) {
        events.push(["message", message!.opcode, Buffer.concat(message!.pieces).toString("hex")]);
        message = null;
      }
    }
  }
  return { events, writes };
}

function observed(t: TestConnection): { events: Event[]; writes: Event[] } {
  const events = t.rec.events.map((e): Event => {
    switch (e.type) {
      case "message":
        return ["message", e.opcode, e.data.toString("hex")];
      case "ping":
      case "pong":
        return [e.type, e.data.toString("hex")];
      case "closeReceived":
        return [e.type, e.code, e.reason];
      case "failed":
        return [e.type, e.code];
      default:
        return [e.type];
    }
  });
  const writes = t
    .sent()
    .map((f): Event =>
      f.opcode === OP.close ? [OP.close, f.payload.length === 0 ? "none" : f.payload.readUInt16BE(0)] : [f.opcode, f.payload.toString("hex")],
    );
  return { events, writes };
}

/** Feeds the pieces, checking after each that no more than the limit is held for a message. */
function feedChecked(role: Role, limit: number, pieces: Buffer[], compression = false): TestConnection {
  const t = connect(role, { maxMessageBytes: limit, compression });
  for (const piece of pieces) {
    t.feed(piece);
    assert.ok(t.conn.bufferedMessageBytes <= limit, `holding ${t.conn.bufferedMessageBytes} bytes with a limit of ${limit}`);
  }
  return t;
}

/** Properties every input must keep, valid or not. */
function checkInvariants(t: TestConnection, limit: number, role: Role): void {
  const events = t.rec.events;
  const failures = events.filter((e) => e.type === "failed");
  assert.ok(failures.length <= 1, "at most one failure");
  if (failures.length === 1) {
    assert.equal(events.at(-1)!.type, "failed", "nothing after a failure");
    assert.ok([1002, 1007, 1009].includes(failures[0]!.code), `failure code ${failures[0]!.code}`);
  }
  const closing = events.findIndex((e) => e.type === "closeReceived");
  if (closing >= 0) {
    assert.deepEqual(
      events.slice(closing + 1).map((e) => e.type),
      ["closeHandshakeComplete"],
    );
    assert.equal(failures.length, 0);
  }
  for (const m of t.rec.messages) {
    assert.ok(m.data.length <= limit, `a message of ${m.data.length} bytes with a limit of ${limit}`);
    if (m.opcode === OP.text && !m.compressed) assert.ok(isUtf8(m.data), "uncompressed text messages are valid UTF-8");
    assert.ok(m.opcode === OP.text || m.opcode === OP.binary);
  }
  for (const { live, copy } of t.rec.delivered) assert.ok(live.equals(copy), "a delivered message is not changed afterwards");
  const sent = decodeAll(t.rec.written); // whole frames only
  assert.ok(sent.filter((f) => f.opcode === OP.close).length <= 1, "at most one close frame sent");
  const closeAt = sent.findIndex((f) => f.opcode === OP.close);
  assert.ok(closeAt < 0 || closeAt === sent.length - 1, "nothing is sent after our close frame");
  for (const f of sent) assert.equal(f.mask !== null, role === "client", "a client masks every frame, a server none");
}

test("fuzz: valid streams, cut anywhere, agree with the reference decoder (both roles, with and without a small limit)", () => {
  fc.assert(
    fc.property(roleArb, validStreamArb, limitArb, cutsArb, (role, items, limit, cuts) => {
      const stream = encodeStream(items, role);
      const expected = reference(stream, limit);
      const t = feedChecked(role, limit, splitAt(stream, cutPositions(stream.length, cuts)));
      assert.deepEqual(observed(t), expected);
      checkInvariants(t, limit, role);
    }),
    { numRuns: runs(1000) },
  );
});

test("fuzz: valid streams fed one byte at a time agree with the reference decoder", () => {
  fc.assert(
    fc.property(roleArb, validStreamArb, (role, items) => {
      const stream = encodeStream(items, role);
      const t = feedChecked(
        role,
        1 << 20,
        Array.from(stream, (b) => Buffer.of(b)),
      );
      assert.deepEqual(observed(t), reference(stream, 1 << 20));
    }),
    { numRuns: runs(200) },
  );
});

test("fuzz: mutated streams never throw, fail at most once, respect the limit, and do not depend on the cuts", () => {
  fc.assert(
    fc.property(roleArb, validStreamArb, mutationsArb, limitArb, cutsArb, fc.boolean(), (role, items, mutations, limit, cuts, compression) => {
      const stream = mutate(encodeStream(items, role), mutations);
      const whole = feedChecked(role, limit, [stream], compression);
      checkInvariants(whole, limit, role);
      const pieces = feedChecked(role, limit, splitAt(stream, cutPositions(stream.length, cuts)), compression);
      checkInvariants(pieces, limit, role);
      assert.deepEqual(observed(pieces), observed(whole));
    }),
    { numRuns: runs(2000) },
  );
});

test("fuzz: random bytes never throw, fail at most once and do not depend on the cuts", () => {
  fc.assert(
    fc.property(roleArb, fc.uint8Array({ maxLength: 200 }), limitArb, cutsArb, (role, data, limit, cuts) => {
      const stream = Buffer.from(data);
      const whole = feedChecked(role, limit, [stream]);
      checkInvariants(whole, limit, role);
      const pieces = feedChecked(role, limit, splitAt(stream, cutPositions(stream.length, cuts)));
      assert.deepEqual(observed(pieces), observed(whole));
    }),
    { numRuns: runs(2000) },
  );
});

/** A frame of a violation; `wrongMask` flips masking to what the receiving role forbids. */
type ViolationFrame = FrameItem & { wrongMask?: boolean };
type Violation = { name: string; code: number; frames: ViolationFrame[] };

/** Violations with the close code each must get (RFC 6455 sections 5.2-5.5, 7.4, 8.1). */
const violationArb: fc.Arbitrary<Violation> = fc
  .record({
    kind: fc.integer({ min: 0, max: 12 }),
    opcode: fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf),
    anyOpcode: fc.constantFrom(OP.text, OP.binary, OP.ping, OP.pong, OP.close),
    bit: fc.constantFrom("rsv1", "rsv2", "rsv3"),
    bytes: fc.uint8Array({ maxLength: 20 }),
    badUtf8: fc.uint8Array({ minLength: 1, maxLength: 20 }).filter((b) => !isUtf8(b)),
    badCode: fc.oneof(
      fc.integer({ min: 0, max: 999 }),
      fc.constantFrom(1004, 1005, 1006, 1015),
      fc.integer({ min: 1016, max: 2999 }),
      fc.integer({ min: 5000, max: 65535 }),
    ),
    controlLength: fc.integer({ min: 126, max: 70000 }),
    key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  })
  .map(({ kind, opcode, anyOpcode, bit, bytes, badUtf8, badCode, controlLength, key }): Violation => {
    const base = { key, encoding: 7 as const, fin: true };
    const payload = Buffer.from(bytes);
    switch (kind) {
      case 0:
        return { name: "reserved opcode", code: 1002, frames: [{ ...base, opcode, payload }] };
      case 1:
        return { name: `${bit} set`, code: 1002, frames: [{ ...base, opcode: anyOpcode, payload: Buffer.alloc(0), [bit]: true }] };
      case 2:
        return { name: "fragmented control", code: 1002, frames: [{ ...base, opcode: OP.ping, payload, fin: false }] };
      case 3:
        return { name: "oversized control", code: 1002, frames: [{ ...base, opcode: OP.pong, payload: Buffer.alloc(0), declaredLength: controlLength }] };
      case 4:
        return { name: "continuation without start", code: 1002, frames: [{ ...base, opcode: OP.cont, payload }] };
      case 5:
        return {
          name: "new message inside a fragmented one",
          code: 1002,
          frames: [
            { ...base, opcode: OP.binary, payload, fin: false },
            { ...base, opcode: OP.text, payload: Buffer.alloc(0) },
          ],
        };
      case 6:
        return { name: "1-byte close", code: 1002, frames: [{ ...base, opcode: OP.close, payload: Buffer.of(bytes[0] ?? 3) }] };
      case 7:
        return {
          name: "invalid close code",
          code: 1002,
          frames: [{ ...base, opcode: OP.close, payload: Buffer.concat([Buffer.of(badCode >> 8, badCode & 0xff), payload]) }],
        };
      case 8:
        return {
          name: "invalid close reason",
          code: 1007,
          frames: [{ ...base, opcode: OP.close, payload: Buffer.concat([Buffer.of(0x03, 0xe8), Buffer.from(badUtf8)]) }],
        };
      case 9:
        return { name: "invalid UTF-8 text", code: 1007, frames: [{ ...base, opcode: OP.text, payload: Buffer.from(badUtf8) }] };
      case 10:
        return {
          name: "invalid UTF-8 in a continuation",
          code: 1007,
          frames: [
            { ...base, opcode: OP.text, payload: Buffer.from("ok"), fin: false },
            { ...base, opcode: OP.cont, payload: Buffer.from(badUtf8) },
          ],
        };
      case 11:
        return { name: "wrong masking", code: 1002, frames: [{ ...base, opcode: anyOpcode === OP.close ? OP.ping : anyOpcode, payload, wrongMask: true }] };
      default:
        return { name: "over the limit", code: 1009, frames: [{ ...base, opcode: OP.binary, payload: Buffer.alloc(0), declaredLength: 401 + controlLength }] };
    }
  });

test("fuzz: a violation injected after valid messages fails with its close code, after exactly the prefix's events", () => {
  const prefixArb = fc
    .array(
      fc.oneof(
        messageArb,
        controlArb.map((c) => [c]),
      ),
      { maxLength: 4 },
    )
    .map((m) => m.flat());
  fc.assert(
    fc.property(roleArb, prefixArb, violationArb, fc.array(messageArb, { maxLength: 2 }), cutsArb, (role, prefix, violation, after, cuts) => {
      const limit = 400;
      const bad = violation.frames.map((f) => (f.wrongMask ? { ...f, masked: role !== "server" } : f));
      const prefixBytes = encodeStream(prefix, role);
      const stream = Buffer.concat([prefixBytes, ...bad.map((f) => encodeItem(f, role)), encodeStream(after.flat(), role)]);
      const expected = reference(prefixBytes, limit);
      const t = feedChecked(role, limit, splitAt(stream, cutPositions(stream.length, cuts)));
      const got = observed(t);
      assert.deepEqual(got.events, [...expected.events, ["failed", violation.code]], violation.name);
      assert.deepEqual(got.writes, [...expected.writes, [OP.close, violation.code]], violation.name);
      checkInvariants(t, limit, role);
    }),
    { numRuns: runs(2000) },
  );
});
