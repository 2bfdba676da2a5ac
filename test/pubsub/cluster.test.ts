// Several hawser processes sharing topics through Redis: three child processes on three
// ports (test/pubsub/cluster-node.ts), WebSocket clients spread over them. A publish on any
// process reaches the subscribers of all, exactly once, in each publisher's order; unsubscribe
// works across processes; and a Redis killed and restarted mid-test stops only the relaying,
// which resumes by itself.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, describe, test } from "node:test";
import WebSocket from "ws";
import { ROOT } from "../helpers/cli.js";
import { sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { PrivateRedis, redisServerBinary, SHARED_REDIS_URL, sharedRedis, uniquePrefix } from "./redis-helpers.js";

const NODE_SCRIPT = "test/pubsub/cluster-node.ts";

/** One hawser process. */
class Node {
  readonly events: string[] = [];
  output = "";
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static start(redisUrl: string, prefix: string): Promise<Node> {
    const child = spawn(process.execPath, ["--import", "tsx", NODE_SCRIPT, "--redis", redisUrl, "--prefix", prefix], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let node: Node | null = null;
    let output = "";
    let partial = "";
    const started = new Promise<Node>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        partial += chunk.toString();
        let newline: number;
        while ((newline = partial.indexOf("\n")) >= 0) {
          const line = JSON.parse(partial.slice(0, newline)) as { port?: number; event?: string };
          partial = partial.slice(newline + 1);
          if (line.port !== undefined && !node) {
            node = new Node(child, line.port);
            node.output = output;
            resolve(node);
          } else if (line.event && node) {
            node.events.push(line.event);
          }
        }
        if (node) node.output = output;
      });
      child.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (node) node.output = output;
      });
      child.once("exit", (code) => reject(new Error(`${NODE_SCRIPT} exited (${code}) before listening:\n${output}`)));
    });
    return withTimeout(started, 20_000, `${NODE_SCRIPT} to start`).catch((error: unknown) => {
      child.kill("SIGKILL");
      throw error;
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await withTimeout(exited, 5000, "a cluster node to exit").catch(() => this.child.kill("SIGKILL"));
  }
}

/** A WebSocket client of one node: commands in, published messages collected. */
class Client {
  readonly received: string[] = [];
  private nextId = 0;
  private readonly acks = new Map<number, () => void>();

  private constructor(
    readonly ws: WebSocket,
    readonly name: string,
  ) {
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"ack":')) this.acks.get((JSON.parse(text) as { ack: number }).ack)?.();
      else this.received.push(text);
    });
    ws.on("error", () => undefined);
  }

  static async connect(node: Node, name: string): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${node.port}/`);
    await withTimeout(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), 5000, `${name} to connect`);
    return new Client(ws, name);
  }

  /** Subscribes; resolves once the node says publishes from the other processes will arrive. */
  sub(topic: string): Promise<void> {
    return this.command("sub", topic);
  }

  unsub(topic: string): Promise<void> {
    return this.command("unsub", topic);
  }

  pub(topic: string, data: string): void {
    this.ws.send(JSON.stringify({ op: "pub", topic, data }));
  }

  spub(topic: string, data: string): void {
    this.ws.send(JSON.stringify({ op: "spub", topic, data }));
  }

  private command(op: string, topic: string): Promise<void> {
    const id = this.nextId++;
    const acked = new Promise<void>((resolve) => this.acks.set(id, resolve));
    this.ws.send(JSON.stringify({ op, topic, id }));
    return withTimeout(acked, 5000, `${this.name}'s ${op} ${topic}`);
  }
}

/** Each client got each of `senders`' `count` messages (`${sender}-${n}`) exactly once, in order. */
function assertOrderedOnce(clients: Client[], senders: string[], count: number, label: string): void {
  for (const client of clients) {
    for (const sender of senders) {
      const mine = client.received.filter((m) => m.startsWith(`${label}:${sender}-`));
      assert.deepEqual(
        mine,
        Array.from({ length: count }, (_, n) => `${label}:${sender}-${n}`),
        `${client.name} got ${sender}'s '${label}' messages missing, twice or out of order`,
      );
    }
  }
}

async function startNodes(count: number, redisUrl: string): Promise<Node[]> {
  const prefix = uniquePrefix();
  return Promise.all(Array.from({ length: count }, () => Node.start(redisUrl, prefix)));
}

const shared = sharedRedis();
const binary = redisServerBinary();

