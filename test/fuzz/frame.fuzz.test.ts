/**
 * Property-based round trips of the frame encoder and the masking code against the test's
 * own reference decoder and a naive XOR (issue 5, item 2).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { runs } from "./streams.js";
import { encodeFrame, encodeTextFrame } from "../../src/protocol/frame.js";
import { applyMask } from "../../src/protocol/mask.js";
import { connect, decodeAll, decodeOne, OP } from "../protocol/helpers.js";

/** Lengths near every encoding boundary, and small ones. */
const lengthArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65530, max: 65540 }), fc.integer({ min: 16380, max: 16390 }));
const keyArb = fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: null });

test("fuzz: encodeFrame output decodes (reference decoder) to the same header bits and payload", () => {
  fc.assert(
    fc.property(
      lengthArb,
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0, 1, 2, 8, 9, 10),
      fc.boolean(),
      fc.boolean(),
      keyArb,
      (length, fill, opcode, fin, rsv1, key) => {
        const payload = Buffer.alloc(length, fill);
        if (length > 0) payload[length - 1] = fill ^ 0x5a;
        const out = Buffer.concat(encodeFrame(opcode, payload, fin, rsv1, key));
        const decoded = decodeOne(out, 0);
        assert.ok(decoded, "a whole frame");
        assert.equal(decoded.next, out.length, "and nothing more");
        const minimalHeader = 2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + (key ? 4 : 0);
        assert.equal(out.length - length, minimalHeader, "the minimal length encoding");
        const f = decoded.frame;
        assert.deepEqual([f.opcode, f.fin, f.rsv1, f.rsv2, f.rsv3], [opcode, fin, rsv1, false, false]);
        assert.deepEqual(f.mask && [...f.mask], key && [...key]);
        assert.ok(f.payload.equals(payload));
      },
    ),
    { numRuns: runs(500) },
  );
});

test("fuzz: encodeTextFrame of any string carries its UTF-8 bytes", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.boolean(), keyArb, (text, fin, key) => {
      const [f] = decodeAll(Buffer.concat(encodeTextFrame(text, fin, key)));
      assert.equal(f!.opcode, OP.text);
      assert.equal(f!.fin, fin);
      assert.ok(f!.payload.equals(Buffer.from(text, "utf8")));
    }),
    { numRuns: runs(1000) },
  );
});

test("fuzz: applyMask on any view, offset and key equals the naive XOR and touches nothing else", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.nat({ max: 7 }),
      fc.nat({ max: 7 }),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      (data, alignment, offset, key) => {
        const backing = new Uint8Array(alignment + data.length + 3).fill(0xcc);
        backing.set(data, alignment);
        const view = backing.subarray(alignment, alignment + data.length);
        applyMask(view, key, offset);
        assert.deepEqual(
          view,
          Uint8Array.from(data, (b, i) => b ^ key[(offset + i) % 4]!),
        );
        assert.ok(backing.subarray(0, alignment).every((b) => b === 0xcc));
        assert.ok(backing.subarray(alignment + data.length).every((b) => b === 0xcc));
      },
    ),
    { numRuns: runs(2000) },
  );
});

test("fuzz: a client's frames all decode to what was sent, each masked with its own key", () => {
  const sendArb = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant("text" as const), text: fc.string({ unit: "binary", maxLength: 40 }) }),
      fc.record({ kind: fc.constant("binary" as const), data: fc.uint8Array({ maxLength: 300 }) }),
      fc.record({ kind: fc.constant("ping" as const), data: fc.uint8Array({ maxLength: 125 }) }),
    ),
    { minLength: 1, maxLength: 8 },
  );
  fc.assert(
    fc.property(sendArb, (sends) => {
      const t = connect("client");
      for (const s of sends) {
        if (s.kind === "text") t.conn.sendText(s.text);
        else if (s.kind === "binary") t.conn.sendBinary(s.data);
        else t.conn.ping(s.data);
      }
      const sent = t.sent();
      assert.equal(sent.length, sends.length);
      sent.forEach((f, i) => {
        const s = sends[i]!;
        assert.deepEqual(f.mask && [...f.mask], [...t.keys[i]!]);
        const expected = s.kind === "text" ? Buffer.from(s.text) : Buffer.from(s.data);
        assert.equal(f.opcode, s.kind === "text" ? OP.text : s.kind === "binary" ? OP.binary : OP.ping);
        assert.ok(f.payload.equals(expected));
      });
    }),
    { numRuns: runs(300) },
  );
});
