/**
 * Property-based fuzzing of the streaming UTF-8 validator (issue 5, item 2) against Node's
 * isUtf8 and a fatal TextDecoder, on random bytes split at random points; and of fail-fast
 * 1007 through the connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer, isUtf8 } from "node:buffer";
import fc from "fast-check";
import { Utf8Validator } from "../../src/protocol/utf8.js";
import { clientFrame, connect, OP, splitAt } from "../protocol/helpers.js";
import { cutPositions, cutsArb, runs } from "./streams.js";

/** Bytes at the edges of the UTF-8 classes, so random sequences hit every rule often. */
const EDGE_BYTES = [
  0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8,
  0xfe, 0xff,
];

const bytesArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.array(fc.constantFrom(...EDGE_BYTES), { maxLength: 24 }).map((b) => Buffer.from(b)),
  fc.string({ unit: "binary", maxLength: 40 }).map((s) => Buffer.from(s, "utf8")),
  // Valid text with one byte changed: invalid somewhere in the middle, or still valid.
  fc.tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom(...EDGE_BYTES)).map(([s, at, value]) => {
    const b = Buffer.from(s, "utf8");
    b[at % b.length] = value;
    return b;
  }),
);

function fatalDecoderAccepts(data: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/** The byte at which a streaming fatal TextDecoder gives up, or -1. */
function decoderFailIndex(data: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < data.length; i++) {
    try {
      decoder.decode(data.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return -1;
}

function validate(pieces: Uint8Array[]): { valid: boolean; failedPiece: number } {
  const v = new Utf8Validator();
  for (let i = 0; i < pieces.length; i++) if (!v.push(pieces[i]!)) return { valid: false, failedPiece: i };
  return { valid: v.complete, failedPiece: -1 };
}

test("fuzz: Utf8Validator on random bytes in random pieces agrees with isUtf8 and a fatal TextDecoder", () => {
  fc.assert(
    fc.property(bytesArb, cutsArb, (data, cuts) => {
      const expected = isUtf8(data);
      assert.equal(fatalDecoderAccepts(data), expected, "the two references agree");
      assert.equal(validate([data]).valid, expected, "whole");
      assert.equal(validate(splitAt(data, cutPositions(data.length, cuts))).valid, expected, "in pieces");
    }),
    { numRuns: runs(3000) },
  );
});

test("fuzz: Utf8Validator fails in the piece holding the first bad byte, the byte a streaming TextDecoder rejects", () => {
  fc.assert(
    fc.property(bytesArb, cutsArb, (data, cuts) => {
      const bad = decoderFailIndex(data);
      const byByte = validate(Array.from(data, (b) => Uint8Array.of(b)));
      assert.equal(byByte.failedPiece, bad, "byte by byte");
      const positions = [...new Set(cutPositions(data.length, cuts))].filter((c) => c > 0 && c < data.length);
      const pieces = splitAt(data, positions);
      const expectedPiece = bad < 0 ? -1 : positions.filter((c) => c <= bad).length;
      assert.equal(validate(pieces).failedPiece, expectedPiece, `cuts ${positions.join(",")}`);
    }),
    { numRuns: runs(3000) },
  );
});

test("fuzz: a fragmented text message fed byte by byte fails with 1007 exactly when its first bad byte arrives", () => {
  fc.assert(
    fc.property(bytesArb, fc.array(fc.nat({ max: 80 }), { maxLength: 3 }), (data, fragmentCuts) => {
      const bounds = [0, ...fragmentCuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b), data.length];
      // Encode the fragments, remembering where each payload byte lands in the stream.
      const frames: Buffer[] = [];
      const streamIndexOf: number[] = [];
      let offset = 0;
      for (let i = 0; i + 1 < bounds.length; i++) {
        const piece = data.subarray(bounds[i], bounds[i + 1]);
        const encoded = clientFrame(i === 0 ? OP.text : OP.cont, piece, { fin: i + 2 === bounds.length });
        const header = encoded.length - piece.length;
        for (let k = 0; k < piece.length; k++) streamIndexOf.push(offset + header + k);
        frames.push(encoded);
        offset += encoded.length;
      }
      const stream = Buffer.concat(frames);
      const t = connect("server");
      let failedAt = -1;
      for (let i = 0; i < stream.length && failedAt < 0; i++) {
        t.feed(stream.subarray(i, i + 1));
        if (t.rec.failures.length > 0) failedAt = i;
      }
      const bad = decoderFailIndex(data);
      if (isUtf8(data)) {
        assert.equal(failedAt, -1);
        assert.ok(t.rec.messages[0]!.data.equals(data));
      } else {
        assert.equal(t.rec.failures[0]!.code, 1007);
        // A bad byte fails on arrival; a message that merely ends mid-character fails at its end.
        assert.equal(failedAt, bad >= 0 ? streamIndexOf[bad] : stream.length - 1);
        assert.equal(t.rec.messages.length, 0);
      }
    }),
    { numRuns: runs(1500) },
  );
});