describe("three hawser processes on one Redis", { skip: shared.skip }, () => {
  test("publishes reach clients of every process once and in order; unsubscribe holds across processes", async () => {
    shared.assertAvailable();
    const nodes = await startNodes(3, SHARED_REDIS_URL);
    const clients: Client[] = [];
    after(async () => {
      for (const client of clients) client.ws.terminate();
      await Promise.all(nodes.map((node) => node.stop()));
    });
    // Two clients on each process: c0 c1 on node 0, c2 c3 on node 1, c4 c5 on node 2.
    for (let i = 0; i < 6; i++) clients.push(await Client.connect(nodes[Math.floor(i / 2)]!, `c${i}`));
    await Promise.all(clients.map((client) => client.sub("room")));

    // One publisher per process, interleaved.
    const publishers = [clients[0]!, clients[2]!, clients[4]!];
    const perPublisher = 150;
    for (let n = 0; n < perPublisher; n++) {
      for (const publisher of publishers) publisher.pub("room", `burst:${publisher.name}-${n}`);
    }
    const total = perPublisher * publishers.length;
    await waitUntil(() => clients.every((c) => c.received.length >= total), 15_000, "every client to receive every publish");
    await sleep(100); // room for duplicates to show up
    for (const client of clients) assert.equal(client.received.length, total, `${client.name} got duplicates`);
    assertOrderedOnce(
      clients,
      publishers.map((p) => p.name),
      perPublisher,
      "burst",
    );

    // socket.publish: every subscriber on every process but the sender.
    for (const client of clients) client.received.length = 0;
    clients[1]!.spub("room", "solo:c1-0");
    const others = clients.filter((c) => c !== clients[1]);
    await waitUntil(() => others.every((c) => c.received.length === 1), 5000, "socket.publish to reach the others");
    await sleep(50);
    assert.deepEqual(clients[1]!.received, []);

    // Both clients of node 1 leave the topic: node 1 stops hearing it; the rest still do.
    for (const client of clients) client.received.length = 0;
    await clients[2]!.unsub("room");
    await clients[3]!.unsub("room");
    clients[4]!.pub("room", "after:c4-0");
    clients[0]!.pub("room", "after:c0-0");
    const listening = [clients[0]!, clients[1]!, clients[4]!, clients[5]!];
    await waitUntil(() => listening.every((c) => c.received.length === 2), 5000, "publishes after the unsubscribe");
    await sleep(100);
    assert.deepEqual(clients[2]!.received, []);
    assert.deepEqual(clients[3]!.received, []);
    // And subscribing again brings node 1 back.
    await clients[3]!.sub("room");
    clients[0]!.pub("room", "back:c0-0");
    await waitUntil(() => clients[3]!.received.length === 1, 5000, "c3 to hear the topic again");
    assert.deepEqual(clients[3]!.received, ["back:c0-0"]);
  });
});

describe("Redis restarted under three hawser processes", { skip: binary.skip }, () => {
  test("local delivery goes on during the outage, each process reports it, and relaying resumes", async () => {
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const nodes = await startNodes(3, redis.url);
    const clients: Client[] = [];
    after(async () => {
      for (const client of clients) client.ws.terminate();
      await Promise.all(nodes.map((node) => node.stop()));
      await redis.remove();
    });
    // c0 and c1 on node 0; c2 on node 1; c3 on node 2.
    for (const [i, node] of [0, 0, 1, 2].entries()) clients.push(await Client.connect(nodes[node]!, `c${i}`));
    await Promise.all(clients.map((client) => client.sub("room")));
    clients[0]!.pub("room", "before:c0-0");
    await waitUntil(() => clients.every((c) => c.received.length === 1), 5000, "delivery before the outage");

    await redis.kill();
    await waitUntil(() => nodes.every((node) => node.events.includes("down")), 10_000, "every process to report Redis down");
    for (const node of nodes) assert.match(node.output, /hawser: lost Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(.*\); publishes stay on this process/);
    // During the outage: clients of the same process still get each other's publishes.
    clients[1]!.pub("room", "outage:c1-0");
    await waitUntil(() => clients[0]!.received.length === 2, 5000, "local delivery during the outage");
    assert.equal(clients[0]!.received[1], "outage:c1-0");
    assert.ok(
      nodes.every((node) => node.alive),
      "a process died with Redis",
    );

    await redis.restart();
    await waitUntil(() => nodes.every((node) => node.events.includes("up")), 10_000, "every process to reconnect");
    for (const node of nodes) assert.deepEqual(node.events, ["down", "up"]);
    assert.match(nodes[0]!.output, /Redis at redis:\/\/127\.0\.0\.1:\d+\/? is back after [\d.]+ s; 1 publishes during the outage/);

    // Relaying resumes (node-redis resubscribes), exactly once and in order again.
    for (const client of clients) client.received.length = 0;
    const publishers = [clients[1]!, clients[2]!, clients[3]!];
    const perPublisher = 100;
    for (let n = 0; n < perPublisher; n++) {
      for (const publisher of publishers) publisher.pub("room", `after:${publisher.name}-${n}`);
    }
    const total = perPublisher * publishers.length;
    await waitUntil(() => clients.every((c) => c.received.length >= total), 10_000, "delivery after Redis came back");
    await sleep(100);
    for (const client of clients) assert.equal(client.received.length, total, `${client.name} got duplicates or stale messages`);
    assertOrderedOnce(
      clients,
      publishers.map((p) => p.name),
      perPublisher,
      "after",
    );
  });
});
