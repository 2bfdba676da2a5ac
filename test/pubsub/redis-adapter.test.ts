// The Redis adapter in one process: the adapter contract against the shared Redis (three
// adapters = three processes' worth of connections), its wire format, and a Redis that is
// missing at start and appears later (a private redis-server).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { RedisAdapter } from "../../src/adapters/redis.js";
import { PubSub } from "../../src/server/pubsub.js";
import { waitUntil, withTimeout } from "../helpers/wait.js";
import { adapterContract } from "./adapter-contract.js";
import { freePort, PrivateRedis, redisServerBinary, SHARED_REDIS_URL, sharedRedis, uniquePrefix } from "./redis-helpers.js";

const shared = sharedRedis();
const binary = redisServerBinary();

describe("RedisAdapter on the shared Redis: the adapter contract", () => {
  const prefix = uniquePrefix();
  adapterContract({
    skip: shared.skip,
    check: () => shared.assertAvailable(),
    makeAdapter: () => new RedisAdapter({ url: SHARED_REDIS_URL, channelPrefix: prefix }),
    ready: (adapter) => withTimeout((adapter as RedisAdapter).ready(), 5000, "the adapter to reach Redis"),
  });
});

describe("RedisAdapter", () => {
  test("processes with different channel prefixes do not hear each other", { skip: shared.skip }, async () => {
    shared.assertAvailable();
    const a = new PubSub({ pubsubAdapter: new RedisAdapter({ url: SHARED_REDIS_URL, channelPrefix: uniquePrefix() }) });
    const b = new PubSub({ pubsubAdapter: new RedisAdapter({ url: SHARED_REDIS_URL, channelPrefix: uniquePrefix() }) });
    const c = new PubSub({ pubsubAdapter: new RedisAdapter({ url: SHARED_REDIS_URL, channelPrefix: (b.adapter as RedisAdapter).channelPrefix }) });
    try {
      const heardB: string[] = [];
      await b.listen("t", (m) => heardB.push(m.data.toString()));
      await Promise.all([a, c].map((hub) => (hub.adapter as RedisAdapter).ready()));
      a.publish("t", "other app");
      c.publish("t", "same app");
      await waitUntil(() => heardB.length > 0, 5000, "the publish with the same prefix");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(heardB, ["same app"]);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test("publishes waiting for Redis are bounded by maxPendingPublishes; the excess stays local", { skip: shared.skip }, async () => {
    shared.assertAvailable();
    const prefix = uniquePrefix();
    const adapter = new RedisAdapter({ url: SHARED_REDIS_URL, channelPrefix: prefix, maxPendingPublishes: 5 });
    const a = new PubSub({ pubsubAdapter: adapter });
    const b = new PubSub({ pubsubAdapter: new RedisAdapter({ url: SHARED_REDIS_URL, channelPrefix: prefix }) });
    try {
      const heardA: string[] = [];
      const heardB: string[] = [];
      await a.listen("t", (m) => heardA.push(m.data.toString()));
      await b.listen("t", (m) => heardB.push(m.data.toString()));
      // Published in one go, before Redis can answer any: only 5 may be outstanding.
      for (let i = 0; i < 100; i++) a.publish("t", `m${i}`);
      assert.equal(heardA.length, 100, "local delivery is not limited");
      assert.equal(adapter.unrelayedPublishes, 95);
      await waitUntil(() => heardB.length === 5, 5000, "the relayed publishes");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(heardB, ["m0", "m1", "m2", "m3", "m4"]);
      // Once answered, relaying goes on.
      a.publish("t", "later");
      await waitUntil(() => heardB.length === 6, 5000, "a later publish");
      assert.equal(heardB[5], "later");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("Redis missing at start: local delivery works, 'down' and a log line, then 'up' once it appears", { skip: binary.skip }, async () => {
    binary.assertAvailable();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const logs: string[] = [];
    const events: string[] = [];
    const adapter = new RedisAdapter({ url, maxReconnectDelayMs: 100, log: (line) => logs.push(line) });
    adapter.on("down", () => events.push("down"));
    adapter.on("up", () => events.push("up"));
    const other = new RedisAdapter({ url, maxReconnectDelayMs: 100, log: false });
    const hub = new PubSub({ pubsubAdapter: adapter });
    const otherHub = new PubSub({ pubsubAdapter: other });
    let redis: PrivateRedis | null = null;
    after(async () => {
      await Promise.all([hub.close(), otherHub.close()]);
      await redis?.remove();
    });
    const heard: string[] = [];
    const heardOther: string[] = [];
    // Neither hangs while Redis is away.
    await withTimeout(
      hub.listen("t", (m) => heard.push(m.data.toString())),
      2000,
      "listen() without Redis",
    );
    await withTimeout(
      otherHub.listen("t", (m) => heardOther.push(m.data.toString())),
      2000,
      "listen() without Redis",
    );
    await waitUntil(() => events.includes("down"), 5000, "the adapter to report Redis down");
    assert.equal(adapter.connected, false);
    hub.publish("t", "local only");
    assert.deepEqual(heard, ["local only"]);
    assert.match(logs.join("\n"), new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
    assert.equal(events.filter((e) => e === "down").length, 1, "one outage, one 'down'");

    redis = await PrivateRedis.start(port);
    await withTimeout(Promise.all([adapter.ready(), other.ready()]), 5000, "both adapters to reconnect");
    assert.deepEqual(events, ["down", "up"]);
    assert.match(logs.at(-1)!, /is back after [\d.]+ s; 1 publishes during the outage reached this process only/);
    // The SUBSCRIBE made while Redis was away is in place now.
    await waitUntil(
      () => {
        hub.publish("t", "probe");
        return heardOther.includes("probe");
      },
      5000,
      "a publish to cross once Redis is up",
    );
    assert.deepEqual(
      heardOther.filter((m) => m !== "probe"),
      [],
      "the publish made during the outage arrived late",
    );
  });
});
