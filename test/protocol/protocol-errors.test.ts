/**
 * Every protocol rule a peer can break, and the close code it gets (RFC 6455 sections 5, 7.4,
 * 8.1; RFC 7692 section 6). Each test decodes the close frame actually written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { ConnectionOptions, Role } from "../../src/protocol/connection.js";
import {
  assertFailedWith,
  clientFrame,
  closePayload,
  connect,
  frame,
  oneByteAtATime,
  OP,
  sentCloses,
  serverFrame,
  type RawFrame,
  type TestConnection,
} from "./helpers.js";

const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
const MESSAGE_TOO_BIG = 1009;

/** A frame as the peer of `role` sends it: masked to a server, unmasked to a client. */
function peerFrame(role: Role, opcode: number, payload?: Uint8Array | string, extra: Partial<RawFrame> = {}): Buffer {
  return role === "server" ? clientFrame(opcode, payload, extra) : serverFrame(opcode, payload, extra);
}

/** Feeds `chunks` to a fresh connection and checks the one failure, its close frame, and that later input is ignored. */
function expectFailure(role: Role, chunks: Buffer[], code: number, options: Partial<Omit<ConnectionOptions, "role">> = {}): TestConnection {
  const t = connect(role, options);
  t.feed(...chunks);
  assertFailedWith(t, code);
  const [closeFrame] = t.sent().filter((f) => f.opcode === OP.close);
  assert.equal(closeFrame!.mask !== null, role === "client", "a client's close frame is masked, a server's is not");
  const before = t.rec.events.length;
  const writes = t.rec.writes.length;
  t.feed(peerFrame(role, OP.ping, "after failure"), peerFrame(role, OP.text, "after failure"));
  assert.equal(t.rec.events.length, before, "input after the failure is ignored");
  assert.equal(t.rec.writes.length, writes, "nothing is written after the failure");
  return t;
}

function expectAccepted(role: Role, chunks: Buffer[], options: Partial<Omit<ConnectionOptions, "role">> = {}): TestConnection {
  const t = connect(role, options);
  t.feed(...chunks);
  assert.deepEqual(t.rec.failures, [], "no failure");
  return t;
}

// --- reserved bits ------------------------------------------------------------------------

for (const role of ["server", "client"] as const) {
  for (const bit of ["rsv1", "rsv2", "rsv3"] as const) {
    for (const opcode of [OP.text, OP.binary, OP.ping, OP.close]) {
      test(`${role}: ${bit.toUpperCase()} on opcode ${opcode} without a negotiated extension fails with 1002`, () => {
        expectFailure(role, [peerFrame(role, opcode, "", { [bit]: true })], PROTOCOL_ERROR);
      });
    }
  }
}

test("compression: RSV1 on the first frame of a message is accepted and marks the message compressed", () => {
  const t = expectAccepted(
    "server",
    [
      clientFrame(OP.text, Uint8Array.of(0xff, 0xfe), { rsv1: true, fin: false }),
      clientFrame(OP.cont, Uint8Array.of(0x80), { fin: true }),
      clientFrame(OP.binary, "plain"),
    ],
    { compression: true },
  );
  // Compressed bytes are not UTF-8; validation is the inflating layer's job. Nothing behind a
  // compressed message is parsed until that layer has inflated it and resumes the connection.
  assert.deepEqual(t.rec.shape, [{ type: "message", opcode: OP.text, data: Buffer.from([0xff, 0xfe, 0x80]), compressed: true }]);
  t.conn.resumeReceiving();
  assert.deepEqual(t.rec.shape, [
    { type: "message", opcode: OP.text, data: Buffer.from([0xff, 0xfe, 0x80]), compressed: true },
    { type: "message", opcode: OP.binary, data: Buffer.from("plain"), compressed: false },
  ]);
});

test("compression: a ping behind a compressed message is not answered before the message is resumed", () => {
  const t = expectAccepted("server", [clientFrame(OP.binary, "zzz", { rsv1: true }), clientFrame(OP.ping, "p")], { compression: true });
  assert.equal(t.rec.shape.length, 1, "only the compressed message so far");
  t.conn.fail(1007, "corrupt compressed data", "invalid-compressed-data");
  t.conn.resumeReceiving();
  assert.ok(!t.rec.shape.some((event) => (event as { type: string }).type === "ping"), "the ping behind a failed message is never acted on");
});

test("compression: RSV1 on a continuation frame fails with 1002", () => {
  expectFailure("server", [clientFrame(OP.text, "a", { rsv1: true, fin: false }), clientFrame(OP.cont, "b", { rsv1: true })], PROTOCOL_ERROR, {
    compression: true,
  });
});

