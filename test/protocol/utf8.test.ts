import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer, isUtf8 } from "node:buffer";
import { isValidUtf8, Utf8Validator } from "../../src/protocol/utf8.js";
import { assertFailedWith, clientFrame, connect, OP } from "./helpers.js";

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ""), "hex");

/**
 * The validity classes of the Autobahn|Testsuite 6.x cases (Markus Kuhn's UTF-8 decoder
 * capability and stress test), written out as bytes here.
 */
const VALID: Record<string, Buffer> = {
  empty: h(""),
  "Greek kosme": h("cebae1bdb9cf83cebcceb5"),
  "first of each length: U+0000, U+0080, U+0800, U+10000": h("00 c280 e0a080 f0908080"),
  "last of each length: U+007F, U+07FF, U+FFFF, U+10FFFF": h("7f dfbf efbfbf f48fbfbf"),
  "around the surrogates: U+D7FF, U+E000, U+FFFD": h("ed9fbf ee8080 efbfbd"),
  "noncharacters U+FFFE, U+FFFF, U+FDD0, U+FDEF": h("efbfbe efbfbf efb790 efb7af"),
  "noncharacters U+1FFFE, U+10FFFE, U+10FFFF": h("f09fbfbe f48fbfbe f48fbfbf"),
  "emoji and CJK": Buffer.from("😀 你好 𝄞", "utf8"),
  "ASCII run of 100": Buffer.alloc(100, 0x61),
};

const INVALID: Record<string, Buffer> = {
  "kosme with a surrogate in the middle": h("cebae1bdb9cf83cebcceb5 eda080 656469746564"),
  "lone continuation 0x80": h("80"),
  "lone continuation 0xBF": h("bf"),
  "continuations 80 bf 80 bf": h("80bf80bf"),
  "lonely 2-byte starts followed by space": h("c020 c120 c220 df20"),
  "lonely 3-byte start followed by space": h("e020"),
  "lonely 4-byte start followed by space": h("f020"),
  "truncated 2-byte at the end": h("41 c2"),
  "truncated 3-byte at the end": h("41 e0a0"),
  "truncated 4-byte at the end": h("41 f09080"),
  "truncated 3-byte then ASCII": h("e282 41"),
  "truncated sequences concatenated": h("c0 e080 f08080 df efbf f7bfbf"),
  "impossible byte 0xFE": h("fe"),
  "impossible byte 0xFF": h("ff"),
  "impossible bytes fe fe ff ff": h("fefeffff"),
  "overlong slash 2-byte": h("c0af"),
  "overlong slash 3-byte": h("e080af"),
  "overlong slash 4-byte": h("f08080af"),
  "overlong slash 5-byte": h("f8808080af"),
  "overlong slash 6-byte": h("fc80808080af"),
  "maximum overlong 2-byte U+007F": h("c1bf"),
  "maximum overlong 3-byte U+07FF": h("e09fbf"),
  "maximum overlong 4-byte U+FFFF": h("f08fbfbf"),
  "overlong NUL 2-byte": h("c080"),
  "overlong NUL 3-byte": h("e08080"),
  "single high surrogate U+D800": h("eda080"),
  "single low surrogate U+DFFF": h("edbfbf"),
  "surrogate pair U+D800 U+DC00": h("eda080 edb080"),
  "surrogate pair U+DBFF U+DFFF": h("edafbf edbfbf"),
  "first code point above U+10FFFF": h("f4908080"),
  "largest 4-byte form F7 BF BF BF": h("f7bfbfbf"),
  "5-byte sequence": h("f888808080"),
  "6-byte sequence": h("fc8480808080"),
  "F5 lead byte": h("f5808080"),
  "valid then an invalid continuation in the middle": h("cebae1bd 41 b9cf83"),
};

/**
 * The index of the first byte after which no continuation can make the input valid: the byte
 * a fail-fast validator must reject at. -1 for input that is valid or only incomplete.
 * Built on isUtf8: a prefix is viable if some short completion makes it valid.
 */
function firstBadByte(data: Uint8Array): number {
  const completions = [h("")];
  for (const first of [0x80, 0x90, 0xa0]) for (let n = 1; n <= 3; n++) completions.push(Buffer.from([first, 0x80, 0x80].slice(0, n)));
  for (let end = 1; end <= data.length; end++) {
    const prefix = data.subarray(0, end);
    if (!completions.some((c) => isUtf8(Buffer.concat([prefix, c])))) return end - 1;
  }
  return -1;
}

