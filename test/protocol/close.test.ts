import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { CloseCode, decodeClosePayload, encodeClosePayload, isValidCloseCode, MAX_CLOSE_REASON_BYTES } from "../../src/protocol/close.js";
import { connect } from "./helpers.js";

test("isValidCloseCode: exactly 1000-1003, 1007-1014 and 3000-4999 may be sent on the wire (section 7.4)", () => {
  const valid: number[] = [];
  for (let code = 0; code <= 65535; code++) if (isValidCloseCode(code)) valid.push(code);
  const expected = [1000, 1001, 1002, 1003, ...Array.from({ length: 8 }, (_, i) => 1007 + i)];
  for (let code = 3000; code <= 4999; code++) expected.push(code);
  assert.deepEqual(valid, expected);
});

test("encodeClosePayload: code in network byte order followed by the UTF-8 reason", () => {
  assert.deepEqual([...encodeClosePayload(1000)], [0x03, 0xe8]);
  assert.deepEqual([...encodeClosePayload(4999, "ß")], [0x13, 0x87, 0xc3, 0x9f]);
  assert.equal(encodeClosePayload(undefined).length, 0, "no code: an empty payload");
});

test("decodeClosePayload: empty is 1005 with no reason; a code and reason round trip", () => {
  assert.deepEqual(decodeClosePayload(new Uint8Array(0)), { ok: true, code: CloseCode.noStatusReceived, reason: "" });
  for (const [code, reason] of [
    [1000, ""],
    [1001, "going"],
    [3000, "ü".repeat(61)],
    [4999, "x".repeat(123)],
  ] as const) {
    assert.deepEqual(decodeClosePayload(encodeClosePayload(code, reason)), { ok: true, code, reason });
  }
});

test("decodeClosePayload: a reason in a view into a larger buffer is decoded from the view only", () => {
  const backing = Buffer.from("XX\x03\xe8okYY", "latin1");
  assert.deepEqual(decodeClosePayload(backing.subarray(2, 6)), { ok: true, code: 1000, reason: "ok" });
});

test("decodeClosePayload: 1 byte, invalid codes and invalid UTF-8 give the close code to fail with", () => {
  const one = decodeClosePayload(Uint8Array.of(3));
  assert.equal(one.ok, false);
  assert.equal(!one.ok && one.failCode, 1002);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    const r = decodeClosePayload(Uint8Array.of(code >> 8, code & 0xff));
    assert.equal(!r.ok && r.failCode, 1002, `code ${code}`);
    assert.match(!r.ok ? r.message : "", new RegExp(String(code)));
  }
  const badUtf8 = decodeClosePayload(Uint8Array.of(0x03, 0xe8, 0xed, 0xa0, 0x80));
  assert.equal(!badUtf8.ok && badUtf8.failCode, 1007);
});

test("encodeClosePayload: a code that may not be sent throws a RangeError listing the allowed ranges", () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, Number.NaN]) {
    assert.throws(
      () => encodeClosePayload(code),
      {
        name: "RangeError",
        message: /cannot be sent: use 1000-1003, 1007-1014 or 3000-4999/,
      },
      `code ${code}`,
    );
  }
});

test("encodeClosePayload: a reason over 123 bytes throws a RangeError with its size; 123 bytes is fine", () => {
  assert.equal(encodeClosePayload(1000, "a".repeat(MAX_CLOSE_REASON_BYTES)).length, 125);
  assert.throws(() => encodeClosePayload(1000, "a".repeat(124)), { name: "RangeError", message: /124 bytes; at most 123/ });
  // 62 two-byte characters: only 62 characters, but 124 bytes.
  assert.throws(() => encodeClosePayload(1000, "é".repeat(62)), { name: "RangeError", message: /124 bytes/ });
});

test("encodeClosePayload: a reason without a code throws a TypeError suggesting 1000", () => {
  assert.throws(() => encodeClosePayload(undefined, "why"), { name: "TypeError", message: /needs a close code.*1000/ });
});

test("Connection.close with a bad code or reason throws and sends nothing, then a good close still works", () => {
  const t = connect("server");
  assert.throws(() => t.conn.close(1005), RangeError);
  assert.throws(() => t.conn.close(1000, "r".repeat(124)), RangeError);
  assert.equal(t.rec.writes.length, 0);
  assert.equal(t.conn.canSend, true);
  t.conn.close(1000, "fine");
  assert.equal(t.rec.writes.length, 1);
});