for (const opcode of [OP.ping, OP.pong, OP.close]) {
  test(`compression: RSV1 on control opcode ${opcode} fails with 1002 (RFC 7692 section 6)`, () => {
    expectFailure("client", [serverFrame(opcode, "", { rsv1: true })], PROTOCOL_ERROR, { compression: true });
  });
}

test("compression: RSV2 and RSV3 still fail with 1002 when permessage-deflate is negotiated", () => {
  expectFailure("server", [clientFrame(OP.text, "x", { rsv2: true })], PROTOCOL_ERROR, { compression: true });
  expectFailure("server", [clientFrame(OP.text, "x", { rsv3: true })], PROTOCOL_ERROR, { compression: true });
});

// --- opcodes ----------------------------------------------------------------------------

for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
  test(`reserved opcode 0x${opcode.toString(16)} fails with 1002, from its header alone`, () => {
    // Declares a payload that never arrives: the header decides.
    expectFailure("server", [clientFrame(opcode, undefined, { declaredLength: 10 })], PROTOCOL_ERROR);
    expectFailure("client", [serverFrame(opcode, "payload")], PROTOCOL_ERROR);
  });
}

test("reserved opcode inside a fragmented message fails with 1002", () => {
  expectFailure("server", [clientFrame(OP.text, "a", { fin: false }), clientFrame(0xb, "")], PROTOCOL_ERROR);
});

// --- control frames ---------------------------------------------------------------------

for (const opcode of [OP.ping, OP.pong, OP.close]) {
  test(`control opcode ${opcode} with a 126-byte payload fails with 1002 from the header, before the payload`, () => {
    expectFailure("server", [clientFrame(opcode, undefined, { declaredLength: 126 })], PROTOCOL_ERROR);
    expectFailure("client", [serverFrame(opcode, Buffer.alloc(126))], PROTOCOL_ERROR);
    expectFailure("server", [clientFrame(opcode, undefined, { declaredLength: 65536 })], PROTOCOL_ERROR);
  });

  test(`control opcode ${opcode} with FIN clear (fragmented) fails with 1002`, () => {
    expectFailure("server", [clientFrame(opcode, "", { fin: false })], PROTOCOL_ERROR);
  });
}

test("a control frame of exactly 125 bytes is accepted", () => {
  const t = expectAccepted("server", [clientFrame(OP.ping, Buffer.alloc(125, 1))]);
  assert.equal(t.sent()[0]!.payload.length, 125);
});

// --- fragmentation --------------------------------------------------------------------------

test("continuation frame without a message to continue fails with 1002", () => {
  expectFailure("server", [clientFrame(OP.cont, "orphan")], PROTOCOL_ERROR);
  expectFailure("client", [serverFrame(OP.text, "done"), serverFrame(OP.cont, "orphan", { fin: false })], PROTOCOL_ERROR);
});

test("a new text message inside a fragmented message fails with 1002", () => {
  expectFailure("server", [clientFrame(OP.text, "a", { fin: false }), clientFrame(OP.text, "b")], PROTOCOL_ERROR);
});

test("a new binary message inside a fragmented text message fails with 1002", () => {
  const t = expectFailure(
    "server",
    [clientFrame(OP.text, "a", { fin: false }), clientFrame(OP.ping, "ok"), clientFrame(OP.binary, "b", { fin: false })],
    PROTOCOL_ERROR,
  );
  assert.equal(t.rec.events[0]!.type, "ping", "the ping before the violation is still answered");
});

// --- close frames -----------------------------------------------------------------------

test("close frame with a 1-byte payload fails with 1002, whatever the byte", () => {
  // Some single bytes would read as a valid code if taken as the high byte (0x0F -> 3840).
  for (let byte = 0; byte < 256; byte++) expectFailure("server", [clientFrame(OP.close, Uint8Array.of(byte))], PROTOCOL_ERROR);
});

for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  test(`close code ${code} from the peer is invalid: fails with 1002`, () => {
    expectFailure("server", [clientFrame(OP.close, closePayload(code))], PROTOCOL_ERROR);
  });
}

for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
  test(`close code ${code} from the peer is accepted and echoed`, () => {
    const t = expectAccepted("server", [clientFrame(OP.close, closePayload(code, "why"))]);
    assert.deepEqual(sentCloses(t), [{ code, reason: "why" }], "code and reason echoed");
    assert.deepEqual(t.rec.shape, [{ type: "closeReceived", code, reason: "why" }, { type: "closeHandshakeComplete" }]);
  });
}

test("close reason that is not valid UTF-8 fails with 1007", () => {
  expectFailure("server", [clientFrame(OP.close, closePayload(1000, Uint8Array.of(0x61, 0xc0, 0xaf)))], INVALID_PAYLOAD);
  expectFailure("client", [serverFrame(OP.close, closePayload(1000, Uint8Array.of(0xe2, 0x82)))], INVALID_PAYLOAD);
});

