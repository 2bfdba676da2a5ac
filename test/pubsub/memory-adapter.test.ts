// The in-memory adapter: alone it relays nothing; servers sharing a MemoryBus share topics,
// with the same guarantees as the Redis adapter (the shared contract), and through real sockets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryAdapter, MemoryBus } from "../../src/server/pubsub-adapter.js";
import { PubSub } from "../../src/server/pubsub.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { adapterContract } from "./adapter-contract.js";
import { orderedAdapterContract } from "./ordered-contract.js";

describe("MemoryAdapter on a shared bus: the adapter contract", () => {
  const bus = new MemoryBus();
  adapterContract({ makeAdapter: () => new MemoryAdapter(bus) });
});

describe("MemoryAdapter", () => {
  test("without a bus (the default) a hub relays nothing and hears only itself", async () => {
    const a = new PubSub();
    const b = new PubSub();
    const heard: string[] = [];
    await b.listen("t", (m) => heard.push(m.data.toString()));
    a.publish("t", "elsewhere");
    b.publish("t", "here");
    assert.deepEqual(heard, ["here"]);
    assert.equal(a.adapter.connected, true);
    await Promise.all([a.close(), b.close()]);
    assert.equal(a.adapter.connected, false);
  });

  test("an adapter serves one server", () => {
    const adapter = new MemoryAdapter();
    new PubSub({ pubsubAdapter: adapter });
    assert.throws(() => new PubSub({ pubsubAdapter: adapter }), /give each server its own adapter/);
  });

  test("two servers on one bus: a publish on either reaches WebSocket clients of both", async () => {
    const bus = new MemoryBus();
    const one = await startSocketServer({ pingIntervalMs: 0, pubsubAdapter: new MemoryAdapter(bus) });
    const two = await startSocketServer({ pingIntervalMs: 0, pubsubAdapter: new MemoryAdapter(bus) });
    try {
      const p1 = await WsPeer.connect(`${one.url}/`);
      const s1 = (await one.nextSocket()).socket;
      const p2 = await WsPeer.connect(`${two.url}/`);
      const s2 = (await two.nextSocket()).socket;
      await s1.subscribe("news");
      await s2.subscribe("news");
      one.server.publish("news", "from one");
      // socket.publish skips only the sender: its peers on the other server get it.
      s2.publish("news", "from a client of two");
      assert.equal((await p1.next()).text, "from one");
      assert.equal((await p1.next()).text, "from a client of two");
      assert.equal((await p2.next()).text, "from one");
      await sleep(30);
      assert.equal(p2.unread, 0);
      p1.ws.close();
      p2.ws.close();
      await Promise.all([s1.closed, s2.closed]);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
    // Closing a server closes its adapter, which leaves the bus.
    assert.equal(bus.members.size, 0);
  });
});

describe("MemoryAdapter on a shared bus: the ordered adapter contract", () => {
  const buses = new Map<string, MemoryBus>();
  orderedAdapterContract({
    makeAdapter: (history) => {
      // One bus per set of limits, as adapters sharing a backend share its settings.
      const key = JSON.stringify(history ?? {});
      let bus = buses.get(key);
      if (!bus) buses.set(key, (bus = new MemoryBus(history ? { history } : {})));
      return new MemoryAdapter(bus);
    },
  });
});
