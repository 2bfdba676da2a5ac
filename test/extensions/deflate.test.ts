import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { DeflateClosedError, DeflateError, PerMessageDeflate } from "../../src/extensions/deflate.js";
import { forRole, type DeflateParams, type PerMessageDeflateOptions } from "../../src/extensions/deflate-negotiation.js";
import { ZlibLimiter } from "../../src/extensions/zlib-limiter.js";

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** Deterministic pseudo-random generator (tests must be reproducible). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const WORDS = "the quick brown fox jumps over a lazy dog while websocket frames carry compressed text messages across the wire".split(" ");

function textData(size: number, seed: number): Buffer {
  const r = rng(seed);
  let s = "";
  while (s.length < size) s += WORDS[Math.floor(r() * WORDS.length)]! + (r() < 0.1 ? ".\n" : " ");
  return Buffer.from(s.slice(0, size));
}

/** Binary with literals and repeats at distances from 1 byte to 32 KiB, so every window size matters. */
function binaryData(size: number, seed: number): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(size);
  let i = 0;
  while (i < size) {
    if (i > 16 && r() < 0.5) {
      const distance = 1 + Math.floor(Math.min(i, 32768) * r() ** 2);
      const length = Math.min(size - i, 3 + Math.floor(r() * 60));
      for (let k = 0; k < length; k++, i++) out[i] = out[i - distance]!;
    } else {
      out[i++] = Math.floor(r() * 256);
    }
  }
  return out;
}

function pair(params: DeflateParams, options: PerMessageDeflateOptions = {}, limiter?: ZlibLimiter) {
  return {
    server: new PerMessageDeflate(forRole(params, "server"), options, limiter),
    client: new PerMessageDeflate(forRole(params, "client"), options, limiter),
  };
}

const DEFAULT_PARAMS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

const SIZES = [16, 100, 1024, 4096, 16 * 1024, 64 * 1024, 128 * 1024];

test("round trip: every combination of the four parameters, 16 B to 128 KiB, text and binary, both directions", async () => {
  let combos = 0;
  for (const serverNoContextTakeover of [false, true])
    for (const clientNoContextTakeover of [false, true])
      for (const serverMaxWindowBits of [8, 9, 12, 15])
        for (const clientMaxWindowBits of [8, 10, 13, 15]) {
          const params = { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
          const { server, client } = pair(params);
          for (const [sender, receiver] of [
            [server, client],
            [client, server],
          ] as const) {
            let seed = combos * 100;
            for (const size of SIZES) {
              for (const make of [textData, binaryData]) {
                const message = make(size, ++seed);
                // Twice in a row: with context takeover the second refers back to the first.
                for (let n = 0; n < 2; n++) {
                  const compressed = await sender.compress(message);
                  const back = await receiver.decompress(compressed, true, size);
                  assert.ok(back.equals(message), `${JSON.stringify(params)} size ${size} ${make.name} #${n}`);
                }
              }
            }
          }
          server.close();
          client.close();
          combos++;
        }
  assert.equal(combos, 64);
});

test("context takeover is used, and reset after each message when negotiated", async () => {
  const r = rng(7);
  const message = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256))); // incompressible alone
  for (const noTakeover of [false, true]) {
    const { server, client } = pair({ ...DEFAULT_PARAMS, serverNoContextTakeover: noTakeover });
    const first = await server.compress(message);
    const second = await server.compress(message);
    if (noTakeover) assert.ok(second.equals(first), "a reset context compresses the same message identically");
    else assert.ok(second.length * 4 < first.length, `the repeat refers back (${second.length} vs ${first.length} bytes)`);
    assert.ok((await client.decompress(first, true, 1e6)).equals(message));
    assert.ok((await client.decompress(second, true, 1e6)).equals(message));
    server.close();
    client.close();
  }
});

test("fragmented messages: compressed fragment by fragment, decompressed frame by frame or re-split", async () => {
  const { server, client } = pair(DEFAULT_PARAMS);
  const r = rng(99);
  for (let m = 0; m < 30; m++) {
    const message = (m % 2 ? binaryData : textData)(1 + Math.floor(r() * 50_000), m);
    const cuts = [0, ...Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * message.length)).sort((a, b) => a - b), message.length];
    const frames: Buffer[] = [];
    for (let i = 1; i < cuts.length; i++) {
      frames.push(await server.compress(message.subarray(cuts[i - 1], cuts[i]), i === cuts.length - 1));
    }
    // frame by frame, as the sender cut it (empty fragments included)
    const parts: Buffer[] = [];
    for (let i = 0; i < frames.length; i++) parts.push(await client.decompress(frames[i]!, i === frames.length - 1, message.length));
    assert.ok(Buffer.concat(parts).equals(message), `message ${m}`);
  }
  // a payload split at arbitrary points decompresses the same
  const message = textData(20_000, 5);
  const payload = await server.compress(message);
  const again = await server.compress(message);
  assert.ok((await client.decompress(payload, true, 1e6)).equals(message));
  const parts: Buffer[] = [];
  for (let i = 0; i < again.length; i += 3) parts.push(await client.decompress(again.subarray(i, i + 3), i + 3 >= again.length, 1e6));
  assert.ok(Buffer.concat(parts).equals(message));
  server.close();
  client.close();
});

