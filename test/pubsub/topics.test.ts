// Topics on one server: subscribe / unsubscribe / publish as a user sees them through real
// sockets (the `ws` client as peer), and the hub's "frame once" delivery with fake sockets.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, describe, test } from "node:test";
import { PubSub } from "../../src/server/pubsub.js";
import { ReadyState } from "../../src/protocol/opcodes.js";
import type { PreparedMessage } from "../../src/transport/prepared-message.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { RawClient } from "../helpers/raw-client.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

describe("topics on one server", async () => {
  const server = await startSocketServer({ pingIntervalMs: 0 });
  after(() => server.close());

  async function pair(): Promise<{ peer: WsPeer; socket: WebSocket }> {
    const peer = await WsPeer.connect(`${server.url}/`);
    const { socket } = await server.nextSocket();
    return { peer, socket };
  }

  test("subscribe, isSubscribed, topics, subscriberCount and unsubscribe", async () => {
    const { peer, socket } = await pair();
    assert.equal(socket.isSubscribed("news"), false);
    await socket.subscribe("news");
    await socket.subscribe("news"); // twice is once
    await socket.subscribe("sport");
    assert.equal(socket.isSubscribed("news"), true);
    assert.deepEqual(socket.topics.sort(), ["news", "sport"]);
    assert.equal(server.server.subscriberCount("news"), 1);
    assert.equal(socket.unsubscribe("news"), true);
    assert.equal(socket.unsubscribe("news"), false);
    assert.equal(socket.isSubscribed("news"), false);
    assert.deepEqual(socket.topics, ["sport"]);
    assert.equal(server.server.subscriberCount("news"), 0);
    assert.equal(server.server.publish("news", "nobody hears this"), 0);
    assert.equal(server.server.publish("sport", "goal"), 1);
    assert.equal((await peer.next()).text, "goal");
    assert.throws(() => socket.subscribe(""), /non-empty string/);
    peer.ws.close();
    await socket.closed;
  });

  test("server.publish reaches every subscriber and only them, text as text and bytes as binary", async () => {
    const a = await pair();
    const b = await pair();
    const outsider = await pair();
    await a.socket.subscribe("t");
    await b.socket.subscribe("t");
    await outsider.socket.subscribe("other");
    assert.equal(server.server.publish("t", "héllo"), 2);
    assert.equal(server.server.publish("t", Buffer.from([1, 2, 3])), 2);
    assert.equal(server.server.publish("t", "as bytes", { binary: true }), 2);
    assert.equal(server.server.publish("t", new TextEncoder().encode("as text"), { binary: false }), 2);
    assert.throws(() => server.server.publish("t", Buffer.from([0xff]), { binary: false }), /not valid UTF-8/);
    for (const { peer } of [a, b]) {
      const m1 = await peer.next();
      assert.deepEqual([m1.isBinary, m1.text], [false, "héllo"]);
      const m2 = await peer.next();
      assert.deepEqual([m2.isBinary, [...m2.data]], [true, [1, 2, 3]]);
      const m3 = await peer.next();
      assert.deepEqual([m3.isBinary, m3.text], [true, "as bytes"]);
      const m4 = await peer.next();
      assert.deepEqual([m4.isBinary, m4.text], [false, "as text"]);
    }
    await sleep(30);
    assert.equal(outsider.peer.unread, 0);
    for (const { peer, socket } of [a, b, outsider]) {
      peer.ws.close();
      await socket.closed;
    }
  });

  test("socket.publish reaches every subscriber but the sender, subscribed or not", async () => {
    const sender = await pair();
    const other = await pair();
    const third = await pair();
    await sender.socket.subscribe("room");
    await other.socket.subscribe("room");
    await third.socket.subscribe("room");
    assert.equal(sender.socket.publish("room", "hi all"), 2);
    assert.equal((await other.peer.next()).text, "hi all");
    assert.equal((await third.peer.next()).text, "hi all");
    // A socket that is not subscribed may publish too; nobody is excluded but itself.
    assert.equal(third.socket.unsubscribe("room"), true);
    assert.equal(third.socket.publish("room", "from outside"), 2);
    assert.equal((await sender.peer.next()).text, "from outside");
    assert.equal((await other.peer.next()).text, "from outside");
    await sleep(30);
    assert.equal(sender.peer.unread, 0);
    assert.equal(third.peer.unread, 0);
    for (const { peer, socket } of [sender, other, third]) {
      peer.ws.close();
      await socket.closed;
    }
  });

  test("publishes and sends to one socket arrive in the order they were made", async () => {
    const { peer, socket } = await pair();
    await socket.subscribe("seq");
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      const text = `m${i}`;
      expected.push(text);
      if (i % 3 === 0) socket.send(text);
      else server.server.publish("seq", i % 3 === 1 ? text : Buffer.from(text), { binary: false });
    }
    for (const text of expected) assert.equal((await peer.next()).text, text);
    peer.ws.close();
    await socket.closed;
  });

  test("closing a socket removes its subscriptions", async () => {
    const { peer, socket } = await pair();
    await socket.subscribe("a");
    await socket.subscribe("b");
    assert.equal(server.server.subscriberCount("a"), 1);
    peer.ws.terminate(); // no closing handshake: the server sees the TCP connection drop
    await socket.closed;
    assert.equal(server.server.subscriberCount("a"), 0);
    assert.equal(server.server.subscriberCount("b"), 0);
    assert.deepEqual(server.server.pubsub.topics, []);
    assert.deepEqual(socket.topics, []);
    // Subscribing a closed socket does nothing (nothing would ever remove it).
    await socket.subscribe("a");
    assert.equal(server.server.subscriberCount("a"), 0);
  });

  test("a server-side listener gets every publish of its topic until it stops", async () => {
    const { peer, socket } = await pair();
    const heard: string[] = [];
    const stop = await server.server.pubsub.listen("log", (message) => heard.push(`${message.topic}:${message.data.toString()}:${message.binary}`));
    assert.deepEqual(server.server.pubsub.topics, ["log"]);
    socket.publish("log", "one");
    server.server.publish("log", Buffer.from("two"));
    stop();
    server.server.publish("log", "three");
    assert.deepEqual(heard, ["log:one:false", "log:two:true"]);
    assert.deepEqual(server.server.pubsub.topics, []);
    peer.ws.close();
    await socket.closed;
  });
});

