// The Redis Streams adapter under faults, on private redis-server processes: a Redis killed
// and restarted (persistence on) while two hubs publish; replies lost after Redis ran the
// publishes; the outage queue's bound; and many topics over one subscription connection.
// Each fault test counts messages sent, delivered, duplicated and lost, and prints the counts.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createClient } from "redis";
import { RedisStreamsAdapter } from "../../src/adapters/redis.js";
import { PublishRefusedError } from "../../src/server/pubsub-adapter.js";
import { PubSub, type PubSubMessage } from "../../src/server/pubsub.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { countDeliveries } from "./fault-counts.js";
import { PrivateRedis, redisServerBinary, uniquePrefix } from "./redis-helpers.js";

const binary = redisServerBinary();

interface Heard {
  offset: string;
  text: string;
}

function hubOn(url: string, keyPrefix: string, extra: Partial<ConstructorParameters<typeof RedisStreamsAdapter>[0]> = {}): PubSub {
  return new PubSub({ pubsubAdapter: new RedisStreamsAdapter({ url, keyPrefix, maxReconnectDelayMs: 100, log: false, ...extra }) });
}

function adapterOf(hub: PubSub): RedisStreamsAdapter {
  return hub.adapter as RedisStreamsAdapter;
}

function recorder(into: Heard[]) {
  return (message: PubSubMessage) => void into.push({ offset: message.offset!, text: message.data.toString() });
}