test("empty messages and an empty last fragment (RFC 7692 §7.2.3.6)", async () => {
  const { server, client } = pair(DEFAULT_PARAMS);
  assert.deepEqual(await server.compress(Buffer.alloc(0)), hex("00"));
  assert.equal((await client.decompress(hex("00"), true, 0)).length, 0);
  const a = await server.compress(Buffer.from("xyz"), false);
  const b = await server.compress(Buffer.alloc(0), true); // zlib has nothing left to flush
  assert.deepEqual(b, hex("00"));
  assert.equal(Buffer.concat([await client.decompress(a, false, 3), await client.decompress(b, true, 3)]).toString(), "xyz");
  assert.equal((await client.decompress(await server.compress(Buffer.from("next")), true, 4)).toString(), "next");
  server.close();
  client.close();
});

test("RFC 7692 §7.2.3 examples decode; our output matches §7.2.3.1 and §7.2.3.2", async () => {
  const { server } = pair(DEFAULT_PARAMS);
  assert.deepEqual(await server.compress(Buffer.from("Hello")), hex("f2 48 cd c9 c9 07 00"));
  assert.deepEqual(await server.compress(Buffer.from("Hello")), hex("f2 00 11 00 00"));
  server.close();

  const examples: [string, string[]][] = [
    ["§7.2.3.1 + §7.2.3.2 shared window", ["f2 48 cd c9 c9 07 00", "f2 00 11 00 00"]],
    ["§7.2.3.3 stored block", ["00 05 00 fa ff 48 65 6c 6c 6f 00"]],
    ["§7.2.3.4 BFINAL block, then a message using the window", ["f3 48 cd c9 c9 07 00 00", "f2 00 11 00 00"]],
    ["BFINAL block without the padding octet", ["f3 48 cd c9 c9 07 00", "f2 00 11 00 00", "f2 00 11 00 00"]],
    ["§7.2.3.5 two blocks in one message", ["f2 48 05 00 00 00 ff ff ca c9 c9 07 00"]],
  ];
  for (const [name, messages] of examples) {
    const receiver = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "client"));
    for (const m of messages) assert.equal((await receiver.decompress(hex(m), true, 100)).toString(), "Hello", name);
    receiver.close();
  }
});

for (const priming of ["dictionary", "stored-block"] as const)
  test(`blocks after a BFINAL block in the same message continue the window (RFC 7692 §7.2.1; window: ${priming})`, async () => {
    const first = Buffer.from("Hello, hello, hello! ");
    const second = Buffer.from("Hello again, hello! and hello once more.");
    const finalBlock = zlib.deflateRawSync(first); // ends with BFINAL, octet-padded
    const continuation = zlib.deflateRawSync(second, { dictionary: first, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const payload = Buffer.concat([finalBlock, continuation.subarray(0, continuation.length - 4)]);
    for (const split of [payload.length, finalBlock.length, finalBlock.length - 1, 3]) {
      const receiver = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "client"), {}, undefined, priming);
      const out = Buffer.concat([
        await receiver.decompress(payload.subarray(0, split), split === payload.length, 1000),
        ...(split < payload.length ? [await receiver.decompress(payload.subarray(split), true, 1000)] : []),
      ]);
      assert.equal(out.toString(), first.toString() + second.toString(), `split at ${split}`);
      receiver.close();
    }
  });

test("a flood of BFINAL blocks in one message is rejected with 1007, not looped over", async () => {
  const receiver = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "client"));
  // "03 00" is an empty fixed-Huffman block with BFINAL set: each one would need a new inflater.
  const flood = Buffer.concat(Array(5000).fill(hex("03 00")));
  await assert.rejects(receiver.decompress(flood, true, 1000), (err: unknown) => err instanceof DeflateError && err.closeCode === 1007);
  receiver.close();
  const ok = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "client"));
  assert.equal((await ok.decompress(Buffer.concat(Array(10).fill(hex("03 00"))), true, 1000)).length, 0);
  ok.close();
});

