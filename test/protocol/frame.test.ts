import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { encodeFrame, encodeTextFrame, headerLength, writeHeader, type FrameHeader } from "../../src/protocol/frame.js";
import { FrameParser, type FrameSink } from "../../src/protocol/parser.js";
import { decodeAll, frame, OP, TEST_MASK } from "./helpers.js";

const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 1 << 20];

/** Fills a payload with a pattern that differs at every offset mod 251, so shifted bytes show. */
function pattern(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + 3) % 251;
  return out;
}

/** A FrameSink that reassembles frames as the parser reports them. */
function collectingParser(expectMasked: boolean, maxFrameBytes = 1 << 24) {
  const frames: Array<{ header: FrameHeader; payload: Buffer }> = [];
  const errors: Array<[number, string]> = [];
  let current: { header: FrameHeader; pieces: Buffer[] } | null = null;
  let whole = 0;
  const sink: FrameSink = {
    dataFrameStart(header) {
      current = { header, pieces: [] };
      return true;
    },
    dataPayload(chunk) {
      current!.pieces.push(Buffer.from(chunk));
      return true;
    },
    dataFrameEnd() {
      frames.push({ header: current!.header, payload: Buffer.concat(current!.pieces) });
      current = null;
      return true;
    },
    wholeDataFrame(opcode, rsv1, payload, ascii) {
      // The one-call path reports only the header fields it leaves open.
      const header = { fin: true, rsv1, rsv2: false, rsv3: false, opcode, masked: expectMasked, payloadLength: payload.length, mask: null };
      if (ascii)
        assert.ok(
          payload.every((byte) => byte < 0x80),
          "ascii is only claimed for ASCII payloads",
        );
      frames.push({ header, payload: Buffer.from(payload) });
      whole++;
      return true;
    },
    controlFrame(header, payload) {
      frames.push({ header, payload: Buffer.from(payload) });
      return true;
    },
    parseError(code, message) {
      errors.push([code, message]);
    },
  };
  const parser = new FrameParser(sink, { expectMasked, maxFrameBytes });
  return { parser, frames, errors, wholeFrames: () => whole };
}

function expectedLengthField(length: number): number[] {
  if (length < 126) return [length];
  if (length < 65536) return [126, length >> 8, length & 0xff];
  return [127, 0, 0, 0, 0, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
}

test("encodeFrame writes the minimal 7/16/64-bit length encoding (RFC 6455 section 5.2)", () => {
  for (const length of LENGTHS) {
    for (const mask of [null, TEST_MASK]) {
      const out = Buffer.concat(encodeFrame(OP.binary, pattern(length), true, false, mask));
      const field = expectedLengthField(length);
      assert.equal(out[0], 0x82, `first byte for length ${length}`);
      assert.equal(out[1]! & 0x80, mask ? 0x80 : 0, "mask bit");
      assert.deepEqual([out[1]! & 0x7f, ...out.subarray(2, 1 + field.length)], field, `length field for ${length}`);
      assert.equal(out.length, headerLength(length, mask !== null) + length);
      assert.equal(headerLength(length, mask !== null), 1 + field.length + (mask ? 4 : 0));
    }
  }
});

test("encodeFrame output decodes back to the same frame, via the reference decoder and via FrameParser", () => {
  for (const length of LENGTHS) {
    for (const mask of [null, TEST_MASK]) {
      const payload = pattern(length);
      const before = Buffer.from(payload);
      const out = Buffer.concat(encodeFrame(OP.text, payload, false, true, mask));
      assert.deepEqual(payload, before, "encodeFrame must not modify the caller's payload");

      const [ref] = decodeAll(out);
      assert.ok(ref);
      assert.equal(ref.fin, false);
      assert.equal(ref.rsv1, true);
      assert.equal(ref.opcode, OP.text);
      assert.deepEqual(ref.mask && [...ref.mask], mask && [...mask]);
      assert.ok(ref.payload.equals(payload), `reference decode of ${length} bytes`);

      const { parser, frames, errors } = collectingParser(mask !== null);
      parser.push(out);
      assert.deepEqual(errors, []);
      assert.equal(frames.length, 1);
      assert.equal(frames[0]!.header.payloadLength, length);
      assert.equal(frames[0]!.header.fin, false);
      assert.equal(frames[0]!.header.rsv1, true);
      assert.ok(frames[0]!.payload.equals(payload), `FrameParser decode of ${length} bytes`);
    }
  }
});

test("FrameParser accepts every length encoding the helper writes, including non-minimal ones", () => {
  // Section 5.2 asks senders for the minimal encoding; this parser deliberately accepts
  // longer ones (documented in parser.ts), so a length in any encoding must decode.
  for (const [length, bits] of [
    [0, 16],
    [5, 64],
    [125, 16],
    [126, 64],
    [300, 64],
    [65535, 64],
  ] as const) {
    const payload = pattern(length);
    const { parser, frames, errors } = collectingParser(true);
    parser.push(frame({ opcode: OP.binary, payload, mask: true, lengthBits: bits }));
    assert.deepEqual(errors, []);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.payload.equals(payload), `${length} bytes in a ${bits}-bit length`);
  }
});

test("the large unmasked path hands the payload over without copying, and a Uint8Array works too", () => {
  const big = pattern(20000);
  const chunks = encodeFrame(OP.binary, big, true, false, null);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1]!.buffer, big.buffer, "payload is not copied above the copy threshold");
  const view = new Uint8Array(big.buffer, big.byteOffset + 1, 19999);
  const out = Buffer.concat(encodeFrame(OP.binary, view, true, false, null));
  assert.ok(decodeAll(out)[0]!.payload.equals(view));
});

