// `hawser chat` under faults, each with a Redis of the test's own: Redis restarted mid-stream
// (persistence on) under two chat processes; a client that drops and resumes on the other
// process with since; a chat process killed with SIGKILL whose clients move to the other.
// Clients are hawser's Node client with `reconnect` (chat-client.ts). Each test counts, for
// every client, messages sent, delivered, duplicated and lost, prints them, and requires
// lost 0 and duplicated 0, every client seeing the room in one order.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { RunningProgram } from "../helpers/cli.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { ChatClient, deliveryCounts, startTwoChats } from "./chat-client.js";
import { PrivateRedis, redisServerBinary } from "./redis-helpers.js";

const binary = redisServerBinary();

/** Says `prefix-n` on each client every few milliseconds until stopped. */
function chatter(clients: ChatClient[], phase: () => string): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    for (let n = 0; running; n++) {
      for (const client of clients) client.say(`${phase()}:${client.name}-${n}`);
      await sleep(4);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Waits until every client has every message said and has none unconfirmed; checks and prints the counts. */
async function settleAndCount(fault: string, clients: ChatClient[], all: ChatClient[] = clients): Promise<void> {
  const said = all.flatMap((client) => client.said);
  await waitUntil(
    () => clients.every((client) => client.received.length >= said.length) && all.every((client) => client.unconfirmed === 0),
    15_000,
    "every client to receive every message",
  ).catch((error: Error) => {
    const state = all.map(
      (client) =>
        `${client.name}: said ${client.said.length}, received ${client.received.length}, unconfirmed ${client.unconfirmed}, events ${client.events.join("; ")}`,
    );
    const missing = all.map(
      (client) =>
        `${client.name} misses ${said.filter((text) => !client.received.some((m) => m.text === text)).join(",")}; last ${client.received
          .slice(-3)
          .map((m) => m.offset + " " + m.text)
          .join(" | ")}`,
    );
    throw new Error(`${error.message}\n${state.join("\n")}\n${missing.join("\n")}`);
  });
  await sleep(150); // room for duplicates to show up
  for (const client of clients) {
    const counts = deliveryCounts(said, client.received);
    console.log(
      `fault: ${fault}, client ${client.name}: sent ${counts.sent}, delivered ${counts.delivered}, duplicated ${counts.duplicated}, lost ${counts.lost}`,
    );
    assert.deepEqual(counts, { sent: said.length, delivered: said.length, duplicated: 0, lost: 0 }, `${client.name}: ${client.events.join(", ")}`);
  }
  // One order for the room: the same messages with the same offsets, everywhere.
  const reference = clients[0]!.received.map((m) => `${m.offset} ${m.text}`);
  for (const client of clients.slice(1))
    assert.deepEqual(
      client.received.map((m) => `${m.offset} ${m.text}`),
      reference,
      `${client.name} saw another order`,
    );
  // And each sender's messages in the order said.
  for (const sender of all) {
    assert.deepEqual(
      clients[0]!.received.filter((m) => m.from === sender.name).map((m) => m.text),
      sender.said,
      `${sender.name}'s messages out of order`,
    );
  }
}

describe("`hawser chat --redis` under faults", { skip: binary.skip }, () => {
  test("Redis killed and restarted mid-stream (persistence on): every message once, in order, on both processes", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start(undefined, { persistent: true });
    const chats: RunningProgram[] = [];
    const clients: ChatClient[] = [];
    after(async () => {
      for (const client of clients) client.close();
      await Promise.all(chats.map((chat) => chat.stop().catch(() => undefined)));
      await redis.remove();
    });
    chats.push(...(await startTwoChats(redis.url)));
    const [one, two] = chats as [RunningProgram, RunningProgram];
    clients.push(await ChatClient.join("alice", "restart", () => one.url), await ChatClient.join("bob", "restart", () => two.url));
    let phase = "before";
    const talk = chatter(clients, () => phase);
    await sleep(150);
    await redis.kill();
    phase = "during";
    await waitUntil(() => chats.every((chat) => chat.output().includes("lost Redis")), 5000, "both chat processes to notice Redis is gone");
    await sleep(200);
    await redis.restart();
    phase = "after";
    await waitUntil(() => chats.every((chat) => chat.output().includes("is back after")), 10_000, "both chat processes to reconnect");
    await sleep(150);
    await talk.stop();
    await settleAndCount("Redis restart", clients).catch((error: Error) => {
      throw new Error(`${error.message}\n--- one\n${one.output()}\n--- two\n${two.output()}`);
    });
    assert.ok(
      clients[0]!.said.some((text) => text.startsWith("during:")),
      "nothing was said during the outage",
    );
  });

  test("a client drops and resumes on the other process with since: exactly what it missed, then live", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const chats: RunningProgram[] = [];
    const clients: ChatClient[] = [];
    let proxy: TcpProxy | null = null;
    after(async () => {
      for (const client of clients) client.close();
      await proxy?.close();
      await Promise.all(chats.map((chat) => chat.stop().catch(() => undefined)));
      await redis.remove();
    });
    chats.push(...(await startTwoChats(redis.url)));
    const [one, two] = chats as [RunningProgram, RunningProgram];
    proxy = await TcpProxy.start(one.port);
    let roamerTarget = `ws://127.0.0.1:${proxy.port}`;
    const sender = await ChatClient.join("sender", "roam", () => two.url);
    const roamer = await ChatClient.join("roamer", "roam", () => roamerTarget);
    clients.push(sender, roamer);
    const talk = chatter([sender], () => "roam");
    await sleep(100);
    // The roamer's connection to process one dies; it comes back on process two.
    roamerTarget = two.url;
    proxy.cutAll();
    await waitUntil(() => roamer.events.some((event) => event.startsWith("reconnected")), 5000, "the roamer to reconnect");
    await sleep(100);
    roamer.say("back on two");
    await talk.stop();
    await settleAndCount("a client drops and resumes on the other process", clients);
    assert.deepEqual(roamer.events.slice(0, 2), [
      "dropped 1006",
      `reconnected to ${two.url}/chat?room=roam&name=roamer&since=${roamer.events[1]!.split("since=")[1]}`,
    ]);
    assert.ok(!roamer.events.includes("truncated"));
  });

  test("a chat process killed with SIGKILL: its clients move to the other process and lose nothing", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const chats: RunningProgram[] = [];
    const clients: ChatClient[] = [];
    let balancer: TcpProxy | null = null;
    after(async () => {
      for (const client of clients) client.close();
      await balancer?.close();
      await Promise.all(chats.map((chat) => chat.stop().catch(() => undefined)));
      await redis.remove();
    });
    chats.push(...(await startTwoChats(redis.url)));
    const [one, two] = chats as [RunningProgram, RunningProgram];
    // A load balancer in front of process one: once one is dead, it sends new connections to two.
    balancer = await TcpProxy.start(one.port);
    const viaBalancer = `ws://127.0.0.1:${balancer.port}`;
    clients.push(
      await ChatClient.join("ann", "kill", () => viaBalancer),
      await ChatClient.join("amy", "kill", () => viaBalancer),
      await ChatClient.join("ben", "kill", () => two.url),
    );
    const talk = chatter(clients, () => "kill");
    await sleep(150);
    one.child.kill("SIGKILL");
    balancer.retarget(two.port);
    await withTimeout(one.exited, 5000, "process one to die");
    await waitUntil(
      () => clients.slice(0, 2).every((client) => client.events.some((event) => event.startsWith("reconnected"))),
      10_000,
      "ann and amy to reconnect",
    );
    await sleep(150);
    await talk.stop();
    await settleAndCount("chat process killed with SIGKILL", clients);
  });
});