test("compatible with plain node:zlib in both directions", async () => {
  for (const bits of [8, 9, 11, 15]) {
    const params = { ...DEFAULT_PARAMS, serverMaxWindowBits: bits, clientMaxWindowBits: bits };
    const { server, client } = pair(params);
    const zInflate = zlib.createInflateRaw({ windowBits: bits, flush: zlib.constants.Z_SYNC_FLUSH });
    const zDeflate = zlib.createDeflateRaw({ windowBits: Math.max(9, bits), flush: zlib.constants.Z_SYNC_FLUSH });
    const roundTrip = (stream: zlib.InflateRaw | zlib.DeflateRaw, input: Buffer): Promise<Buffer> =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        const onData = (c: Buffer): void => void chunks.push(c);
        stream.on("data", onData);
        stream.write(input, () => {
          stream.off("data", onData);
          resolve(Buffer.concat(chunks));
        });
      });
    for (let i = 0; i < 6; i++) {
      const message = (i % 2 ? binaryData : textData)(5000 * (i + 1), bits * 10 + i);
      // hawser compresses, zlib inflates with the window the peer agreed to (context kept)
      const ours = await server.compress(message);
      assert.ok((await roundTrip(zInflate, Buffer.concat([ours, TAIL]))).equals(message), `bits ${bits} #${i} hawser->zlib`);
      // zlib compresses with a sync flush, hawser inflates
      const theirs = await roundTrip(zDeflate, message);
      assert.ok(theirs.subarray(-4).equals(TAIL));
      assert.ok((await client.decompress(theirs.subarray(0, -4), true, message.length)).equals(message), `bits ${bits} #${i} zlib->hawser`);
    }
    zInflate.destroy();
    zDeflate.destroy();
    server.close();
    client.close();
  }
});

test("8-bit windows: zlib's 9-bit deflate fits an 8-bit inflater, a 10-bit one does not", () => {
  // Period 300 > 256: a match at distance 300 would break an 8-bit inflater.
  const r = rng(3);
  const block = Buffer.from(Array.from({ length: 300 }, () => Math.floor(r() * 256)));
  const inputs = [Buffer.concat(Array(200).fill(block)), binaryData(200_000, 11), textData(200_000, 12)];
  for (const input of inputs) {
    for (const level of [1, 6, 9]) {
      const nine = zlib.deflateRawSync(input, { windowBits: 9, level });
      assert.ok(zlib.inflateRawSync(nine, { windowBits: 8 }).equals(input));
    }
  }
  const ten = zlib.deflateRawSync(inputs[0]!, { windowBits: 10 });
  assert.throws(() => zlib.inflateRawSync(ten, { windowBits: 8 }), /invalid distance too far back/);
});

test("max message size is enforced on the inflated size, across fragments", async () => {
  const { server, client } = pair(DEFAULT_PARAMS);
  const message = textData(10_000, 1);
  assert.equal((await client.decompress(await server.compress(message), true, 10_000)).length, 10_000); // exactly the limit
  const over = await server.compress(message);
  await assert.rejects(client.decompress(over, true, 9_999), (err: unknown) => {
    assert.ok(err instanceof DeflateError);
    assert.equal(err.closeCode, 1009);
    assert.equal(err.message, "message inflates past the maximum message size of 9999 bytes");
    assert.ok(err.inflatedBytes! > 9_999 && err.inflatedBytes! <= 10_000);
    return true;
  });
  assert.throws(() => client.decompress(over, true, Number.NaN), /maxMessageBytes must be a number >= 0/);
  // the inflater is gone with its window: later calls repeat the error
  await assert.rejects(client.decompress(hex("00"), true, 100), (err: unknown) => err instanceof DeflateError && err.closeCode === 1009);

  const fresh = pair(DEFAULT_PARAMS);
  const a = await fresh.server.compress(message, false);
  const b = await fresh.server.compress(message, true);
  assert.equal((await fresh.client.decompress(a, false, 15_000)).length, 10_000);
  await assert.rejects(fresh.client.decompress(b, true, 15_000), (err: unknown) => {
    assert.ok(err instanceof DeflateError && err.closeCode === 1009);
    assert.ok(err.inflatedBytes! > 15_000 && err.inflatedBytes! <= 20_000, `counted over the message: ${err.inflatedBytes}`);
    return true;
  });
  for (const d of [server, client, fresh.server, fresh.client]) d.close();
});