function fatalDecoderAccepts(data: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/** Pushes pieces; returns [valid, index of the piece that failed or -1]. */
function validate(pieces: Uint8Array[]): { valid: boolean; failedAt: number } {
  const v = new Utf8Validator();
  for (let i = 0; i < pieces.length; i++) if (!v.push(pieces[i]!)) return { valid: false, failedAt: i };
  return { valid: v.complete, failedAt: -1 };
}

test("the reference classes agree with Node's isUtf8 and a fatal TextDecoder (checks the table itself)", () => {
  for (const [name, data] of Object.entries(VALID)) {
    assert.equal(isUtf8(data), true, name);
    assert.equal(fatalDecoderAccepts(data), true, name);
  }
  for (const [name, data] of Object.entries(INVALID)) {
    assert.equal(isUtf8(data), false, name);
    assert.equal(fatalDecoderAccepts(data), false, name);
  }
});

for (const [kind, table, expected] of [
  ["valid", VALID, true],
  ["invalid", INVALID, false],
] as const) {
  for (const [name, data] of Object.entries(table)) {
    test(`Utf8Validator, ${kind}: ${name} — whole, at every split point, and byte by byte`, () => {
      assert.equal(isValidUtf8(data), expected, "isValidUtf8");
      assert.equal(validate([data]).valid, expected, "whole");
      for (let cut = 0; cut <= data.length; cut++) {
        assert.equal(validate([data.subarray(0, cut), data.subarray(cut)]).valid, expected, `split at ${cut}`);
        for (let cut2 = cut; cut2 <= data.length; cut2++) {
          const three = [data.subarray(0, cut), data.subarray(cut, cut2), data.subarray(cut2)];
          assert.equal(validate(three).valid, expected, `split at ${cut},${cut2}`);
        }
      }
      const byByte = validate(Array.from(data, (b) => Uint8Array.of(b)));
      assert.equal(byByte.valid, expected, "byte by byte");
      // Fail fast: the byte that makes the input hopeless is the one rejected.
      assert.equal(byByte.failedAt, firstBadByte(data), "rejected at the first bad byte");
    });
  }
}

test("Utf8Validator: the fail-fast point agrees with a streaming fatal TextDecoder", () => {
  for (const data of Object.values(INVALID)) {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let decoderFailedAt = -1;
    for (let i = 0; i < data.length && decoderFailedAt < 0; i++) {
      try {
        decoder.decode(data.subarray(i, i + 1), { stream: true });
      } catch {
        decoderFailedAt = i;
      }
    }
    assert.equal(validate(Array.from(data, (b) => Uint8Array.of(b))).failedAt, decoderFailedAt, data.toString("hex"));
  }
});

test("Utf8Validator: reset() forgets a character left incomplete by the previous message", () => {
  const v = new Utf8Validator();
  assert.equal(v.push(h("e2 82")), true);
  assert.equal(v.complete, false);
  v.reset();
  assert.equal(v.complete, true);
  assert.equal(v.push(h("41")), true);
  assert.equal(v.complete, true);
});

test("Utf8Validator: pieces around a long valid run with characters split at each piece edge", () => {
  const text = Buffer.from("x".repeat(40) + "€😀é" + "y".repeat(40) + "😀", "utf8");
  for (let size = 1; size <= 9; size++) {
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < text.length; i += size) pieces.push(text.subarray(i, i + size));
    assert.deepEqual(validate(pieces), { valid: true, failedAt: -1 }, `pieces of ${size}`);
  }
});

// Through the connection: a text message fragmented at every split point of each class.
for (const [kind, table, expected] of [
  ["valid", VALID, true],
  ["invalid", INVALID, false],
] as const) {
  test(`connection: every ${kind} class as a text message fragmented at every split point gives ${expected ? "the message" : "1007"}`, () => {
    for (const [name, data] of Object.entries(table)) {
      for (let cut = 0; cut <= data.length; cut++) {
        const t = connect("server");
        t.feed(clientFrame(OP.text, data.subarray(0, cut), { fin: false }), clientFrame(OP.cont, data.subarray(cut)));
        if (expected) {
          assert.deepEqual(t.rec.failures, [], `${name} split at ${cut}`);
          assert.ok(t.rec.messages[0]!.data.equals(data), name);
        } else {
          assertFailedWith(t, 1007);
        }
      }
    }
  });
}
