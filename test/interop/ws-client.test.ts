// Interop: the `ws` npm client against hawser's echo server (the seed's example), with every
// echo compared byte for byte: sizes across the frame-length encodings, fragmentation, pings,
// and closes in both directions.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import { startEchoServer, type EchoServer } from "../helpers/echo-server.js";
import { INTEROP_SIZES, MiB, randomPayload, randomText, sizeLabel } from "../helpers/payloads.js";
import { waitUntil, withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

let server: EchoServer;
before(async () => {
  server = await startEchoServer();
});
after(() => server.close());

/** A client past the seed's greeting (offering permessage-deflate, as `ws` does by default). */
async function greeted(perMessageDeflate = true): Promise<WsPeer> {
  const peer = await WsPeer.connect(server.url + "/", { perMessageDeflate });
  assert.equal(peer.ws.extensions !== "", perMessageDeflate, "hawser agrees to permessage-deflate when offered");
  assert.equal((await peer.next()).text, "hello");
  assert.equal((await peer.next()).text, " world!");
  return peer;
}

function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  // equals() first: a deepEqual of 16 MiB would print megabytes on failure.
  if (!actual.equals(expected)) {
    let i = 0;
    while (actual[i] === expected[i]) i++;
    assert.fail(`${what}: first difference at byte ${i} (${actual[i]} != ${expected[i]})`);
  }
}

for (const perMessageDeflate of [true, false])
  describe(`messages of every length encoding (${perMessageDeflate ? "permessage-deflate" : "no compression"})`, () => {
    for (const size of INTEROP_SIZES) {
      test(`text and binary of ${sizeLabel(size)} come back byte for byte`, async () => {
        const peer = await greeted(perMessageDeflate);
        try {
          const text = randomText(size);
          await peer.send(text);
          const echoedText = await peer.next(30_000);
          assert.equal(echoedText.isBinary, false, "text comes back as text");
          assertSameBytes(echoedText.data, Buffer.from(text), "text echo");

          const bytes = randomPayload(size);
          await peer.send(bytes, { binary: true });
          const echoedBytes = await peer.next(30_000);
          assert.equal(echoedBytes.isBinary, true, "binary comes back as binary");
          assertSameBytes(echoedBytes.data, bytes, "binary echo");
        } finally {
          await peer.close();
        }
      });
    }

    test("many messages in a burst come back in order", async () => {
      const peer = await greeted(perMessageDeflate);
      try {
        const sent = Array.from({ length: 200 }, (_, i) => (i % 2 ? randomText(i * 37) : randomPayload(i * 41)));
        for (const message of sent) peer.ws.send(message);
        for (const [i, message] of sent.entries()) {
          const echoed = await peer.next();
          assert.equal(echoed.isBinary, typeof message !== "string", `message ${i} kind`);
          assertSameBytes(echoed.data, Buffer.from(message), `message ${i}`);
        }
      } finally {
        await peer.close();
      }
    });
  });

