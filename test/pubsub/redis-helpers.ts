// Redis for the pub/sub tests: the machine's shared server at 127.0.0.1:6379 (started by
// .ci/run under CI), and private redis-server processes a test may kill and restart.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer } from "node:net";
import { requirePeer, type Peer } from "../helpers/peers.js";
import { sleep } from "../helpers/wait.js";

export const SHARED_REDIS_URL = "redis://127.0.0.1:6379";

const INSTALL_HINT =
  "install Debian's redis-server (`sudo apt-get install redis-server`), which starts one on 127.0.0.1:6379 " +
  "(or start it yourself: `redis-server --daemonize yes --bind 127.0.0.1 --port 6379`); .ci/run does both";

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

const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) =>
  spawnSync(path, ["--version"], { timeout: 5000 }).status === 0,
);

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

/** A redis-server of this test's own, without persistence, on a port that can be reused. */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts one on `port`, or on a free port. */
  static async start(port?: number): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port ?? (await freePort()));
    await redis.restart();
    return redis;
  }

  /** Starts (again) on the same port and waits until it answers. */
  async restart(): Promise<void> {
    if (!REDIS_SERVER) throw new Error(`redis-server is not available: ${INSTALL_HINT}`);
    if (this.child) throw new Error("This private Redis is already running.");
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
      { stdio: "ignore" },
    );
    this.child = child;
    child.once("exit", () => {
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
}
