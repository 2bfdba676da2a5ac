import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { clientFrame, closePayload, connect, oneByteAtATime, OP, prng, serverFrame, splitAt, type RawFrame } from "./helpers.js";

type Spec = [opcode: number, payload?: Uint8Array | string, extra?: Partial<RawFrame>];

const kosme = Buffer.from("κόσμε", "utf8");

/** Streams of frames, each written once; the same specs are encoded as client and as server frames. */
const CORPUS: Record<string, Spec[]> = {
  text: [[OP.text, "hello"]],
  "binary, all byte values": [[OP.binary, Uint8Array.from({ length: 256 }, (_, i) => i)]],
  "empty text and empty binary": [
    [OP.text, ""],
    [OP.binary, new Uint8Array(0)],
  ],
  "125, 126 and 65536 bytes": [
    [OP.binary, Buffer.alloc(125, 1)],
    [OP.text, "b".repeat(126)],
    [OP.binary, Buffer.alloc(65536, 7)],
  ],
  "fragmented text with ping and pong between fragments": [
    [OP.text, "Hel", { fin: false }],
    [OP.ping, "are you there"],
    [OP.cont, "lo, ", { fin: false }],
    [OP.pong, "unsolicited"],
    [OP.cont, "world", { fin: true }],
  ],
  "fragmented binary with an empty fragment": [
    [OP.binary, Uint8Array.of(1, 2), { fin: false }],
    [OP.cont, new Uint8Array(0), { fin: false }],
    [OP.cont, Uint8Array.of(3), { fin: true }],
  ],
  "a multi-byte character split across fragments": [
    [OP.text, kosme.subarray(0, 3), { fin: false }],
    [OP.cont, kosme.subarray(3, 4), { fin: false }],
    [OP.cont, kosme.subarray(4), { fin: true }],
  ],
  "messages, then close, then frames that must be ignored": [
    [OP.text, "one"],
    [OP.ping, ""],
    [OP.binary, Uint8Array.of(2)],
    [OP.close, closePayload(1000, "bye")],
    [OP.text, "after close"],
    [OP.ping, "after close"],
  ],
  "a 16-bit length used for a short payload": [
    [OP.text, "short", { lengthBits: 16 }],
    [OP.ping, "p", { lengthBits: 16 }],
  ],
  "invalid UTF-8 in the second fragment fails at the same point": [
    [OP.text, "ok", { fin: false }],
    [OP.cont, Uint8Array.of(0x61, 0xed, 0xa0, 0x80, 0x62), { fin: true }],
    [OP.text, "never delivered"],
  ],
  "a reserved opcode after a message": [
    [OP.text, "first"],
    [0x5, "reserved"],
    [OP.text, "never"],
  ],
  // Masked frames from 256 KiB on are unmasked into one buffer per frame as the pieces arrive.
  "large frames: 300 KiB binary, then 260 KiB + ping + 270 KiB fragments": [
    [OP.binary, Uint8Array.from({ length: 300 * 1024 }, (_, i) => (i * 7 + (i >> 9)) & 0xff)],
    [OP.binary, Buffer.alloc(260 * 1024, 0x5a), { fin: false }],
    [OP.ping, "between"],
    [OP.cont, Uint8Array.from({ length: 270 * 1024 }, (_, i) => (i * 13) & 0xff), { fin: true }],
  ],
};

function encode(specs: Spec[], asClient: boolean): Buffer {
  return Buffer.concat(specs.map(([op, payload, extra]) => (asClient ? clientFrame : serverFrame)(op, payload, extra)));
}

/** Feeds the chunks into a fresh connection of `role` and returns everything it did. */
function run(role: "server" | "client", chunks: Buffer[]) {
  const t = connect(role);
  for (const chunk of chunks) t.feed(chunk); // not feed(...chunks): a 300 KiB stream byte by byte overflows the stack
  return { events: t.rec.shape, written: t.sent().map((f) => [f.opcode, f.fin, f.payload.toString("hex")]) };
}

for (const [name, specs] of Object.entries(CORPUS)) {
  for (const role of ["server", "client"] as const) {
    test(`incremental parser (${role}): "${name}" gives identical events whole, byte by byte and in random splits`, () => {
      const stream = encode(specs, role === "server");
      const whole = run(role, [stream]);
      assert.ok(whole.events.length > 0, "the stream produces events");
      assert.deepEqual(run(role, oneByteAtATime(stream)), whole, "one byte at a time");
      const random = prng(stream.length * 31 + (role === "server" ? 1 : 2));
      for (let trial = 0; trial < 40; trial++) {
        const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * stream.length)).sort((a, b) => a - b);
        assert.deepEqual(run(role, splitAt(stream, cuts)), whole, `split at ${cuts.join(",")}`);
      }
      // Every single cut point too (bounded for the long streams).
      const step = Math.max(1, Math.floor(stream.length / 400));
      for (let cut = 1; cut < stream.length; cut += step) {
        assert.deepEqual(run(role, splitAt(stream, [cut])), whole, `split at ${cut}`);
      }
    });
  }
}

test("incremental parser: the corpus gives the expected events, not merely consistent ones", () => {
  const t = connect("server");
  t.feed(encode(CORPUS["fragmented text with ping and pong between fragments"]!, true));
  t.feed(encode(CORPUS["a multi-byte character split across fragments"]!, true));
  t.feed(encode(CORPUS["messages, then close, then frames that must be ignored"]!, true));
  assert.deepEqual(
    t.rec.events.map((e) =>
      e.type === "message"
        ? [e.type, e.opcode, e.data.toString("latin1")]
        : e.type === "ping" || e.type === "pong"
          ? [e.type, e.data.toString()]
          : e.type === "closeReceived"
            ? [e.type, e.code, e.reason]
            : [e.type],
    ),
    [
      ["ping", "are you there"],
      ["pong", "unsolicited"],
      ["message", OP.text, "Hello, world"],
      ["message", OP.text, kosme.toString("latin1")],
      ["message", OP.text, "one"],
      ["ping", ""],
      ["message", OP.binary, "\x02"],
      ["closeReceived", 1000, "bye"],
      ["closeHandshakeComplete"],
    ],
  );
});

test("incremental parser: a header split inside its extended length and mask still parses (every header size)", () => {
  for (const length of [0, 125, 126, 65535, 65536]) {
    const stream = clientFrame(OP.binary, Buffer.alloc(length, 0x5a));
    const headerSize = length < 126 ? 6 : length < 65536 ? 8 : 14;
    for (let cut = 1; cut <= headerSize; cut++) {
      for (const second of [cut + 1, cut + 2, headerSize, headerSize + 1]) {
        const t = connect("server");
        t.feed(...splitAt(stream, [cut, second]));
        assert.equal(t.rec.messages.length, 1, `length ${length}, cuts ${cut},${second}`);
        assert.equal(t.rec.messages[0]!.data.length, length);
        assert.ok(t.rec.messages[0]!.data.every((b) => b === 0x5a));
      }
    }
  }
});
