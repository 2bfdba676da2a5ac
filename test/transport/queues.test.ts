// The transport's two ordering queues on their own: SendQueue keeps send order around
// compression, DeliveryQueue keeps arrival order around decompression.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { SendQueue, type SendQueueSink } from "../../src/transport/send-queue.js";
import { DeliveryQueue, type DeliveryQueueOwner } from "../../src/transport/delivery-queue.js";
import type { MessageCodec } from "../../src/protocol/codec.js";
import type { Connection } from "../../src/protocol/connection.js";
import type { TransportListener } from "../../src/transport/types.js";

const TEXT = 0x1;
const BINARY = 0x2;

/** A codec whose calls finish when the test says so, in any order. */
class ManualCodec implements MessageCodec {
  readonly threshold = 10;
  readonly extensionHeader = "permessage-deflate";
  readonly pending: { input: Buffer; resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  compress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => this.pending.push({ input: data, resolve, reject }));
  }
  decompress(data: Buffer): Promise<Buffer> {
    return this.compress(data);
  }
  close(): void {}
}

function sendSink(): SendQueueSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    finished: false,
    writeData: (opcode, payload, compressed) => log.push(`${opcode}:${String(payload)}${compressed ? `>${compressed.toString()}` : ""}`),
    writeFrames: (frames) => log.push(`frames:${frames.length}`),
    sendClose: (code, reason) => log.push(`close:${code}:${reason}`),
    failLocally: (error) => log.push(`fail:${error.message}`),
    writeFragment: (opcode, payload, fin, rsv1) => log.push(`fragment:${opcode}:${payload.toString()}:${fin ? "fin" : "more"}${rsv1 ? ":rsv1" : ""}`),
    afterFramesWritten: (callback) => {
      log.push("written");
      callback();
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("SendQueue: a short message and the close wait behind a message being compressed", async () => {
  const codec = new ManualCodec();
  const sink = sendSink();
  const queue = new SendQueue(codec, sink);
  queue.send(TEXT, "a long message to compress", 26);
  queue.send(BINARY, Buffer.from("short"), 5);
  queue.close(1000, "bye");
  assert.deepEqual(sink.log, [], "nothing may overtake the message being compressed");
  assert.equal(queue.closing, true);
  assert.equal(queue.bytes, 26 + 5);
  codec.pending[0]!.resolve(Buffer.from("Z"));
  await tick();
  assert.deepEqual(sink.log, ["1:a long message to compress>Z", "2:short", "close:1000:bye"]);
  assert.equal(queue.isEmpty, true);
  assert.equal(queue.bytes, 0);
});

test("SendQueue: a failed compression fails the connection and drops what waited behind it", async () => {
  const codec = new ManualCodec();
  const sink = sendSink();
  const queue = new SendQueue(codec, sink);
  queue.send(TEXT, "a long message to compress", 26);
  queue.send(TEXT, "x", 1);
  codec.pending[0]!.reject(new Error("zlib broke"));
  await tick();
  assert.deepEqual(sink.log, ["fail:zlib broke"]);
  assert.equal(queue.isEmpty, true);
  assert.equal(queue.bytes, 0);
});

test("SendQueue: nothing is written once the queue was abandoned during a compression", async () => {
  const codec = new ManualCodec();
  const sink = sendSink();
  const queue = new SendQueue(codec, sink);
  queue.send(BINARY, Buffer.from("a long message to compress"), 26);
  queue.send(TEXT, "x", 1);
  queue.abandon();
  codec.pending[0]!.resolve(Buffer.from("Z"));
  await tick();
  assert.deepEqual(sink.log, []);
  assert.equal(queue.bytes, 0);
});

class FragmentCodec extends ManualCodec {
  compressFragment(data: Buffer, fin: boolean): Promise<Buffer> {
    return this.compress(Buffer.from(`${data.toString()}${fin ? "" : "+"}`));
  }
}

test("SendQueue: a fragmented compressed message keeps its order, RSV1 on its first frame only", async () => {
  const codec = new FragmentCodec();
  const sink = sendSink();
  const queue = new SendQueue(codec, sink);
  queue.sendFragment(TEXT, Buffer.from("one"), false, true);
  queue.sendFragment(0, Buffer.from("two"), true, true);
  queue.sendFragment(BINARY, Buffer.from("raw"), true, false);
  assert.deepEqual(
    codec.pending.map((p) => p.input.toString()),
    ["one+", "two"],
    "each fragment goes through the codec's fragment stream",
  );
  codec.pending[1]!.resolve(Buffer.from("Z2"));
  await tick();
  assert.deepEqual(sink.log, [], "the second fragment waits for the first");
  codec.pending[0]!.resolve(Buffer.from("Z1"));
  await tick();
  assert.deepEqual(sink.log, ["fragment:1:Z1:more:rsv1", "fragment:0:Z2:fin", "fragment:2:raw:fin"]);
  assert.equal(queue.bytes, 0);
});

test("SendQueue: a write callback waits for the messages queued before it; abandoning reports it", async () => {
  const codec = new ManualCodec();
  const sink = sendSink();
  const queue = new SendQueue(codec, sink);
  const outcomes: string[] = [];
  queue.send(TEXT, "a long message to compress", 26);
  queue.afterWrite((error) => outcomes.push(error ? `error:${error.message}` : "written"));
  codec.pending[0]!.resolve(Buffer.from("Z"));
  await tick();
  assert.deepEqual(sink.log, ["1:a long message to compress>Z", "written"]);
  assert.deepEqual(outcomes, ["written"]);

  queue.send(TEXT, "another long message", 20);
  queue.afterWrite((error) => outcomes.push(error ? `error:${error.message}` : "written"));
  queue.abandon();
  assert.deepEqual(outcomes, ["written", "error:The connection closed before the data could be written."], "told at once, before abandon() returns");
});

function delivery(codec: ManualCodec) {
  const log: string[] = [];
  const listener: TransportListener = {
    message: (opcode, data) => log.push(`message:${opcode}:${data.toString()}`),
    ping: (data) => log.push(`ping:${data.toString()}`),
    pong: (data) => log.push(`pong:${data.toString()}`),
    closeReceived: (code, reason) => log.push(`close:${code}:${reason}`),
    error: () => log.push("error"),
    closed: () => log.push("closed"),
    drain: () => log.push("drain"),
  };
  const connection = {
    fail: (code: number, message: string) => log.push(`fail:${code}:${message}`),
    resumeReceiving: () => log.push("resume"),
  } as unknown as Connection;
  const owner: DeliveryQueueOwner = {
    connection,
    finished: false,
    pauseForInflate: (paused) => log.push(paused ? "pause" : "unpause"),
    deliveryDrained: () => log.push("drained"),
  };
  return { log, queue: new DeliveryQueue(codec, 1 << 20, listener, owner) };
}

test("DeliveryQueue: ping, pong and close wait behind the message being inflated; reading pauses meanwhile", async () => {
  const codec = new ManualCodec();
  const { log, queue } = delivery(codec);
  queue.message(TEXT, Buffer.from("z1"), true);
  queue.control("ping", Buffer.from("p"));
  queue.message(BINARY, Buffer.from("plain"), false);
  queue.control("pong", Buffer.from("q"));
  queue.closeReceived(1000, "done");
  assert.equal(queue.delivering, true);
  assert.deepEqual(log, ["pause"]);
  codec.pending[0]!.resolve(Buffer.from("hello"));
  await tick();
  assert.deepEqual(log, ["pause", "message:1:hello", "resume", "ping:p", "message:2:plain", "pong:q", "close:1000:done", "unpause", "drained"]);
  assert.equal(queue.delivering, false);
  assert.equal(queue.isEmpty, true);
});

test("DeliveryQueue: inflated text that is not UTF-8 fails the connection with 1007 and delivers nothing after it", async () => {
  const codec = new ManualCodec();
  const { log, queue } = delivery(codec);
  queue.message(TEXT, Buffer.from("z"), true);
  queue.control("ping", Buffer.from("p"));
  codec.pending[0]!.resolve(Buffer.from([0xc3, 0x28]));
  await tick();
  assert.deepEqual(log, ["pause", "fail:1007:text message is not valid UTF-8", "unpause", "drained"]);
});

test("DeliveryQueue: a codec error fails the connection with the code it carries", async () => {
  const codec = new ManualCodec();
  const { log, queue } = delivery(codec);
  queue.message(BINARY, Buffer.from("z"), true);
  codec.pending[0]!.reject(Object.assign(new Error("message too big"), { closeCode: 1009 }));
  await tick();
  assert.deepEqual(log, ["pause", "fail:1009:message too big", "unpause", "drained"]);
});

/** A codec that inflates small messages at once ("sync:" prefix) and leaves the rest to decompress(). */
class SyncCapableCodec extends ManualCodec {
  decompressSync(data: Buffer): Buffer | undefined {
    const text = data.toString();
    if (text === "corrupt") throw Object.assign(new Error("invalid compressed data"), { closeCode: 1007 });
    if (text === "bad-utf8") return Buffer.from([0xc3, 0x28]);
    return text.startsWith("sync:") ? Buffer.from(text.slice(5).toUpperCase()) : undefined;
  }
}

test("DeliveryQueue: a message the codec inflates at once is delivered on the spot, without pausing reads", async () => {
  const codec = new SyncCapableCodec();
  const { log, queue } = delivery(codec);
  queue.message(TEXT, Buffer.from("sync:small"), true);
  assert.deepEqual(log, ["message:1:SMALL", "resume"]);
  assert.equal(queue.isEmpty, true);
  // A large one waits for decompress(); a small one behind it must wait too, in order.
  queue.message(BINARY, Buffer.from("large"), true);
  queue.message(TEXT, Buffer.from("sync:next"), true);
  assert.deepEqual(log.slice(2), ["pause"]);
  codec.pending[0]!.resolve(Buffer.from("LARGE"));
  await tick();
  codec.pending[1]!.resolve(Buffer.from("NEXT"));
  await tick();
  assert.deepEqual(log.slice(2), ["pause", "message:2:LARGE", "resume", "message:1:NEXT", "resume", "unpause", "drained"]);
});

test("DeliveryQueue: at-once inflation fails the connection with the codec's code, or 1007 for bad text", () => {
  const corrupt = delivery(new SyncCapableCodec());
  corrupt.queue.message(BINARY, Buffer.from("corrupt"), true);
  assert.deepEqual(corrupt.log, ["fail:1007:invalid compressed data"]);
  const badText = delivery(new SyncCapableCodec());
  badText.queue.message(TEXT, Buffer.from("bad-utf8"), true);
  assert.deepEqual(badText.log, ["fail:1007:text message is not valid UTF-8"]);
});
