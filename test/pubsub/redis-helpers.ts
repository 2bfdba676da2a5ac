// Redis for the pub/sub tests: the machine's shared server at 127.0.0.1:6379 (started by
// .ci/run under CI), and private redis-server processes (and clusters of them), each in a
// temporary directory, that a test may kill and restart.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePeer, type Peer } from "../helpers/peers.js";
import { sleep } from "../helpers/wait.js";

export const SHARED_REDIS_URL = "redis://127.0.0.1:6379";

const INSTALL_HINT =
  "install Debian's redis-server and redis-tools (`sudo apt-get install redis-server redis-tools`), which starts one on " +
  "127.0.0.1:6379 (or start it yourself: `redis-server --daemonize yes --bind 127.0.0.1 --port 6379`); .ci/run does both";

/** A channel prefix no other test run uses, so runs sharing a Redis cannot hear each other. */
export function uniquePrefix(): string {
  return `hawser-test-${randomBytes(6).toString("hex")}:`;
}

/** The shared Redis at 127.0.0.1:6379 answers PING. */
export function sharedRedis(): Peer {
  return requirePeer(
    "Redis at 127.0.0.1:6379",
    () => {
      // requirePeer's check is synchronous: ask a child process.
      const script =
        "const s=require('net').connect(6379,'127.0.0.1');s.setTimeout(2000,()=>process.exit(1));" +
        "s.on('error',()=>process.exit(1));s.on('connect',()=>s.write('PING\\r\\n'));" +
        "s.on('data',d=>process.exit(d.toString().startsWith('+PONG')?0:1));";
      return spawnSync(process.execPath, ["-e", script], { timeout: 5000 }).status === 0;
    },
    INSTALL_HINT,
  );
}

const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) => spawnSync(path, ["--version"], { timeout: 5000 }).status === 0);

/** The redis-server binary, for private servers a test can kill and restart. */
export function redisServerBinary(): Peer {
  return requirePeer("redis-server", () => REDIS_SERVER !== undefined, INSTALL_HINT);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when a Redis on `port` answers PING. */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/**
 * Every private redis-server still running: they die with the test process, on exit and on
 * the SIGTERM a test runner sends a file that ran out of time, even if a test's cleanup did not
 * run (each test also removes its own).
 */
const running = new Set<ChildProcess>();
function killRunning(): void {
  for (const child of running) child.kill("SIGKILL");
}
process.on("exit", killRunning);
process.once("SIGTERM", () => {
  killRunning();
  process.exit(143);
});

export interface PrivateRedisOptions {
  /** Persistence: an append-only file fsynced on every write, in a temporary directory. */
  persistent?: boolean;
  /** A node of a Redis Cluster (cluster-enabled, its own nodes.conf). */
  clusterNode?: boolean;
}

/** A redis-server of this test's own on a port that can be reused, in a temporary directory. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private dir: string | null = null;

  private constructor(
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts one on `port`, or on a free port. */
  static async start(port?: number, options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port ?? (await freePort()), options);
    await redis.restart();
    return redis;
  }

  /** Starts (again) on the same port and data directory, and waits until it answers. */
  async restart(): Promise<void> {
    if (!REDIS_SERVER) throw new Error(`redis-server is not available: ${INSTALL_HINT}`);
    if (this.child) throw new Error("This private Redis is already running.");
    this.dir ??= mkdtempSync(join(tmpdir(), "hawser-redis-"));
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--loglevel", "warning"];
    args.push(...(this.options.persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
    if (this.options.clusterNode) args.push("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000");
    const child = spawn(REDIS_SERVER, args, { stdio: "ignore" });
    this.child = child;
    running.add(child);
    child.once("exit", () => {
      running.delete(child);
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 10_000;
    while (!(await pingRedis(this.port))) {
      if (this.child !== child) throw new Error(`redis-server exited at once on port ${this.port}.`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer within 10 s.`);
      await sleep(20);
    }
  }

  /** Kills it abruptly (SIGKILL): clients see their connections drop, as in a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
    this.child = null;
  }

  /** Kills it and removes its data directory. */
  async remove(): Promise<void> {
    await this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

const REDIS_CLI = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].find((path) => spawnSync(path, ["--version"], { timeout: 5000 }).status === 0);

/** Runs redis-cli against the Redis on `port`; returns its output. */
export function redisCli(port: number, args: string[]): string {
  if (!REDIS_CLI) throw new Error(`redis-cli is not available: ${INSTALL_HINT}`);
  return spawnSync(REDIS_CLI, ["-p", String(port), ...args], { timeout: 5000, encoding: "utf8" }).stdout;
}

/** redis-server and redis-cli (Debian's redis-tools), for a Redis Cluster of the test's own. */
export function redisClusterBinaries(): Peer {
  return requirePeer("redis-server and redis-cli", () => REDIS_SERVER !== undefined && REDIS_CLI !== undefined, INSTALL_HINT);
}

/** A Redis Cluster of `masters` masters (no replicas) on free ports, made with `redis-cli --cluster create`. */
export class PrivateRedisCluster {
  private constructor(readonly nodes: PrivateRedis[]) {}

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const nodes: PrivateRedis[] = [];
    try {
      for (let i = 0; i < masters; i++) nodes.push(await PrivateRedis.start(undefined, { clusterNode: true }));
      const create = spawnSync(
        REDIS_CLI!,
        ["--cluster", "create", ...nodes.map((node) => `127.0.0.1:${node.port}`), "--cluster-replicas", "0", "--cluster-yes"],
        { timeout: 20_000, encoding: "utf8" },
      );
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
      const cluster = new PrivateRedisCluster(nodes);
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((node) => node.remove()));
      throw error;
    }
  }

  /** Every node says cluster_state:ok (slots assigned, gossip settled). */
  private async waitUntilOk(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = this.nodes.every((node) => redisCli(node.port, ["cluster", "info"]).includes("cluster_state:ok"));
      if (ok) return;
      if (Date.now() > deadline) throw new Error("The test's Redis Cluster did not reach cluster_state:ok within 15 s.");
      await sleep(100);
    }
  }

  async remove(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.remove()));
  }
}

/** Deletes the keys (streams) a test made under `prefix` on a shared Redis: it must not fill up. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  if (!/^[\w:.-]+$/.test(prefix)) throw new Error(`deleteKeys: '${prefix}' would need escaping in a SCAN pattern.`);
  const { createClient } = await import("redis");
  const client = createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}