test("close reason with multi-byte UTF-8 up to 123 bytes is accepted", () => {
  const reason = "ü".repeat(61) + "x";
  const t = expectAccepted("server", [clientFrame(OP.close, closePayload(1000, reason))]);
  assert.deepEqual(t.rec.events[0], { type: "closeReceived", code: 1000, reason });
});

// --- UTF-8 in text messages ---------------------------------------------------------------

test("invalid UTF-8 in a single-frame text message fails with 1007", () => {
  expectFailure("server", [clientFrame(OP.text, Uint8Array.of(0x68, 0x69, 0xff))], INVALID_PAYLOAD);
});

test("text message ending inside a UTF-8 sequence fails with 1007 at its last frame", () => {
  expectFailure("server", [clientFrame(OP.text, Uint8Array.of(0x61, 0xe2, 0x82))], INVALID_PAYLOAD);
  const t = connect("server");
  t.feed(clientFrame(OP.text, Uint8Array.of(0x61, 0xf0, 0x9f), { fin: false }));
  assert.equal(t.rec.failures.length, 0, "an incomplete character is fine mid-message");
  t.feed(clientFrame(OP.cont, Uint8Array.of(0x98), { fin: true }));
  assertFailedWith(t, INVALID_PAYLOAD);
});

test("invalid UTF-8 fails at the first bad byte within one frame whose payload arrives byte by byte", () => {
  const good = Buffer.from("valid prefix κόσμε ");
  const payload = Buffer.concat([good, Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(" and a long tail".repeat(10))]);
  const badIndex = good.length + 1; // 0xED is a valid start; 0xA0 after it would be a surrogate
  const bytes = clientFrame(OP.text, payload);
  const headerSize = bytes.length - payload.length;
  const t = connect("server");
  t.feed(bytes.subarray(0, headerSize));
  oneByteAtATime(bytes.subarray(headerSize)).forEach((byte, i) => {
    t.feed(byte);
    assert.equal(t.rec.failures.length, i >= badIndex ? 1 : 0, `after payload byte ${i}`);
  });
  assertFailedWith(t, INVALID_PAYLOAD);
});

test("invalid UTF-8 fails at the first bad byte across fragments, before the rest of the fragment arrives", () => {
  // Fragment 1 ends in the lead byte of a 3-byte sequence; fragment 2 starts with an overlong continuation.
  const t = connect("server");
  t.feed(clientFrame(OP.text, Uint8Array.of(0x41, 0xe0), { fin: false }));
  t.feed(clientFrame(OP.ping, "between"));
  const second = clientFrame(OP.cont, Buffer.concat([Buffer.of(0x80, 0x80), Buffer.alloc(1000, 0x41)]));
  const headerSize = second.length - 1002;
  t.feed(second.subarray(0, headerSize));
  assert.equal(t.rec.failures.length, 0);
  t.feed(second.subarray(headerSize, headerSize + 1));
  assertFailedWith(t, INVALID_PAYLOAD);
});

test("invalid UTF-8 in a later fragment fails before the message's final fragment", () => {
  const t = connect("server");
  t.feed(clientFrame(OP.text, "ok so far", { fin: false }));
  t.feed(clientFrame(OP.cont, Uint8Array.of(0x20, 0xf4, 0x90, 0x80, 0x80), { fin: false })); // above U+10FFFF
  assertFailedWith(t, INVALID_PAYLOAD);
});

test("a binary message is never checked as UTF-8", () => {
  const t = expectAccepted("server", [clientFrame(OP.binary, Uint8Array.of(0xff, 0xc0, 0xed, 0xa0, 0x80))]);
  assert.equal(t.rec.messages.length, 1);
});

// --- size limits ------------------------------------------------------------------------

test("a frame over maxMessageBytes fails with 1009 from its header alone, before the payload arrives", () => {
  const t = expectFailure("server", [clientFrame(OP.binary, undefined, { declaredLength: 1001 })], MESSAGE_TOO_BIG, {
    maxMessageBytes: 1000,
  });
  assert.equal(t.rec.messages.length, 0);
});

test("a frame over maxMessageBytes but within maxFrameBytes fails with 1009 from its header alone", () => {
  expectFailure("server", [clientFrame(OP.text, undefined, { declaredLength: 5000 })], MESSAGE_TOO_BIG, {
    maxMessageBytes: 4096,
    maxFrameBytes: 1 << 20,
  });
});

test("a frame over maxFrameBytes fails with 1009 even when the message limit is larger", () => {
  expectFailure("server", [clientFrame(OP.binary, undefined, { declaredLength: 300 })], MESSAGE_TOO_BIG, {
    maxMessageBytes: 1 << 20,
    maxFrameBytes: 256,
  });
});

