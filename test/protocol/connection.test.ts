import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Connection } from "../../src/protocol/connection.js";
import { ReadyState } from "../../src/protocol/opcodes.js";
import { clientFrame, closePayload, connect, OP, Recorder, sentCloses, serverFrame } from "./helpers.js";

// --- reassembly ----------------------------------------------------------------------------

test("reassembly: a fragmented text message with ping, pong and ping interleaved is delivered once, whole", () => {
  const t = connect("server");
  t.feed(
    clientFrame(OP.text, "frag", { fin: false }),
    clientFrame(OP.ping, "p1"),
    clientFrame(OP.cont, "men", { fin: false }),
    clientFrame(OP.pong, "u"),
    clientFrame(OP.ping, "p2"),
    clientFrame(OP.cont, "ted", { fin: true }),
  );
  assert.deepEqual(t.rec.shape, [
    { type: "ping", data: Buffer.from("p1") },
    { type: "pong", data: Buffer.from("u") },
    { type: "ping", data: Buffer.from("p2") },
    { type: "message", opcode: OP.text, data: Buffer.from("fragmented"), compressed: false },
  ]);
  assert.equal(t.conn.bufferedMessageBytes, 0);
  // The pongs answer the pings in order, each with the ping's payload (section 5.5.2/5.5.3).
  assert.deepEqual(
    t.sent().map((f) => [f.opcode, f.payload.toString()]),
    [
      [OP.pong, "p1"],
      [OP.pong, "p2"],
    ],
  );
});

test("reassembly: bufferedMessageBytes counts a fragmented message in progress", () => {
  const t = connect("server");
  t.feed(clientFrame(OP.binary, Buffer.alloc(10), { fin: false }), clientFrame(OP.cont, Buffer.alloc(5), { fin: false }));
  assert.equal(t.conn.bufferedMessageBytes, 15);
  assert.equal(t.rec.events.length, 0);
  t.feed(clientFrame(OP.cont, Buffer.alloc(1), { fin: true }));
  assert.equal(t.rec.messages[0]!.data.length, 16);
  assert.equal(t.conn.bufferedMessageBytes, 0);
});

test("reassembly: a fragmented binary message of 100 one-byte frames keeps byte order", () => {
  const t = connect("server");
  const frames = Array.from({ length: 100 }, (_, i) => clientFrame(i === 0 ? OP.binary : OP.cont, Uint8Array.of(i), { fin: i === 99 }));
  t.feed(Buffer.concat(frames));
  assert.equal(t.rec.messages.length, 1);
  assert.deepEqual(
    [...t.rec.messages[0]!.data],
    Array.from({ length: 100 }, (_, i) => i),
  );
});

test("delivered message buffers are not changed by later input", () => {
  const t = connect("server");
  t.feed(Buffer.concat([clientFrame(OP.binary, "first"), clientFrame(OP.binary, "second"), clientFrame(OP.text, "x", { fin: false })]));
  t.feed(clientFrame(OP.cont, "y"));
  for (const { live, copy } of t.rec.delivered) assert.ok(live.equals(copy));
});

// --- ping / pong -----------------------------------------------------------------------------

test("ping: answered by a pong with the same payload, 0 and 125 bytes, before the ping event", () => {
  for (const payload of [Buffer.alloc(0), Buffer.from("hi"), Buffer.alloc(125, 0xfe)]) {
    const t = connect("server");
    let writesAtEvent = -1;
    const ping = t.rec.ping.bind(t.rec);
    t.rec.ping = (data) => {
      writesAtEvent = t.rec.writes.length;
      ping(data);
    };
    t.feed(clientFrame(OP.ping, payload));
    assert.equal(writesAtEvent, 1, "the pong is written before the ping event is emitted");
    const sent = t.sent();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.opcode, OP.pong);
    assert.equal(sent[0]!.mask, null, "a server does not mask");
    assert.ok(sent[0]!.payload.equals(payload));
    assert.deepEqual(t.rec.shape, [{ type: "ping", data: payload }]);
  }
});

test("ping: a client's automatic pong is masked and carries the same payload", () => {
  const t = connect("client");
  t.feed(serverFrame(OP.ping, "abc"));
  const [pong] = t.sent();
  assert.equal(pong!.opcode, OP.pong);
  assert.ok(pong!.mask, "client frames are masked");
  assert.equal(pong!.payload.toString(), "abc");
});

