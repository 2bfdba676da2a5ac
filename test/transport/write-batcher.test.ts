// WriteBatcher: how frames written in one read or one tick reach the socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Writable } from "node:stream";
import { WriteBatcher } from "../../src/transport/write-batcher.js";
import { PreparedMessage } from "../../src/transport/prepared-message.js";
import { decodeAll, TEST_MASK } from "../protocol/helpers.js";

/** A socket stand-in that records each write and writev it is given. */
function recordingSocket() {
  const calls: { kind: "write" | "writev"; chunks: Buffer[] }[] = [];
  const socket = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      calls.push({ kind: "write", chunks: [chunk] });
      callback();
    },
    writev(entries, callback) {
      calls.push({ kind: "writev", chunks: entries.map((e) => e.chunk as Buffer) });
      callback();
    },
  });
  const bytes = (): string => Buffer.concat(calls.flatMap((c) => c.chunks)).toString();
  return { socket, calls, bytes };
}

const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

test("small frames written during a read leave in one write, in order, at the release", () => {
  const { socket, calls, bytes } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  assert.equal(batcher.hold(), true);
  assert.equal(batcher.hold(), false, "a nested hold must not release");
  for (let i = 0; i < 16; i++) batcher.write([Buffer.from(`<${i}>`)]);
  assert.equal(calls.length, 0);
  assert.equal(batcher.bytes, 10 * 3 + 6 * 4, "held bytes are counted for bufferedAmount");
  batcher.release();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.kind, "write");
  assert.equal(bytes(), Array.from({ length: 16 }, (_, i) => `<${i}>`).join(""));
  assert.equal(batcher.bytes, 0);
});

test("frames written outside a read leave together on the next tick", async () => {
  const { socket, calls, bytes } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  batcher.write([Buffer.from("a")]);
  batcher.write([Buffer.from("b"), Buffer.from("c")]);
  assert.equal(calls.length, 0);
  await tick();
  assert.deepEqual(
    calls.map((c) => c.kind),
    ["write"],
  );
  assert.equal(bytes(), "abc");
});

test("a large batch goes out as one writev of the frames as they are, without a copy", () => {
  const { socket, calls } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  const big = Buffer.alloc(64 * 1024, 1);
  const head = Buffer.from([0x82, 127]);
  batcher.hold();
  batcher.write([head, big]);
  batcher.write([Buffer.from("tail")]);
  batcher.release();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.kind, "writev");
  assert.equal(calls[0]!.chunks[1], big, "the payload is handed over, not copied");
  assert.equal(calls[0]!.chunks[2]!.toString(), "tail");
});

test("nothing is written to a socket that has ended; flush() before end() sends what waited", () => {
  const { socket, calls, bytes } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  batcher.write([Buffer.from("last words")]);
  batcher.flush();
  socket.end();
  batcher.write([Buffer.from("too late")]);
  batcher.flush();
  assert.equal(bytes(), "last words");
  assert.equal(calls.length, 1);
});

test("a prepared (shared) frame up to 16 KiB is one buffer, so no subscriber's batcher copies it", () => {
  const message = new PreparedMessage(0x2, Buffer.alloc(10_000, 7));
  assert.equal(message.frames.length, 1);
  const { socket, calls } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  batcher.hold();
  batcher.write(message.frames);
  batcher.release();
  assert.equal(calls[0]!.chunks[0], message.frames[0], "written as it is");
  assert.equal(new PreparedMessage(0x2, Buffer.alloc(20_000)).frames.length, 2, "a larger one keeps its payload by reference");
});

test("afterWrite: the callback fires once the batch holding earlier frames was written by the socket", async () => {
  const { socket, calls } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  const seen: string[] = [];
  batcher.write([Buffer.from("a")]);
  batcher.afterWrite((error) => seen.push(`first:${error ?? "ok"}:${calls.length}`));
  batcher.write([Buffer.from("b")]);
  batcher.afterWrite((error) => seen.push(`second:${error ?? "ok"}:${calls.length}`));
  assert.deepEqual(seen, [], "nothing is written before the flush");
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    calls.map((c) => Buffer.concat(c.chunks).toString()),
    ["ab"],
    "the callbacks add no write of their own",
  );
  assert.deepEqual(seen, ["first:ok:1", "second:ok:1"]);
});