test("corrupt data rejects with 1007, never throws elsewhere", async () => {
  for (const bad of ["ff ff ff ff", "07", "00 05 00 00 00", "f2 48 cd c9 c9 07 00 ff ff ff ff ff"]) {
    const receiver = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "client"));
    await assert.rejects(receiver.decompress(hex(bad), true, 1000), (err: unknown) => {
      assert.ok(err instanceof DeflateError, String(err));
      assert.equal(err.closeCode, 1007);
      assert.match(err.message, /invalid compressed data/);
      return true;
    });
    assert.deepEqual(await receiver.compress(Buffer.from("Hello")), hex("f2 48 cd c9 c9 07 00"), "compression is unaffected");
    receiver.close();
  }
  // A peer exceeding the negotiated window is corrupt data too.
  const wide = zlib.deflateRawSync(binaryData(100_000, 4), { windowBits: 15, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const narrow = new PerMessageDeflate(forRole({ ...DEFAULT_PARAMS, serverMaxWindowBits: 9 }, "client"));
  await assert.rejects(narrow.decompress(wide.subarray(0, -4), true, 1e6), (err: unknown) => err instanceof DeflateError && err.closeCode === 1007);
  narrow.close();
});

test("order is preserved when many calls are issued without awaiting", async () => {
  const messages = Array.from({ length: 400 }, (_, i) => (i % 3 ? textData : binaryData)(50 + ((i * 977) % 20_000), i));
  const noTakeover = { ...DEFAULT_PARAMS, serverNoContextTakeover: true, clientNoContextTakeover: true };
  for (const params of [DEFAULT_PARAMS, noTakeover]) {
    const { server, client } = pair(params, {}, new ZlibLimiter(3));
    const compressed = await Promise.all(messages.map((m) => server.compress(m)));
    const inflated = await Promise.all(compressed.map((c, i) => client.decompress(c, true, messages[i]!.length)));
    inflated.forEach((m, i) => assert.ok(m.equals(messages[i]!), `message ${i}`));
    // and interleaved, one at a time then in bursts (streams freed when idle, reset when busy)
    for (let i = 0; i < 40; i += 4) {
      const burst = messages.slice(i, i + 4);
      const out = await Promise.all(burst.map((m) => server.compress(m).then((c) => client.decompress(c, true, m.length))));
      out.forEach((m, k) => assert.ok(m.equals(burst[k]!)));
    }
    server.close();
    client.close();
  }
});

class CountingLimiter extends ZlibLimiter {
  peak = 0;
  override async acquire(signal?: AbortSignal): Promise<() => void> {
    const release = await super.acquire(signal);
    this.peak = Math.max(this.peak, this.running);
    return release;
  }
}

test("the shared limiter bounds zlib jobs across connections", async () => {
  const limiter = new CountingLimiter(4);
  const connections = Array.from({ length: 50 }, () => pair(DEFAULT_PARAMS, {}, limiter));
  await Promise.all(
    connections.map(async ({ server, client }, i) => {
      const work = Array.from({ length: 5 }, async (_, k) => {
        const m = textData(30_000, i * 10 + k);
        return (await client.decompress(await server.compress(m), true, m.length)).equals(m);
      });
      assert.ok((await Promise.all(work)).every(Boolean));
    }),
  );
  assert.equal(limiter.peak, 4);
  assert.equal(limiter.running, 0);
  for (const { server, client } of connections) {
    server.close();
    client.close();
  }
});

test("close() rejects running and queued operations cleanly and frees the streams", async () => {
  const limiter = new ZlibLimiter(1);
  const hold = await limiter.acquire(); // everything queues behind this
  const { server, client } = pair(DEFAULT_PARAMS, {}, limiter);
  const queued = [server.compress(textData(1000, 1)), server.compress(textData(1000, 2)), client.decompress(hex("00"), true, 10)];
  server.close();
  client.close();
  for (const p of queued) await assert.rejects(p, DeflateClosedError);
  assert.equal(limiter.queued, 0, "cancelled jobs left the limiter queue");
  hold();
  await assert.rejects(server.compress(Buffer.from("x")), DeflateClosedError);
  await assert.rejects(client.decompress(hex("00"), true, 10), DeflateClosedError);

  // close while zlib is working on a large message
  const busy = pair(DEFAULT_PARAMS);
  const big = binaryData(4 * 1024 * 1024, 8);
  const running = busy.server.compress(big);
  const after = busy.server.compress(big);
  await new Promise((r) => setImmediate(r));
  busy.server.close();
  busy.server.close(); // idempotent
  await assert.rejects(running, DeflateClosedError);
  await assert.rejects(after, DeflateClosedError);
  busy.client.close();
  await new Promise((r) => setTimeout(r, 50));
});

test("threshold: small messages are left uncompressed", () => {
  const d = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "server"));
  assert.equal(d.thresholdBytes, 1024);
  assert.equal(d.shouldCompress(1023), false);
  assert.equal(d.shouldCompress(1024), true);
  const e = new PerMessageDeflate(forRole(DEFAULT_PARAMS, "server"), { thresholdBytes: 0 });
  assert.equal(e.shouldCompress(0), true);
  d.close();
  e.close();
});
