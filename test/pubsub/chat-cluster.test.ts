// `hawser chat --redis-cluster` on a Redis Cluster of three masters started by the test
// (`redis-server --cluster-enabled yes` on three ports, `redis-cli --cluster create`): two chat
// processes, rooms whose streams land on each of the three masters, a client of each room on
// each process. Every message reaches both clients of its room once, in one order; a client
// moved to the other process resumes with since. Counts are printed.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { RunningProgram } from "../helpers/cli.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { ChatClient, deliveryCounts, startChat } from "./chat-client.js";
import { PrivateRedisCluster, redisCli, redisClusterBinaries } from "./redis-helpers.js";

const binaries = redisClusterBinaries();

/** Redis Cluster's key slot (CRC16/XMODEM of the hash tag, mod 16384). */
function slotOf(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe("two `hawser chat` processes on a Redis Cluster of three masters", { skip: binaries.skip }, () => {
  test("rooms on every master carry messages between the processes, once and in order; since resumes on the other process", async () => {
    binaries.assertAvailable();
    const cluster = await PrivateRedisCluster.start(3);
    const chats: RunningProgram[] = [];
    const clients: ChatClient[] = [];
    after(async () => {
      for (const client of clients) client.close();
      await Promise.all(chats.map((chat) => chat.stop().catch(() => undefined)));
      await cluster.remove();
    });
    const nodes = cluster.urls.join(",");
    chats.push(...(await Promise.all([startChat(["--redis-cluster", nodes]), startChat(["--redis-cluster", nodes])])));
    const [one, two] = chats as [RunningProgram, RunningProgram];
    await waitUntil(
      () => /rooms are shared through the Redis Cluster at redis:\/\/127\.0\.0\.1:\d+/.test(one.output()),
      5000,
      "the chat to say where rooms are",
    );

    // One room per master: `redis-cli --cluster create` gives three masters equal slot ranges.
    const rooms: string[] = [];
    for (let i = 0; rooms.length < 3; i++) {
      const room = `room-${i}`;
      const third = Math.floor(slotOf(`chat/${room}`) / (16384 / 3));
      if (!rooms.some((other) => Math.floor(slotOf(`chat/${other}`) / (16384 / 3)) === third)) rooms.push(room);
    }
    const byRoom = new Map<string, [ChatClient, ChatClient]>();
    for (const room of rooms) {
      const pair = await Promise.all([ChatClient.join(`${room}-a`, room, () => one.url), ChatClient.join(`${room}-b`, room, () => two.url)]).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n--- one:\n${one.output()}\n--- two:\n${two.output()}`);
        },
      );
      byRoom.set(room, pair);
      clients.push(...pair);
    }
    for (let n = 0; n < 30; n++) {
      for (const client of clients) client.say(`${client.name} ${n}`);
      await sleep(2);
    }
    for (const [room, pair] of byRoom) {
      const said = pair.flatMap((client) => client.said);
      await waitUntil(() => pair.every((client) => client.received.length >= said.length), 10_000, `both clients of ${room} to get every message`);
      await sleep(50);
      for (const client of pair) {
        const counts = deliveryCounts(said, client.received);
        console.log(
          `cluster: ${room}, client ${client.name}: sent ${counts.sent}, delivered ${counts.delivered}, duplicated ${counts.duplicated}, lost ${counts.lost}`,
        );
        assert.deepEqual(counts, { sent: said.length, delivered: said.length, duplicated: 0, lost: 0 });
      }
      assert.deepEqual(pair[1].received, pair[0].received, `the clients of ${room} saw different orders`);
    }
    // Each master holds one room's stream.
    for (const node of cluster.nodes) {
      const keys = redisCli(node.port, ["--scan", "--pattern", "hawser:stream:*"]).trim().split("\n");
      assert.equal(keys.length, 1, `master ${node.port} holds ${keys.join(", ") || "no stream"}`);
    }

    // A client that was on process one comes back on process two and resumes from its last offset.
    const [watcher, talker] = byRoom.get(rooms[0]!)!;
    const since = watcher.lastOffset!;
    for (let n = 0; n < 5; n++) talker.say(`while away ${n}`);
    await waitUntil(() => watcher.received.length === 65, 5000, "the messages said meanwhile");
    const back = await ChatClient.join("back", rooms[0]!, () => two.url, since);
    clients.push(back);
    assert.deepEqual(back.received, watcher.received.slice(60), "the resumed client missed something, or got it twice");
    assert.deepEqual(back.events, []);
  });
});