describe("RedisStreamsAdapter under faults", { skip: binary.skip }, () => {
  test("Redis killed and restarted (persistence on) while two hubs publish: every message once, in one order, on both", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start(undefined, { persistent: true });
    const keyPrefix = uniquePrefix();
    const hubs = [hubOn(redis.url, keyPrefix), hubOn(redis.url, keyPrefix)];
    after(async () => {
      await Promise.all(hubs.map((hub) => hub.close()));
      await redis.remove();
    });
    await Promise.all(hubs.map((hub) => adapterOf(hub).ready()));
    const heard: Heard[][] = [[], []];
    await Promise.all(hubs.map((hub, i) => hub.listen("room", recorder(heard[i]!))));

    const sent: string[] = [];
    const confirmations: Array<Promise<string>> = [];
    let phase = "before";
    let running = true;
    const pump = (async () => {
      for (let n = 0; running; n++) {
        for (const [i, hub] of hubs.entries()) {
          const text = `${phase}:h${i}-${n}`;
          sent.push(text);
          confirmations.push(hub.publishConfirmed("room", text));
        }
        await sleep(2);
      }
    })();
    await sleep(150);
    await redis.kill();
    phase = "during";
    await waitUntil(() => hubs.every((hub) => !adapterOf(hub).connected), 5000, "both adapters to notice Redis is gone");
    await sleep(150);
    await redis.restart();
    phase = "after";
    await withTimeout(Promise.all(hubs.map((hub) => adapterOf(hub).ready())), 5000, "both adapters to reconnect");
    await sleep(150);
    running = false;
    await pump;

    const offsets = await withTimeout(Promise.all(confirmations), 10_000, "every publish to be confirmed");
    await waitUntil(() => heard.every((h) => h.length >= sent.length), 10_000, "both hubs to hear every message");
    await sleep(100); // room for duplicates to show up
    for (const [i, h] of heard.entries()) {
      const counts = countDeliveries(
        sent,
        h.map((m) => m.text),
      );
      console.log(`fault: Redis restart, hub ${i}: sent ${counts.sent}, delivered ${counts.delivered}, duplicated ${counts.duplicated}, lost ${counts.lost}`);
      assert.deepEqual(counts, { sent: sent.length, delivered: sent.length, duplicated: 0, lost: 0 });
    }
    assert.ok(
      sent.some((text) => text.startsWith("during:")),
      "nothing was published during the outage",
    );
    assert.deepEqual(heard[0], heard[1], "the hubs saw different orders or offsets");
    for (let i = 0; i < 2; i++) {
      const mine = heard[0]!.filter((m) => m.text.includes(`:h${i}-`)).map((m) => m.text);
      assert.deepEqual(
        mine,
        sent.filter((text) => text.includes(`:h${i}-`)),
        `hub ${i}'s publishes are out of order`,
      );
    }
    const byText = new Map(heard[0]!.map((m) => [m.text, m.offset]));
    assert.deepEqual(
      offsets,
      sent.map((text) => byText.get(text)),
      "publishConfirmed gave offsets the subscribers did not see",
    );
  });

  test("replies lost after Redis ran the publishes: each is found in its stream, not appended twice", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const proxy = await TcpProxy.start(redis.port);
    const keyPrefix = uniquePrefix();
    // A publishes through the proxy to a topic only B (connected directly) subscribes to: A
    // cannot learn from its own feed that the publishes landed, only from the stream.
    const a = hubOn(`redis://127.0.0.1:${proxy.port}`, keyPrefix);
    const b = hubOn(redis.url, keyPrefix);
    const inspector = createClient({ url: redis.url });
    after(async () => {
      await Promise.all([a.close(), b.close()]);
      inspector.destroy();
      await proxy.close();
      await redis.remove();
    });
    await Promise.all([adapterOf(a).ready(), adapterOf(b).ready(), inspector.connect()]);
    const heard: Heard[] = [];
    await b.listen("t", recorder(heard));
    const sent = ["warm-up"];
    const confirmations = [a.publishConfirmed("t", "warm-up")];
    await confirmations[0];

    const cut = proxy.swallowRepliesThenCut(150);
    await sleep(20);
    for (let n = 0; n < 40; n++) {
      sent.push(`m${n}`);
      confirmations.push(a.publishConfirmed("t", `m${n}`));
    }
    await cut;
    const offsets = await withTimeout(Promise.all(confirmations), 10_000, "the publishes to be confirmed after the cut");
    await waitUntil(() => heard.length >= sent.length, 10_000, "the subscriber to hear every message");
    await sleep(100);
    const counts = countDeliveries(
      sent,
      heard.map((m) => m.text),
    );
    console.log(
      `fault: replies lost, then the publisher's connection cut: sent ${counts.sent}, delivered ${counts.delivered}, duplicated ${counts.duplicated}, lost ${counts.lost}`,
    );
    assert.deepEqual(counts, { sent: sent.length, delivered: sent.length, duplicated: 0, lost: 0 });
    assert.deepEqual(
      heard.map((m) => m.text),
      sent,
    );
    assert.equal(await inspector.xLen(adapterOf(a).keyOf("t")), sent.length, "a publish was appended twice");
    assert.deepEqual(
      offsets,
      heard.map((m) => m.offset),
      "publishConfirmed gave offsets the subscriber did not see",
    );
  });

  test("while Redis is away publishes queue up to maxQueuedPublishes, then are refused; the queued ones go out in order", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const keyPrefix = uniquePrefix();
    const a = hubOn(redis.url, keyPrefix, { maxQueuedPublishes: 5 });
    const b = hubOn(redis.url, keyPrefix);
    after(async () => {
      await Promise.all([a.close(), b.close()]);
      await redis.remove();
    });
    await Promise.all([adapterOf(a).ready(), adapterOf(b).ready()]);
    const heard: Heard[] = [];
    await b.listen("q", recorder(heard));
    await redis.kill();
    await waitUntil(() => !adapterOf(a).connected, 5000, "the adapter to notice Redis is gone");
    const queued = [0, 1, 2, 3, 4].map((n) => a.publishConfirmed("q", `m${n}`));
    assert.equal(adapterOf(a).queuedPublishes, 5);
    await assert.rejects(a.publishConfirmed("q", "one too many"), PublishRefusedError);
    assert.throws(
      () => a.publish("q", "one too many"),
      (error: unknown) => error instanceof PublishRefusedError && /maxQueuedPublishes 5/.test(error.message),
    );
    await redis.restart();
    const offsets = await withTimeout(Promise.all(queued), 5000, "the queued publishes to go out");
    await waitUntil(() => heard.length >= 5, 5000, "the queued publishes to arrive");
    await sleep(50);
    assert.deepEqual(
      heard.map((m) => m.text),
      ["m0", "m1", "m2", "m3", "m4"],
    );
    assert.deepEqual(
      heard.map((m) => m.offset),
      offsets,
    );
    assert.equal(adapterOf(a).queuedPublishes, 0);
  });

  test("a thousand topics over one subscription connection: each publish reaches its topic's subscriber", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const keyPrefix = uniquePrefix();
    const a = hubOn(redis.url, keyPrefix);
    const b = hubOn(redis.url, keyPrefix);
    const inspector = createClient({ url: redis.url });
    after(async () => {
      await Promise.all([a.close(), b.close()]);
      inspector.destroy();
      await redis.remove();
    });
    await Promise.all([adapterOf(a).ready(), adapterOf(b).ready(), inspector.connect()]);
    const heard = new Map<string, string[]>();
    const topics = Array.from({ length: 1000 }, (_, i) => `topic-${i}`);
    await Promise.all(topics.map((topic) => b.listen(topic, (m) => heard.set(topic, [...(heard.get(topic) ?? []), m.data.toString()]))));
    // Two hubs, two connections each (commands, subscriptions), whatever the number of topics.
    const clients = (await inspector.clientList()).filter((client) => client.name === "" && client.cmd !== "client|list");
    assert.equal(clients.length, 4, `expected 4 connections, Redis lists:\n${clients.map((c) => c.cmd).join("\n")}`);
    for (const topic of topics) a.publish(topic, `to ${topic}`);
    await waitUntil(() => heard.size === topics.length, 10_000, "every topic's publish to arrive");
    for (const topic of topics) assert.deepEqual(heard.get(topic), [`to ${topic}`]);
  });
});