test("maxFrameBytes is exact: a frame of the limit is accepted, one byte more fails with 1009", () => {
  const options = { maxMessageBytes: 1 << 20, maxFrameBytes: 256 };
  const t = expectAccepted("server", [clientFrame(OP.binary, Buffer.alloc(256), { fin: false }), clientFrame(OP.cont, Buffer.alloc(256))], options);
  assert.deepEqual(
    t.rec.messages.map((m) => m.data.length),
    [512],
    "the message limit, not the frame limit, bounds the sum",
  );
  expectFailure("server", [clientFrame(OP.binary, undefined, { declaredLength: 257 })], MESSAGE_TOO_BIG, options);
});

test("a message of exactly maxMessageBytes is accepted, also when fragmented", () => {
  const t = expectAccepted(
    "server",
    [clientFrame(OP.binary, Buffer.alloc(100)), clientFrame(OP.text, "a".repeat(60), { fin: false }), clientFrame(OP.cont, "b".repeat(40))],
    { maxMessageBytes: 100 },
  );
  assert.deepEqual(
    t.rec.messages.map((m) => m.data.length),
    [100, 100],
  );
});

test("fragments whose sum exceeds maxMessageBytes fail with 1009 at the header of the fragment that passes the limit", () => {
  const t = connect("server", { maxMessageBytes: 100 });
  t.feed(clientFrame(OP.binary, Buffer.alloc(60), { fin: false }));
  t.feed(clientFrame(OP.cont, Buffer.alloc(40), { fin: false }));
  assert.equal(t.rec.failures.length, 0);
  t.feed(clientFrame(OP.cont, undefined, { fin: false, declaredLength: 1 }));
  assertFailedWith(t, MESSAGE_TOO_BIG);
  assert.equal(t.rec.messages.length, 0);
});

test("endless continuation frames are cut with 1009 as soon as the limit is passed", () => {
  const t = connect("server", { maxMessageBytes: 10_000 });
  t.feed(clientFrame(OP.binary, Buffer.alloc(100), { fin: false }));
  let frames = 1;
  while (t.rec.failures.length === 0 && frames < 1000) {
    t.feed(clientFrame(OP.cont, Buffer.alloc(100), { fin: false }));
    frames++;
  }
  assert.equal(frames, 101, "the frame that brings the total to 10,100 bytes is refused");
  assertFailedWith(t, MESSAGE_TOO_BIG);
  assert.ok(t.conn.bufferedMessageBytes === 0, "the partial message is dropped");
});

test("control frames do not count toward the message limit", () => {
  expectAccepted(
    "server",
    [clientFrame(OP.binary, Buffer.alloc(90), { fin: false }), clientFrame(OP.ping, Buffer.alloc(125)), clientFrame(OP.cont, Buffer.alloc(10))],
    { maxMessageBytes: 100 },
  );
});

// --- masking and length encoding -----------------------------------------------------------

test("an unmasked frame to a server fails with 1002", () => {
  expectFailure("server", [frame({ opcode: OP.text, payload: "hi", mask: false })], PROTOCOL_ERROR);
  expectFailure("server", [frame({ opcode: OP.ping, payload: "", mask: false })], PROTOCOL_ERROR);
});

test("a masked frame to a client fails with 1002", () => {
  expectFailure("client", [frame({ opcode: OP.text, payload: "hi", mask: true })], PROTOCOL_ERROR);
  expectFailure("client", [frame({ opcode: OP.close, payload: closePayload(1000), mask: true })], PROTOCOL_ERROR);
});

test("a 64-bit length with the most significant bit set fails with 1002", () => {
  const rawLength64 = Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 5);
  expectFailure("server", [frame({ opcode: OP.binary, mask: true, rawLength64 })], PROTOCOL_ERROR);
  expectFailure(
    "client",
    [frame({ opcode: OP.binary, mask: false, rawLength64: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) })],
    PROTOCOL_ERROR,
  );
});

test("a 64-bit length beyond 2^53 fails with 1009 (no payload that large can be held)", () => {
  expectFailure("server", [frame({ opcode: OP.binary, mask: true, rawLength64: Uint8Array.of(0x7f, 0xff, 0, 0, 0, 0, 0, 0) })], MESSAGE_TOO_BIG);
});

test("a violation split across reads fails identically when fed one byte at a time", () => {
  const t = connect("server");
  t.feed(...oneByteAtATime(Buffer.concat([clientFrame(OP.text, "fine"), clientFrame(OP.close, closePayload(1005))])));
  assert.equal(t.rec.messages.length, 1);
  assertFailedWith(t, PROTOCOL_ERROR);
});
