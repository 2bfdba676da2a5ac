// The contract every pub/sub adapter keeps (see PubSubAdapter), checked through three hubs
// (stand-ins for three processes) that share one backend: each publish reaches every hub
// subscribed to its topic exactly once, one hub's publishes in the order made, and nothing
// after unsubscribing. Used by the in-memory and the Redis adapter tests.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PubSub, type PubSubMessage } from "../../src/server/pubsub.js";
import type { PubSubAdapter } from "../../src/server/pubsub-adapter.js";
import { waitUntil } from "../helpers/wait.js";

export interface ContractOptions {
  /** Makes one adapter on the shared backend; called three times per test. */
  makeAdapter(): PubSubAdapter;
  /** Waits until a new adapter relays (e.g. connected to Redis). */
  ready?(adapter: PubSubAdapter): Promise<void>;
  skip?: string | false;
  /** Called first in each test (e.g. to fail under CI when Redis is missing). */
  check?(): void;
}

async function hubs(options: ContractOptions): Promise<PubSub[]> {
  const list = [0, 1, 2].map(() => new PubSub({ pubsubAdapter: options.makeAdapter() }));
  for (const hub of list) await options.ready?.(hub.adapter);
  return list;
}

function record(into: string[]) {
  return (message: PubSubMessage) => into.push(`${message.binary ? "b" : "t"}:${message.data.toString()}`);
}

export function adapterContract(options: ContractOptions): void {
  const skip = options.skip ?? false;

  test("a publish reaches every hub subscribed to its topic exactly once, in each publisher's order", { skip }, async () => {
    options.check?.();
    const list = await hubs(options);
    try {
      const heard: string[][] = list.map(() => []);
      await Promise.all(list.map((hub, i) => hub.listen("room", record(heard[i]!))));
      const perPublisher = 200;
      for (let n = 0; n < perPublisher; n++) {
        for (let p = 0; p < list.length; p++) {
          list[p]!.publish("room", n % 2 === 0 ? `p${p}-${n}` : Buffer.from(`p${p}-${n}`));
        }
      }
      const total = perPublisher * list.length;
      await waitUntil(() => heard.every((h) => h.length >= total), 10_000, "every hub to hear every publish");
      await new Promise((resolve) => setTimeout(resolve, 50)); // room for duplicates to show up
      for (const h of heard) {
        assert.equal(h.length, total, "a publish arrived more than once");
        assert.equal(new Set(h).size, total);
        for (let p = 0; p < list.length; p++) {
          const mine = h.filter((entry) => entry.slice(2).startsWith(`p${p}-`));
          assert.deepEqual(
            mine,
            Array.from({ length: perPublisher }, (_, n) => `${n % 2 === 0 ? "t" : "b"}:p${p}-${n}`),
            `publisher ${p}'s messages arrived out of order or with the wrong type`,
          );
        }
      }
    } finally {
      await Promise.all(list.map((hub) => hub.close()));
    }
  });

  test("a hub hears only topics it is subscribed to, and nothing after unsubscribing", { skip }, async () => {
    options.check?.();
    const list = await hubs(options);
    try {
      const [a, b, c] = list as [PubSub, PubSub, PubSub];
      const heardB: string[] = [];
      const heardC: string[] = [];
      const stopB = await b.listen("x", record(heardB));
      await c.listen("y", record(heardC));
      a.publish("x", "x1");
      a.publish("y", "y1");
      await waitUntil(() => heardB.length === 1 && heardC.length === 1, 5000, "the first publishes to arrive");
      assert.deepEqual(heardB, ["t:x1"]);
      assert.deepEqual(heardC, ["t:y1"]);
      stopB();
      a.publish("x", "x2");
      a.publish("y", "y2");
      await waitUntil(() => heardC.length === 2, 5000, "the second publish on y");
      // y2 was published after x2 by the same hub, so x2 would have arrived by now.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(heardB, ["t:x1"]);
      assert.deepEqual(heardC, ["t:y1", "t:y2"]);
    } finally {
      await Promise.all(list.map((hub) => hub.close()));
    }
  });

  test("subscribing, leaving and subscribing again at once still delivers exactly once", { skip }, async () => {
    options.check?.();
    const list = await hubs(options);
    try {
      const [a, b] = list as [PubSub, PubSub, PubSub];
      const heard: string[] = [];
      await b.listen("flip", record(heard));
      // The adapter's interest flips off and on twice before the backend answers any of it.
      b.adapter.unsubscribe("flip");
      void b.adapter.subscribe("flip");
      b.adapter.unsubscribe("flip");
      await b.adapter.subscribe("flip");
      for (let i = 0; i < 20; i++) a.publish("flip", `f${i}`);
      await waitUntil(() => heard.length >= 20, 5000, "the publishes after the flips");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        heard,
        Array.from({ length: 20 }, (_, i) => `t:f${i}`),
      );
    } finally {
      await Promise.all(list.map((hub) => hub.close()));
    }
  });
}