describe("fragmented messages", () => {
  async function sendFragments(peer: WsPeer, pieces: Buffer[], binary: boolean): Promise<Buffer> {
    for (const [i, piece] of pieces.entries()) await peer.send(piece, { binary, fin: i === pieces.length - 1 });
    return Buffer.concat(pieces);
  }

  test("text in fragments of 0, 1, 125, 126 and 64 KiB bytes, with a character split across fragments", async () => {
    const peer = await greeted();
    try {
      const euro = Buffer.from("€");
      const pieces = [
        Buffer.from(randomText(125)),
        Buffer.alloc(0),
        euro.subarray(0, 1),
        euro.subarray(1),
        Buffer.from(randomText(126)),
        Buffer.from(randomText(64 * 1024)),
        Buffer.from("x"),
      ];
      const whole = await sendFragments(peer, pieces, false);
      const echoed = await peer.next();
      assert.equal(echoed.isBinary, false);
      assertSameBytes(echoed.data, whole, "fragmented text");
    } finally {
      await peer.close();
    }
  });

  test("binary in fragments, empty ones included", async () => {
    const peer = await greeted();
    try {
      const pieces = [0, 1, 125, 126, 65_536, 0, 3].map((n) => randomPayload(n));
      const whole = await sendFragments(peer, pieces, true);
      const echoed = await peer.next();
      assert.equal(echoed.isBinary, true);
      assertSameBytes(echoed.data, whole, "fragmented binary");
    } finally {
      await peer.close();
    }
  });

  test("16 MiB in 16 fragments of 1 MiB", async () => {
    const peer = await greeted();
    try {
      const pieces = Array.from({ length: 16 }, () => randomPayload(MiB));
      const whole = await sendFragments(peer, pieces, true);
      assertSameBytes((await peer.next(30_000)).data, whole, "16 MiB fragmented");
    } finally {
      await peer.close();
    }
  });

  test("a ping between the fragments of a message is answered, and the message arrives whole", async () => {
    const peer = await greeted();
    try {
      peer.ws.send("first half, ", { fin: false });
      peer.ws.ping("in the middle");
      peer.ws.send("second half", { fin: true });
      const echoed = await peer.next();
      assert.equal(echoed.text, "first half, second half");
      await waitUntil(() => peer.pongs.length === 1, 3000, "the pong");
      assert.equal(peer.pongs[0]!.toString(), "in the middle");
    } finally {
      await peer.close();
    }
  });
});

describe("pings", () => {
  test("every ping is answered with a pong carrying the same payload", async () => {
    const peer = await greeted();
    try {
      const payloads = [Buffer.alloc(0), Buffer.from("x"), Buffer.from("ping é"), randomPayload(125)];
      for (const payload of payloads) peer.ws.ping(payload);
      await waitUntil(() => peer.pongs.length === payloads.length, 3000, "all pongs");
      for (const [i, payload] of payloads.entries()) assertSameBytes(peer.pongs[i]!, payload, `pong ${i}`);
      // The server's message stream is undisturbed.
      await peer.send("after pings");
      assert.equal((await peer.next()).text, "after pings");
    } finally {
      await peer.close();
    }
  });
});

describe("closing", () => {
  const cases: Array<[number, string]> = [
    [1000, ""],
    [1000, "normal"],
    [1001, "going away"],
    [1003, "unsupported"],
    [1008, "policy"],
    [1011, "oops"],
    [3000, "registered range"],
    [4999, "private range"],
    [4000, "ünïcödé ✓ 😀"],
    [4001, "r".repeat(123)],
  ];
  for (const [code, reason] of cases) {
    test(`the client closes with ${code} "${reason.length > 20 ? reason.slice(0, 20) + "…" : reason}": the code is echoed and the server sees code and reason`, async () => {
      const peer = await greeted();
      const socket = server.sockets.at(-1)!;
      await peer.send("last words");
      assert.equal((await peer.next()).text, "last words");
      const closed = await peer.close(code, reason);
      assert.equal(closed.code, code, "the server echoes the close code (section 5.5.1)");
      const event = await withTimeout(socket.closed, 3000, "the server's close event");
      assert.deepEqual({ code: event.code, reason: event.reason, wasClean: event.wasClean }, { code, reason, wasClean: true });
    });
  }

  test("a client closing without a code gets an empty close back (1005 on both sides)", async () => {
    const peer = await greeted();
    const socket = server.sockets.at(-1)!;
    peer.ws.close();
    assert.equal((await withTimeout(peer.closed, 3000, "the close")).code, 1005);
    assert.equal((await socket.closed).code, 1005);
  });

  for (const [code, reason] of [
    [1000, "bye"],
    [4321, "ünïcödé"],
    [1001, ""],
  ] as const) {
    test(`hawser closes with ${code} "${reason}": the client sees both`, async () => {
      const peer = await WsPeer.connect(`${server.url}/close?code=${code}&reason=${encodeURIComponent(reason)}`);
      assert.deepEqual(await withTimeout(peer.closed, 3000, "the close"), { code, reason });
      const event = await server.sockets.at(-1)!.closed;
      assert.equal(event.code, code);
      assert.equal(event.wasClean, true);
    });
  }
});