test("ping: no pong is sent once our close frame has gone out, but the ping is still reported", () => {
  const t = connect("server");
  t.conn.close(1000, "done");
  t.feed(clientFrame(OP.ping, "late"));
  assert.deepEqual(
    t.sent().map((f) => f.opcode),
    [OP.close],
  );
  assert.deepEqual(t.rec.shape, [{ type: "ping", data: Buffer.from("late") }]);
});

test("pong: an unsolicited pong is reported and not answered", () => {
  const t = connect("server");
  t.feed(clientFrame(OP.pong, "x"));
  assert.deepEqual(t.rec.shape, [{ type: "pong", data: Buffer.from("x") }]);
  assert.equal(t.rec.writes.length, 0);
});

// --- closing handshake ---------------------------------------------------------------------

test("close, peer first: we echo the code, report it, and the handshake completes (section 5.5.1)", () => {
  const t = connect("server");
  assert.equal(t.conn.readyState, ReadyState.OPEN);
  t.feed(clientFrame(OP.close, closePayload(4001, "moving on")));
  assert.deepEqual(sentCloses(t), [{ code: 4001, reason: "moving on" }]);
  assert.deepEqual(t.rec.shape, [{ type: "closeReceived", code: 4001, reason: "moving on" }, { type: "closeHandshakeComplete" }]);
  assert.equal(t.conn.readyState, ReadyState.CLOSED);
  assert.deepEqual(t.conn.receivedClose, { code: 4001, reason: "moving on" });
  assert.equal(t.conn.closedCleanly, true);
  assert.equal(t.conn.failureReason, null);
  assert.equal(t.conn.canSend, false);
  assert.equal(t.conn.sendText("too late"), false);
  assert.equal(t.rec.writes.length, 1, "nothing is sent after the echo");
});

test("close, peer first: the echo is written before closeReceived is emitted", () => {
  const t = connect("client");
  let writesAtEvent = -1;
  t.rec.closeReceived = () => {
    writesAtEvent = t.rec.writes.length;
  };
  t.feed(serverFrame(OP.close, closePayload(1001)));
  assert.equal(writesAtEvent, 1);
  const [echo] = t.sent();
  assert.ok(echo!.mask, "a client's close echo is masked");
  assert.equal(echo!.payload.readUInt16BE(0), 1001);
});

test("close, peer first with an empty payload: answered with an empty close, reported as 1005", () => {
  const t = connect("server");
  t.feed(clientFrame(OP.close));
  const sent = t.sent();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.opcode, OP.close);
  assert.equal(sent[0]!.payload.length, 0, "empty close answered with an empty close");
  assert.deepEqual(t.rec.shape, [{ type: "closeReceived", code: 1005, reason: "" }, { type: "closeHandshakeComplete" }]);
});

test("close, we first: state CLOSING, then the peer's close completes the handshake without a second close frame", () => {
  const t = connect("server");
  t.conn.close(1000, "bye");
  assert.equal(t.conn.readyState, ReadyState.CLOSING);
  assert.deepEqual(sentCloses(t), [{ code: 1000, reason: "bye" }]);
  assert.equal(t.conn.canSend, false);
  assert.equal(t.conn.sendBinary(Uint8Array.of(1)), false);
  assert.equal(t.conn.ping(), false);
  assert.equal(t.rec.events.length, 0);
  // Messages may still arrive while closing (section 7.1.2 only stops our sending).
  t.feed(clientFrame(OP.text, "still here"), clientFrame(OP.close, closePayload(1000)));
  assert.deepEqual(t.rec.shape, [
    { type: "message", opcode: OP.text, data: Buffer.from("still here"), compressed: false },
    { type: "closeReceived", code: 1000, reason: "" },
    { type: "closeHandshakeComplete" },
  ]);
  assert.equal(t.rec.writes.length, 1, "no second close frame");
  assert.equal(t.conn.readyState, ReadyState.CLOSED);
  assert.equal(t.conn.closedCleanly, true);
});

test("close, we first: a second close() call sends nothing, and close() with no code sends an empty close", () => {
  const t = connect("server");
  t.conn.close();
  t.conn.close(1000, "again");
  const sent = t.sent();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.payload.length, 0);
});

test("close: frames after the peer's close are ignored, in the same chunk and in later ones", () => {
  const t = connect("server");
  t.feed(
    Buffer.concat([
      clientFrame(OP.close, closePayload(1000)),
      clientFrame(OP.text, "ignored"),
      clientFrame(OP.ping, "ignored"),
      Buffer.from([0xff, 0xff, 0xff]), // garbage that would fail the connection if parsed
    ]),
  );
  t.feed(clientFrame(OP.binary, "ignored too"), clientFrame(0x3, ""));
  assert.deepEqual(t.rec.shape, [{ type: "closeReceived", code: 1000, reason: "" }, { type: "closeHandshakeComplete" }]);
  assert.equal(t.rec.writes.length, 1);
});