test("afterWrite with nothing batched waits for what the socket already holds", async () => {
  const { socket, calls } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  let called = 0;
  batcher.afterWrite(() => called++);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(called, 1);
  assert.equal(Buffer.concat(calls.flatMap((c) => c.chunks)).length, 0, "no bytes were added to the stream");
});

test("afterWrite on a destroyed socket reports an error instead of success", async () => {
  const { socket } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  batcher.write([Buffer.from("lost")]);
  const errors: Array<Error | null | undefined> = [];
  batcher.afterWrite((error) => errors.push(error));
  socket.destroy();
  batcher.flush();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]?.message), /closed before the data could be written/);
});

// --- frames encoded into the shared slab (writeFrame) ----------------------------------------

test("replies written with writeFrame during a read leave as one write of consecutive frames", () => {
  const { socket, calls } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  batcher.hold();
  for (let i = 0; i < 16; i++) batcher.writeFrame(0x1, i % 2 ? `text ${i}` : Buffer.from(`bytes ${i}`), true, false, null);
  assert.equal(batcher.bytes, expectedSize(16), "held bytes are counted for bufferedAmount");
  batcher.release();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.kind, "write");
  const frames = decodeAll(calls[0]!.chunks[0]!);
  assert.deepEqual(
    frames.map((f) => f.payload.toString()),
    Array.from({ length: 16 }, (_, i) => (i % 2 ? `text ${i}` : `bytes ${i}`)),
  );
  assert.ok(frames.every((f) => f.fin && f.opcode === 0x1 && f.mask === null));
});

/** Bytes of the 16 frames above: a 2-byte header each plus "text i" / "bytes i". */
function expectedSize(count: number): number {
  let size = 0;
  for (let i = 0; i < count; i++) size += 2 + Buffer.byteLength(i % 2 ? `text ${i}` : `bytes ${i}`);
  return size;
}

test("connections writing in turns each get only their own frames, in their order", async () => {
  const a = recordingSocket();
  const b = recordingSocket();
  const batchA = new WriteBatcher(a.socket as never);
  const batchB = new WriteBatcher(b.socket as never);
  for (let i = 0; i < 50; i++) {
    batchA.writeFrame(0x2, Buffer.from(`a${i}`), true, false, null);
    if (i % 3 === 0) batchB.writeFrame(0x2, Buffer.from(`b${i}`), true, false, null);
    if (i % 7 === 0) batchA.write([Buffer.from([0x89, 0x00])]); // a ping frame, already encoded
  }
  await tick();
  const seenA = decodeAll(Buffer.concat(a.calls.flatMap((c) => c.chunks)));
  const seenB = decodeAll(Buffer.concat(b.calls.flatMap((c) => c.chunks)));
  const expectA: string[] = [];
  for (let i = 0; i < 50; i++) {
    expectA.push(`a${i}`);
    if (i % 7 === 0) expectA.push("ping");
  }
  assert.deepEqual(
    seenA.map((f) => (f.opcode === 0x9 ? "ping" : f.payload.toString())),
    expectA,
  );
  assert.deepEqual(
    seenB.map((f) => f.payload.toString()),
    Array.from({ length: 17 }, (_, k) => `b${k * 3}`),
  );
});

test("bytes handed to a socket are never overwritten by later frames, however many follow", () => {
  // A socket that keeps what it was given without consuming it, as one with a full kernel buffer does.
  const kept: Buffer[] = [];
  const stalled = { destroyed: false, writableEnded: false, write: (chunk: Buffer) => kept.push(chunk) };
  const slow = new WriteBatcher(stalled as never);
  slow.writeFrame(0x1, "first, still unsent", true, false, null);
  slow.flush();
  const copy = Buffer.from(kept[0]!);
  const { socket } = recordingSocket();
  const busy = new WriteBatcher(socket as never);
  for (let i = 0; i < 5000; i++) busy.writeFrame(0x2, Buffer.alloc(100, i & 0xff), true, false, null);
  busy.flush();
  assert.deepEqual(kept[0], copy);
});