describe("delivery frames a publish once", () => {
  /** A stand-in for a server socket that records what the hub hands it. */
  class FakeSocket {
    readyState: number = ReadyState.OPEN;
    bufferedAmount = 0;
    received: PreparedMessage[] = [];
    closedWith: [number, string] | null = null;
    publishLimits: (number | undefined)[] = [];
    /** As a WebSocket's: refused when bytes wait and this message would take them past `publishLimit`. */
    sendPrepared(message: PreparedMessage, publishLimit?: number): boolean {
      this.publishLimits.push(publishLimit);
      if (publishLimit !== undefined && this.bufferedAmount > 0 && this.bufferedAmount + message.payload.length > publishLimit) return false;
      this.received.push(message);
      return true;
    }
    close(code: number, reason: string): void {
      this.closedWith = [code, reason];
    }
  }
  const asSocket = (fake: FakeSocket) => fake as unknown as WebSocket;

  test("every subscriber is handed the same frame buffers", () => {
    const hub = new PubSub();
    const fakes = Array.from({ length: 50 }, () => new FakeSocket());
    for (const fake of fakes) void hub.subscribe(asSocket(fake), "t");
    for (const payload of ["small", "x".repeat(100_000)]) {
      assert.equal(hub.publish("t", payload), 50);
      const first = fakes[0]!.received.at(-1)!;
      const frames = first.frames;
      for (const fake of fakes) {
        const message = fake.received.at(-1)!;
        assert.equal(message, first);
        assert.equal(message.frames, frames);
        assert.ok(message.frames.every((chunk, i) => chunk === frames[i]));
      }
      // The frame is a plain unmasked text frame with the payload (RFC 6455 section 5.2).
      const wire = Buffer.concat(frames);
      assert.equal(wire[0], 0x81);
      assert.equal(wire[1]! & 0x80, 0);
      assert.equal(wire.subarray(wire.length - payload.length).toString(), payload);
    }
  });

  test("a subscriber past maxPublishBufferBytes is dropped with 1008 and unsubscribed", () => {
    const hub = new PubSub({ maxPublishBufferBytes: 1000 });
    const fast = new FakeSocket();
    const slow = new FakeSocket();
    void hub.subscribe(asSocket(fast), "t");
    void hub.subscribe(asSocket(slow), "t");
    void hub.subscribe(asSocket(slow), "u");
    // A message bigger than the limit still goes to a subscriber with nothing buffered.
    assert.equal(hub.publish("t", Buffer.alloc(5000)), 2);
    slow.bufferedAmount = 900;
    assert.equal(hub.publish("t", Buffer.alloc(50)), 2); // 950 <= 1000: still buffered
    slow.bufferedAmount = 950;
    assert.equal(hub.publish("t", Buffer.alloc(100)), 1); // would reach 1050: dropped
    assert.deepEqual(slow.closedWith, [1008, "too slow: publish buffer limit reached"]);
    assert.deepEqual(slow.publishLimits, [1000, 1000, 1000], "the hub hands every socket its publish limit");
    assert.equal(slow.received.length, 2);
    assert.equal(fast.received.length, 3);
    assert.equal(hub.subscriberCount("t"), 1);
    assert.equal(hub.subscriberCount("u"), 0);
    assert.equal(hub.droppedSubscribers, 1);
    assert.throws(() => new PubSub({ maxPublishBufferBytes: 0 }), /maxPublishBufferBytes must be a positive number/);
  });

  test("a subscriber whose socket refuses the message while open (maxSendBufferBytes) is dropped too", () => {
    const hub = new PubSub();
    const full = new FakeSocket();
    full.sendPrepared = () => false;
    const closing = new FakeSocket();
    closing.sendPrepared = () => false;
    void hub.subscribe(asSocket(full), "t");
    void hub.subscribe(asSocket(closing), "t");
    closing.readyState = ReadyState.CLOSING; // it began closing after subscribing
    assert.equal(hub.publish("t", "x"), 0);
    assert.deepEqual(full.closedWith, [1008, "too slow: publish buffer limit reached"]);
    assert.equal(closing.closedWith, null, "a socket that is closing anyway is left to close");
    assert.equal(hub.subscriberCount("t"), 1);
  });
});