test("close: a close in the middle of a fragmented message drops the partial message", () => {
  const t = connect("server");
  t.feed(clientFrame(OP.text, "part", { fin: false }), clientFrame(OP.close, closePayload(1000)), clientFrame(OP.cont, "rest"));
  assert.equal(t.rec.messages.length, 0);
  assert.equal(t.conn.bufferedMessageBytes, 0);
  assert.equal(t.rec.events.at(-1)!.type, "closeHandshakeComplete");
});

test("close: a protocol violation while CLOSING fails without a second close frame", () => {
  const t = connect("server");
  t.conn.close(1000);
  t.feed(clientFrame(0x3, "reserved"));
  assert.deepEqual(t.rec.shape, [{ type: "failed", code: 1002 }]);
  assert.equal(sentCloses(t).length, 1);
  assert.equal(t.conn.closedCleanly, false);
});

test("close: after transportClosed nothing is parsed and the state is CLOSED", () => {
  const t = connect("server");
  t.feed(clientFrame(OP.text, "par", { fin: false }));
  t.conn.transportClosed();
  t.feed(clientFrame(OP.cont, "t"));
  assert.equal(t.conn.readyState, ReadyState.CLOSED);
  assert.equal(t.rec.events.length, 0);
  assert.equal(t.conn.sendText("x"), false);
});

test("fail() from a layer above writes the code, truncates a long message to 123 bytes, and happens once", () => {
  const t = connect("server");
  t.conn.fail(1007, "é".repeat(100), "invalid-utf8");
  t.conn.fail(1002, "second", "invalid-opcode");
  const [close] = sentCloses(t);
  assert.equal(close!.code, 1007);
  assert.ok(Buffer.byteLength(close!.reason) <= 123);
  assert.ok(close!.reason.startsWith("ééé"));
  assert.deepEqual(t.rec.shape, [{ type: "failed", code: 1007 }]);
  assert.deepEqual(t.conn.failureReason, { code: 1007, message: "é".repeat(100), violation: "invalid-utf8" });
  assert.equal(t.conn.readyState, ReadyState.CLOSING);
});

// --- sending ---------------------------------------------------------------------------------

test("sending: text, binary, fragmented frames with RSV1, ping and pong are written as specified", () => {
  const t = connect("server");
  assert.equal(t.conn.sendText("héllo"), true);
  assert.equal(t.conn.sendBinary(Uint8Array.of(1, 2, 3)), true);
  assert.equal(t.conn.sendFrame(OP.text, Buffer.from("a"), false, true), true);
  assert.equal(t.conn.sendFrame(OP.cont, Buffer.from("b"), true, false), true);
  assert.equal(t.conn.ping(Buffer.from("pi")), true);
  assert.equal(t.conn.pong(), true);
  assert.deepEqual(
    t.sent().map((f) => [f.opcode, f.fin, f.rsv1, f.mask, f.payload.toString()]),
    [
      [OP.text, true, false, null, "héllo"],
      [OP.binary, true, false, null, "\x01\x02\x03"],
      [OP.text, false, true, null, "a"],
      [OP.cont, true, false, null, "b"],
      [OP.ping, true, false, null, "pi"],
      [OP.pong, true, false, null, ""],
    ],
  );
});

test("sending: a ping or pong over 125 bytes throws a RangeError naming the limit", () => {
  const t = connect("server");
  assert.throws(() => t.conn.ping(new Uint8Array(126)), { name: "RangeError", message: /126 bytes; at most 125/ });
  assert.throws(() => t.conn.pong(new Uint8Array(200)), RangeError);
  assert.equal(t.conn.ping(new Uint8Array(125)), true);
});