test("a large unmasked payload goes out by reference; masked and large text frames encode right", () => {
  const { socket, calls } = recordingSocket();
  const batcher = new WriteBatcher(socket as never);
  const big = Buffer.alloc(20_000, 3);
  batcher.hold();
  batcher.writeFrame(0x2, Buffer.from("small"), true, false, null);
  batcher.writeFrame(0x2, big, true, false, null);
  batcher.writeFrame(0x1, "é".repeat(10_000), false, false, null);
  batcher.writeFrame(0x0, Buffer.from("masked"), true, false, TEST_MASK);
  batcher.release();
  const chunks = calls.flatMap((c) => c.chunks);
  assert.ok(chunks.includes(big), "the 20 kB payload is handed over, not copied");
  const frames = decodeAll(Buffer.concat(chunks));
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.fin, f.payload.length]),
    [
      [2, true, 5],
      [2, true, 20_000],
      [1, false, 20_000],
      [0, true, 6],
    ],
  );
  assert.equal(frames[2]!.payload.toString(), "é".repeat(10_000));
  assert.deepEqual(frames[3]!.mask && [...frames[3]!.mask], [...TEST_MASK]);
  assert.equal(frames[3]!.payload.toString(), "masked");
});

test("subscribers given the same frames in a tick share one joined buffer; any other pieces get their own", async () => {
  const frames = [Buffer.from("<one>"), Buffer.from("<two>")];
  const sockets = Array.from({ length: 4 }, () => recordingSocket());
  const batchers = sockets.map((s) => new WriteBatcher(s.socket as never));
  for (const frame of frames) for (const batcher of batchers.slice(0, 3)) batcher.write([frame]);
  // The same length and bytes in other buffers: must not be taken for the shared pieces.
  for (const frame of frames) batchers[3]!.write([Buffer.from(frame)]);
  await tick();
  const written = sockets.map((s) => {
    assert.equal(s.calls.length, 1);
    assert.equal(s.bytes(), "<one><two>");
    return s.calls[0]!.chunks[0]!;
  });
  assert.equal(written[1], written[0], "the second subscriber writes the first one's joined buffer");
  assert.equal(written[2], written[0]);
  assert.notEqual(written[3], written[0], "other pieces are joined on their own");
  // The next tick's batch, with a frame more, is joined afresh.
  for (const batcher of batchers.slice(0, 2)) batcher.write([frames[0]!, frames[1]!, Buffer.from("<three>")]);
  await tick();
  assert.equal(sockets[0]!.bytes(), "<one><two><one><two><three>");
  assert.notEqual(sockets[0]!.calls[1]!.chunks[0], written[0]);
});

test("backlog counts the socket's buffer and the batch, read afresh after every flush", async () => {
  // A socket that holds every write until told to complete it.
  const pending: (() => void)[] = [];
  const socket = new Writable({
    highWaterMark: 1 << 20,
    write(_chunk: Buffer, _encoding, callback) {
      pending.push(() => callback());
    },
  });
  const batcher = new WriteBatcher(socket as never);
  assert.equal(batcher.backlog, 0);
  batcher.write([Buffer.alloc(100)]);
  assert.equal(batcher.backlog, 100, "the batch");
  batcher.write([Buffer.alloc(50)]);
  assert.equal(batcher.backlog, 150);
  await tick();
  assert.equal(socket.writableLength, 150);
  assert.equal(batcher.backlog, 150, "the socket's buffer once flushed");
  batcher.write([Buffer.alloc(10)]);
  assert.equal(batcher.backlog, 160, "the socket's buffer and a new batch");
  pending.shift()!(); // the socket takes the first write
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(socket.writableLength, 10);
  assert.equal(batcher.backlog, 10, "after the flush the socket's length is read again");
  pending.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(batcher.backlog, 0);
  // During a read (hold), the same: the batch plus the socket's length as it is.
  assert.equal(batcher.hold(), true);
  batcher.write([Buffer.alloc(7)]);
  assert.equal(batcher.backlog, 7);
  batcher.release();
  assert.equal(batcher.backlog, 7, "the released batch, now in the socket");
  pending.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(batcher.backlog, 0);
});
