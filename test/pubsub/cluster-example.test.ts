// examples/cluster-chat.ts: node:cluster workers behind one port, sharing a topic through the
// machine's Redis. Clients land on different workers and still hear each other.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertBuilt, startProgram } from "../helpers/cli.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { SHARED_REDIS_URL, sharedRedis } from "./redis-helpers.js";

const shared = sharedRedis();

test("clients on different cluster workers hear each other", { skip: shared.skip }, async () => {
  shared.assertAvailable();
  assertBuilt(); // the example imports the package by name ("hawser", "hawser/redis")
  const program = await startProgram("examples/cluster-chat.ts", ["--port", "0", "--workers", "2", "--redis", SHARED_REDIS_URL], ["--import", "tsx"]);
  const peers: WsPeer[] = [];
  try {
    const workers = new Map<number, WsPeer>();
    // The kernel spreads connections over the workers; a few connections reach both.
    for (let i = 0; i < 8 && workers.size < 2; i++) {
      const peer = await WsPeer.connect(`${program.url}/`);
      peers.push(peer);
      const { welcome } = JSON.parse((await peer.next()).text) as { welcome: number };
      if (!workers.has(welcome)) workers.set(welcome, peer);
    }
    assert.equal(workers.size, 2, "every connection landed on the same worker");
    const [[firstWorker, first], [secondWorker, second]] = [...workers] as [[number, WsPeer], [number, WsPeer]];
    first.ws.send("from the first worker");
    second.ws.send("from the second worker");
    const heardBySecond = JSON.parse((await second.next()).text) as { worker: number; text: string };
    const heardByFirst = JSON.parse((await first.next()).text) as { worker: number; text: string };
    assert.deepEqual(heardBySecond, { worker: firstWorker, text: "from the first worker" });
    assert.deepEqual(heardByFirst, { worker: secondWorker, text: "from the second worker" });
    // Every other client got both, once.
    const others = peers.filter((peer) => peer !== first && peer !== second);
    await waitUntil(() => others.every((peer) => peer.unread >= 2), 5000, "the other clients to hear both");
    await sleep(50);
    for (const peer of others) assert.equal(peer.unread, 2);
  } finally {
    for (const peer of peers) peer.ws.terminate();
    await program.stop();
  }
});