test("client role: every frame is masked, each with the next key from the injected maskSource", () => {
  const t = connect("client");
  t.conn.sendText("one");
  t.conn.sendBinary(Buffer.alloc(20000, 3)); // above the no-copy threshold: still masked
  t.conn.sendFrame(OP.text, Buffer.from("x"), false, false);
  t.conn.sendFrame(OP.cont, Buffer.from("y"), true, false);
  t.conn.ping(Buffer.from("p"));
  t.conn.pong(Buffer.from("q"));
  t.feed(serverFrame(OP.ping, "auto"));
  t.conn.close(1000, "end");
  const sent = t.sent();
  assert.equal(sent.length, 8);
  assert.equal(t.keys.length, 8, "one key per frame");
  sent.forEach((f, i) => {
    assert.ok(f.mask, `frame ${i} is masked`);
    assert.deepEqual([...f.mask], [...t.keys[i]!], `frame ${i} uses key ${i}`);
  });
  assert.equal(new Set(t.keys.map((k) => k.join(","))).size, 8, "keys differ across frames");
  assert.equal(sent[1]!.payload.length, 20000);
  assert.ok(
    sent[1]!.payload.every((b) => b === 3),
    "masked payload decodes to the original",
  );
  assert.deepEqual(
    sent.map((f) => f.payload.toString("latin1").slice(0, 4)),
    ["one", "\x03\x03\x03\x03", "x", "y", "p", "q", "auto", "\x03\xe8en"],
  );
});

test("client role: a client without a maskSource is refused with a TypeError that says why", () => {
  assert.throws(() => new Connection({ role: "client", maxMessageBytes: 100 }, new Recorder()), {
    name: "TypeError",
    message: /maskSource.*section 5\.3/,
  });
});

test("client role: the user's payload is not masked in place", () => {
  const t = connect("client");
  const payload = Buffer.from("keep me");
  t.conn.sendBinary(payload);
  t.conn.ping(payload);
  assert.equal(payload.toString(), "keep me");
});

// --- calls back into the connection from an event (what the layers above do) ----------------

test("re-entrancy: close() from a message event stops pongs for the rest of the same chunk; the peer's close completes", () => {
  const t = connect("server");
  t.rec.message = function (opcode, data, compressed) {
    Recorder.prototype.message.call(this, opcode, data, compressed);
    t.conn.close(1000, "enough");
  };
  t.feed(Buffer.concat([clientFrame(OP.text, "first"), clientFrame(OP.ping, "p"), clientFrame(OP.text, "second"), clientFrame(OP.close, closePayload(1000))]));
  assert.deepEqual(
    t.rec.shape.map((e) => (e as { type: string }).type),
    ["message", "ping", "message", "closeReceived", "closeHandshakeComplete"],
  );
  assert.deepEqual(sentCloses(t), [{ code: 1000, reason: "enough" }]);
  assert.deepEqual(
    t.sent().map((f) => f.opcode),
    [OP.close],
    "no pong after our close, no second close",
  );
  assert.equal(t.conn.closedCleanly, true);
});

test("re-entrancy: fail() from a message event stops parsing the rest of the same chunk", () => {
  const t = connect("server");
  t.rec.message = function (opcode, data, compressed) {
    Recorder.prototype.message.call(this, opcode, data, compressed);
    t.conn.fail(1008, "policy", "internal");
  };
  t.feed(Buffer.concat([clientFrame(OP.text, "first"), clientFrame(OP.ping, "p"), clientFrame(OP.text, "second")]));
  assert.deepEqual(t.rec.shape, [
    { type: "message", opcode: OP.text, data: Buffer.from("first"), compressed: false },
    { type: "failed", code: 1008 },
  ]);
  assert.deepEqual(sentCloses(t), [{ code: 1008, reason: "policy" }]);
});

test("re-entrancy: transportClosed() from a ping event stops parsing; nothing more is delivered", () => {
  const t = connect("client");
  t.rec.ping = function (data) {
    Recorder.prototype.ping.call(this, data);
    t.conn.transportClosed();
  };
  t.feed(Buffer.concat([serverFrame(OP.ping, "a"), serverFrame(OP.text, "lost"), serverFrame(OP.ping, "b")]));
  assert.deepEqual(t.rec.shape, [{ type: "ping", data: Buffer.from("a") }]);
  assert.equal(t.conn.readyState, ReadyState.CLOSED);
});

test("re-entrancy: close() from the closeReceived event sends nothing more", () => {
  const t = connect("server");
  t.rec.closeReceived = function (code, reason) {
    Recorder.prototype.closeReceived.call(this, code, reason);
    t.conn.close(1001, "late");
  };
  t.feed(clientFrame(OP.close, closePayload(1000)));
  assert.deepEqual(sentCloses(t), [{ code: 1000, reason: "" }]);
});

test("empty chunks between bytes change nothing", () => {
  const stream = Buffer.concat([clientFrame(OP.text, "ab", { fin: false }), clientFrame(OP.cont, "c")]);
  const t = connect("server");
  for (const byte of stream) t.feed(Buffer.alloc(0), Buffer.of(byte), Buffer.alloc(0));
  assert.deepEqual(t.rec.shape, [{ type: "message", opcode: OP.text, data: Buffer.from("abc"), compressed: false }]);
});

