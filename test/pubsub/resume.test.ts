// Resuming and formatting on one server (the in-memory adapter): what subscribe() resolves to,
// a history larger than the slow-subscriber limit, a socket that publishes while its history
// is read, a format function that throws, truncation, and what a fire-and-forget adapter
// refuses to pretend (offsets, since, publishConfirmed).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryAdapter, MemoryBus, PubSubAdapterEvents, type PubSubAdapter } from "../../src/server/pubsub-adapter.js";
import { PubSub, type PubSubMessage } from "../../src/server/pubsub.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

/** A relaying (fire-and-forget) adapter that relays nowhere: no offsets, no history. */
class RelayNowhere extends PubSubAdapterEvents implements PubSubAdapter {
  readonly connected = true;
  attach(): void {}
  publish(): void {}
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  unsubscribe(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const withOffset = (message: PubSubMessage): string => `${message.offset} ${message.data.toString()}`;

describe("resuming a topic on one server", () => {
  test("subscribe resolves to what was replayed, whether it was all there, and where the socket stands", async () => {
    const server = await startSocketServer({ pingIntervalMs: 0 });
    try {
      const pubsub = server.server.pubsub;
      const offsets: string[] = [];
      for (let i = 0; i < 5; i++) offsets.push(await pubsub.publishConfirmed("t", `m${i}`));
      const peer = await WsPeer.connect(`${server.url}/`);
      const { socket } = await server.nextSocket();
      assert.deepEqual(await socket.subscribe("t", { since: offsets[1]!, format: withOffset }), { replayed: 3, truncated: false, offset: offsets[4] });
      for (let i = 2; i < 5; i++) assert.equal((await peer.next()).text, `${offsets[i]} m${i}`);
      // Already subscribed: nothing changes, nothing is sent again.
      assert.deepEqual(await socket.subscribe("t", { since: offsets[0]! }), { replayed: 0, truncated: false, offset: offsets[4] });
      // A plain subscription says where it starts too.
      const other = await WsPeer.connect(`${server.url}/`);
      const second = (await server.nextSocket()).socket;
      const live = await second.subscribe("t", {});
      assert.deepEqual([live.replayed, live.truncated, live.offset], [0, false, offsets[4]]);
      const heard: PubSubMessage[] = [];
      await pubsub.listen("t", (message) => heard.push(message));
      assert.equal(pubsub.publish("t", "m5"), 2, "publish() counts the sockets it was queued for");
      // The in-memory adapter's offsets are EPOCH-SEQ: the sixth publish.
      assert.equal(heard[0]!.offset, offsets[4]!.replace(/-5$/, "-6"));
      assert.equal((await peer.next()).text.split(" ")[1], "m5");
      assert.equal((await other.next()).text, "m5");
      await sleep(30);
      assert.equal(peer.unread, 0);
      peer.terminate();
      other.terminate();
    } finally {
      await server.close();
    }
  });

  test("a history larger than maxPublishBufferBytes is sent at the socket's pace, not dropped as slow", async () => {
    const server = await startSocketServer({ pingIntervalMs: 0, perMessageDeflate: false, maxPublishBufferBytes: 64 * 1024 });
    try {
      const pubsub = server.server.pubsub;
      const first = await pubsub.publishConfirmed("big", "start");
      const chunk = "x".repeat(4096);
      for (let i = 0; i < 200; i++) pubsub.publish("big", `${i} ${chunk}`);
      const peer = await WsPeer.connect(`${server.url}/`);
      const { socket } = await server.nextSocket();
      const subscription = await socket.subscribe("big", { since: first });
      assert.equal(subscription.replayed, 200);
      for (let i = 0; i < 200; i++) assert.equal((await peer.next()).text.split(" ")[0], String(i));
      assert.equal(pubsub.droppedSubscribers, 0);
      peer.terminate();
    } finally {
      await server.close();
    }
  });

  test("a socket that publishes while its history is read does not get its own message back", async () => {
    const server = await startSocketServer({ pingIntervalMs: 0 });
    try {
      const pubsub = server.server.pubsub;
      const since = await pubsub.publishConfirmed("own", "before");
      pubsub.publish("own", "replayed");
      const peer = await WsPeer.connect(`${server.url}/`);
      const { socket } = await server.nextSocket();
      const subscribed = socket.subscribe("own", { since });
      socket.publish("own", "mine"); // delivered to the hub while the history is still to be read
      pubsub.publish("own", "theirs");
      await subscribed;
      assert.equal((await peer.next()).text, "replayed");
      assert.equal((await peer.next()).text, "theirs");
      await sleep(30);
      assert.equal(peer.unread, 0, "the socket got its own publish");
      peer.terminate();
    } finally {
      await server.close();
    }
  });

  test("a history trimmed past the offset, or an offset of another process, is flagged; what is left is sent", async () => {
    const server = await startSocketServer({ pingIntervalMs: 0, pubsubAdapter: new MemoryAdapter(null, { history: { maxMessages: 3 } }) });
    try {
      const pubsub = server.server.pubsub;
      const offsets: string[] = [];
      for (let i = 0; i < 6; i++) offsets.push(await pubsub.publishConfirmed("trim", `m${i}`));
      const peer = await WsPeer.connect(`${server.url}/`);
      const { socket } = await server.nextSocket();
      assert.deepEqual(await socket.subscribe("trim", { since: offsets[0]! }), { replayed: 3, truncated: true, offset: offsets[5] });
      assert.deepEqual([(await peer.next()).text, (await peer.next()).text, (await peer.next()).text], ["m3", "m4", "m5"]);
      // An offset from an earlier process (another epoch): everything kept, flagged.
      const other = new MemoryBus();
      const elsewhere = new PubSub({ pubsubAdapter: new MemoryAdapter(other) });
      const foreign = await elsewhere.publishConfirmed("trim", "elsewhere");
      const peer2 = await WsPeer.connect(`${server.url}/`);
      const second = (await server.nextSocket()).socket;
      const flagged = await second.subscribe("trim", { since: foreign.replace(/^\d+/, "1") });
      assert.deepEqual([flagged.replayed, flagged.truncated], [3, true]);
      assert.equal((await peer2.next()).text, "m3");
      await elsewhere.close();
      peer.terminate();
      peer2.terminate();
    } finally {
      await server.close();
    }
  });

  test("a format function that throws closes its sockets with 1011; others are unaffected", async () => {
    const server = await startSocketServer({ pingIntervalMs: 0 });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const broken = await WsPeer.connect(`${server.url}/`);
      const { socket: brokenSocket } = await server.nextSocket();
      await brokenSocket.subscribe("f", {
        format: () => {
          throw new Error("no format today");
        },
      });
      const plain = await WsPeer.connect(`${server.url}/`);
      const { socket: plainSocket } = await server.nextSocket();
      await plainSocket.subscribe("f");
      server.server.publish("f", "hello");
      assert.equal((await plain.next()).text, "hello");
      assert.deepEqual(await broken.closed, { code: 1011, reason: "format function failed" });
      assert.equal(errors.length, 1);
      plain.terminate();
    } finally {
      console.error = original;
      await server.close();
    }
  });
});

describe("a fire-and-forget adapter", () => {
  test("gives no offsets; since and publishConfirmed say what they need", async () => {
    const server = await startSocketServer({ pingIntervalMs: 0, pubsubAdapter: new RelayNowhere() });
    try {
      const peer = await WsPeer.connect(`${server.url}/`);
      const { socket } = await server.nextSocket();
      assert.throws(() => socket.subscribe("t", { since: "1-1" }), /needs an adapter that keeps history/);
      await assert.rejects(server.server.pubsub.publishConfirmed("t", "x"), /needs an adapter that gives offsets/);
      const subscription = await socket.subscribe("t", {});
      assert.deepEqual(subscription, { replayed: 0, truncated: false, offset: undefined });
      const heard: PubSubMessage[] = [];
      await server.server.pubsub.listen("t", (message) => heard.push(message));
      server.server.publish("t", "x");
      await waitUntil(() => heard.length === 1, 2000, "the listener");
      assert.equal(heard[0]!.offset, undefined);
      assert.equal((await peer.next()).text, "x");
      peer.terminate();
    } finally {
      await server.close();
    }
  });
});