test("writeHeader writes at an offset and returns the header size", () => {
  const target = Buffer.alloc(20, 0xee);
  const written = writeHeader(target, 3, OP.ping, 300, true, false, TEST_MASK);
  assert.equal(written, 8);
  assert.deepEqual([...target.subarray(0, 12)], [0xee, 0xee, 0xee, 0x89, 0xfe, 0x01, 0x2c, ...TEST_MASK, 0xee]);
});

test("encodeTextFrame equals encodeFrame of the UTF-8 bytes, for ASCII, multi-byte text and every length class", () => {
  const texts = [
    "",
    "hello",
    "κόσμε",
    "\u{10348}\u{1F600}",
    "a".repeat(125),
    "é".repeat(63), // 126 bytes from 63 characters
    "x".repeat(65535),
    "€".repeat(21846), // 65538 bytes: the 64-bit form
    "z".repeat(1 << 20),
    "lone \uD800 surrogate", // becomes U+FFFD: still valid UTF-8 on the wire
  ];
  for (const text of texts) {
    for (const mask of [null, TEST_MASK]) {
      for (const fin of [true, false]) {
        const viaText = Buffer.concat(encodeTextFrame(text, fin, mask));
        const viaBytes = Buffer.concat(encodeFrame(OP.text, Buffer.from(text), fin, false, mask));
        assert.ok(viaText.equals(viaBytes), `text of ${Buffer.byteLength(text)} bytes, mask ${mask !== null}`);
        const [decoded] = decodeAll(viaText);
        assert.ok(decoded!.payload.equals(Buffer.from(text, "utf8")));
        assert.equal(decoded!.fin, fin);
      }
    }
  }
});

test("an unmasked payload over 4 KiB is sent by reference after its header; shared frames join up to 16 KiB", () => {
  const small = pattern(4096);
  assert.equal(encodeFrame(OP.binary, small, true, false, null).length, 1, "copied next to its header");
  const large = pattern(4097);
  const parts = encodeFrame(OP.binary, large, true, false, null);
  assert.equal(parts.length, 2);
  assert.equal(parts[1], large, "the payload itself, not a copy");
  assert.equal(encodeFrame(OP.binary, large, true, false, null, 16 * 1024).length, 1);
  assert.equal(encodeFrame(OP.binary, large, true, false, TEST_MASK).length, 1, "a masked frame is always one masked copy");
  assert.ok(Buffer.concat(parts).equals(encodeFrame(OP.binary, large, true, false, null, 16 * 1024)[0]!));
});

test("a read of whole small frames is reported one call per frame; split frames take the general path, same result", () => {
  const specs: Array<[number, Buffer]> = [
    [OP.text, Buffer.from("plain ascii")],
    [OP.binary, pattern(300)],
    [OP.text, Buffer.from("κόσμε, not ASCII")],
    [OP.binary, pattern(2000)],
    [OP.text, Buffer.alloc(0)],
  ];
  for (const mask of [null, TEST_MASK]) {
    const stream = Buffer.concat(specs.flatMap(([opcode, payload]) => encodeFrame(opcode, payload, true, false, mask)));
    const whole = collectingParser(mask !== null);
    whole.parser.push(Buffer.from(stream));
    assert.equal(whole.wholeFrames(), specs.length, "every frame complete in the read takes the one-call path");
    const split = collectingParser(mask !== null);
    for (let i = 0; i < stream.length; i += 7) split.parser.push(Buffer.from(stream.subarray(i, i + 7)));
    assert.ok(split.wholeFrames() < specs.length, "frames cut by reads take the general path");
    for (const run of [whole, split]) {
      assert.deepEqual(run.errors, []);
      assert.deepEqual(
        run.frames.map((f) => [f.header.opcode, f.header.fin, f.payload.toString("hex")]),
        specs.map(([op, p]) => [op, true, p.toString("hex")]),
      );
    }
  }
});

test("frames the one-call path leaves alone: fragments, RSV2/RSV3, 64-bit lengths, wrong masking, over the frame limit", () => {
  const cases: Array<[string, Buffer, boolean]> = [
    ["a first fragment", Buffer.concat(encodeFrame(OP.text, Buffer.from("frag"), false, false, TEST_MASK)), true],
    ["a continuation", Buffer.concat(encodeFrame(0x0, Buffer.from("cont"), true, false, TEST_MASK)), true],
    ["a ping", Buffer.concat(encodeFrame(OP.ping, Buffer.from("p"), true, false, TEST_MASK)), true],
    ["an unmasked frame to a server", Buffer.concat(encodeFrame(OP.binary, Buffer.from("x"), true, false, null)), true],
    ["a 64-bit length", frame({ opcode: OP.binary, payload: Buffer.alloc(70_000), mask: true }), true],
  ];
  const rsv2 = Buffer.concat(encodeFrame(OP.text, Buffer.from("r"), true, false, TEST_MASK));
  rsv2[0]! |= 0x20;
  cases.push(["RSV2 set", rsv2, true]);
  for (const [name, bytes, expectMasked] of cases) {
    const run = collectingParser(expectMasked);
    run.parser.push(bytes);
    assert.equal(run.wholeFrames(), 0, name);
  }
  const limited = collectingParser(true, 10);
  limited.parser.push(Buffer.concat(encodeFrame(OP.binary, Buffer.alloc(20), true, false, TEST_MASK)));
  assert.equal(limited.wholeFrames(), 0, "over the frame limit");
  assert.deepEqual(
    limited.errors.map(([code]) => code),
    [1009],
    "and the general path refuses it",
  );
});