// --- options for the `ws` face -------------------------------------------------------------

test("autoPong false: a ping is reported but not answered", () => {
  const t = connect("server", { autoPong: false });
  t.feed(clientFrame(OP.ping, "hello"));
  assert.deepEqual(t.rec.shape, [{ type: "ping", data: Buffer.from("hello") }]);
  assert.deepEqual(t.sent(), []);
});

test("validateUtf8 false: invalid UTF-8 text is delivered as received", () => {
  const t = connect("server", { validateUtf8: false });
  t.feed(clientFrame(OP.text, Uint8Array.of(0xff, 0xfe), { fin: false }), clientFrame(OP.cont, Uint8Array.of(0xc3)));
  assert.deepEqual(
    t.rec.messages.map((m) => [...m.data]),
    [[0xff, 0xfe, 0xc3]],
  );
  assert.equal(t.rec.failures.length, 0);
});

test("recordFragments: the ends of a message's fragments are noted and taken once", () => {
  const t = connect("server");
  t.conn.recordFragments(true);
  t.feed(clientFrame(OP.binary, "ab", { fin: false }), clientFrame(OP.cont, "", { fin: false }), clientFrame(OP.cont, "cde"));
  assert.deepEqual(t.conn.takeFragmentEnds(), [2, 2]);
  assert.deepEqual(t.conn.takeFragmentEnds(), []);
  t.feed(clientFrame(OP.binary, "whole"));
  assert.deepEqual(t.conn.takeFragmentEnds(), [], "a message of one frame has no inner ends");
  t.conn.recordFragments(false);
  t.feed(clientFrame(OP.binary, "x", { fin: false }), clientFrame(OP.cont, "y"));
  assert.deepEqual(t.conn.takeFragmentEnds(), []);
});

test("each failure names its violation, with the opcode, length or close code at fault", () => {
  const cases: Array<[string, Buffer[], string, number | undefined]> = [
    ["reserved opcode", [clientFrame(5, "")], "invalid-opcode", 5],
    ["stray continuation", [clientFrame(OP.cont, "x")], "invalid-opcode", 0],
    ["RSV2", [clientFrame(OP.text, "x", { rsv2: true })], "reserved-bits", undefined],
    ["RSV1 without compression", [clientFrame(OP.text, "x", { rsv1: true })], "unexpected-rsv1", undefined],
    ["unmasked", [serverFrame(OP.text, "x")], "unmasked-frame", undefined],
    ["fragmented ping", [clientFrame(OP.ping, "x", { fin: false })], "fragmented-control", undefined],
    ["long ping", [clientFrame(OP.ping, Buffer.alloc(126))], "control-payload-length", 126],
    ["bad close code", [clientFrame(OP.close, closePayload(1005))], "invalid-close-code", 1005],
    ["bad text", [clientFrame(OP.text, Uint8Array.of(0xff))], "invalid-utf8", undefined],
    ["too big", [clientFrame(OP.binary, Buffer.alloc(64))], "message-too-big", undefined],
  ];
  for (const [name, frames, violation, value] of cases) {
    const t = connect("server", { maxMessageBytes: 32 });
    t.feed(...frames);
    assert.deepEqual(
      t.rec.failures.map((f) => [f.violation, f.value]),
      [[violation, value]],
      name,
    );
  }
});

test("holdCloseReply: the reply to the peer's close waits for what the layer above still sends", () => {
  const t = connect("server");
  const held: Array<[number | undefined, string]> = [];
  t.rec.holdCloseReply = (code, reason) => {
    held.push([code, reason]);
    return true;
  };
  t.feed(clientFrame(OP.close, closePayload(1000, "done")));
  assert.deepEqual(held, [[1000, "done"]]);
  assert.deepEqual(t.rec.shape, [{ type: "closeReceived", code: 1000, reason: "done" }], "not complete until the reply is out");
  assert.equal(t.conn.readyState, ReadyState.CLOSING);
  assert.equal(t.conn.canSend, false, "no new messages after the peer's close");
  assert.equal(t.conn.sendText("queued before the close arrived"), true, "messages already accepted still go out");
  t.conn.close(1000, "done");
  assert.deepEqual(
    t.sent().map((f) => f.opcode),
    [OP.text, OP.close],
  );
  assert.equal(t.rec.events.at(-1)!.type, "closeHandshakeComplete");
  assert.equal(t.conn.readyState, ReadyState.CLOSED);
  assert.equal(t.conn.closedCleanly, true);
});