describe("a subscriber that never reads", () => {
  test("is dropped with close code 1008 once its buffer passes the limit; memory stays bounded", async () => {
    const limit = 256 * 1024;
    // No compression: its queue would count too, and this test is about the socket buffer.
    const server = await startSocketServer({ pingIntervalMs: 0, maxPublishBufferBytes: limit, closeTimeoutMs: 10_000, perMessageDeflate: false });
    after(() => server.close());
    const { client: stalled } = await RawClient.open(server.port);
    const { socket: slowSocket } = await server.nextSocket();
    stalled.pause(); // stop reading: the kernel buffers fill, then hawser's
    const fast = await WsPeer.connect(`${server.url}/`);
    const { socket: fastSocket } = await server.nextSocket();
    await slowSocket.subscribe("firehose");
    await fastSocket.subscribe("firehose");
    let fastReceived = 0;
    fast.ws.on("message", () => fastReceived++);

    const payload = Buffer.alloc(16 * 1024, 0x61);
    let published = 0;
    let maxBuffered = 0;
    while (server.server.subscriberCount("firehose") === 2 && published < 20_000) {
      server.server.publish("firehose", payload);
      published++;
      maxBuffered = Math.max(maxBuffered, slowSocket.bufferedAmount);
      // Let the fast client keep up (a burst within one tick is buffered memory too).
      if (published % 4 === 0) await sleep(1);
    }
    assert.equal(server.server.subscriberCount("firehose"), 1, `the stalled subscriber was never dropped after ${published} publishes`);
    assert.equal(server.server.pubsub.droppedSubscribers, 1);
    assert.equal(slowSocket.isSubscribed("firehose"), false);
    assert.equal(slowSocket.readyState, ReadyState.CLOSING);
    // Bounded: never more than the limit plus one message (and the close frame) was held.
    assert.ok(maxBuffered <= limit + payload.length, `bufferedAmount reached ${maxBuffered}`);
    const bufferedAtDrop = slowSocket.bufferedAmount;
    for (let i = 0; i < 200; i++) {
      server.server.publish("firehose", payload);
      if (i % 4 === 0) await sleep(1);
    }
    assert.ok(slowSocket.bufferedAmount <= bufferedAtDrop, "publishes went on piling up for a dropped subscriber");
    assert.equal(fastSocket.isSubscribed("firehose"), true);
    // The fast subscriber got everything.
    await waitUntil(() => fastReceived === published + 200, 10_000, "the fast subscriber to receive every publish");

    // Reading again, the stalled client finds every queued message and then the 1008 close.
    stalled.resume();
    const frames = await stalled.readFramesUntil(0x8, 10_000);
    const close = frames.at(-1)!;
    assert.equal(close.payload.readUInt16BE(0), 1008);
    assert.equal(close.payload.subarray(2).toString(), "too slow: publish buffer limit reached");
    assert.ok(frames.slice(0, -1).every((frame) => frame.opcode === 0x2 && frame.payload.length === payload.length));
    stalled.destroy();
    fast.ws.close();
    await Promise.all([slowSocket.closed, fastSocket.closed]);
  });
});
