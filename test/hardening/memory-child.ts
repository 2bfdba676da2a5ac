// Runs memory-server.ts in a child process and talks to it: baseline, stats (peaks since the
// baseline), push (send fresh buffers to every client until send() refuses), exit.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { HandlerOptions } from "../../src/server/handler.js";
import { withTimeout } from "../helpers/wait.js";

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  /** Memory of Buffers and ArrayBuffers (outside the V8 heap). */
  arrayBuffers: number;
  /** Bytes of partly received messages held by the server's connections. */
  reassembly: number;
  /** Bytes accepted by send() and not yet handed to the kernel, over all sockets. */
  unsent: number;
}

export type ChildCommand = { type: "baseline" } | { type: "stats"; collect?: boolean } | { type: "push"; size: number; most: number } | { type: "exit" };

export type ChildReply =
  | { type: "ready"; port: number }
  | { type: "baseline"; baseline: MemoryFigures }
  | { type: "stats"; baseline: MemoryFigures; peak: MemoryFigures; now: MemoryFigures; clients: number }
  | { type: "pushed"; accepted: number[]; buffered: number[] };

type Stats = Extract<ChildReply, { type: "stats" }>;
type Pushed = Extract<ChildReply, { type: "pushed" }>;

export interface MemoryServer {
  readonly port: number;
  readonly url: string;
  /** The server process's pid, for /proc figures. */
  readonly pid: number;
  /** Collects garbage and starts measuring peaks from here. */
  baseline(): Promise<MemoryFigures>;
  /** Peaks since the baseline and the figures now (after a GC with `collect`). */
  stats(collect?: boolean): Promise<Stats>;
  /** Sends fresh `size`-byte messages to every client until send() refuses (at most `most` each). */
  push(size: number, most: number): Promise<Pushed>;
  close(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL("./memory-server.ts", import.meta.url));

export async function startMemoryServer(options: HandlerOptions = {}): Promise<MemoryServer> {
  const child: ChildProcess = fork(SCRIPT, [JSON.stringify(options)], {
    // From the repository, so that "--import tsx" resolves wherever the tests were started.
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const replies: ChildReply[] = [];
  const waiters: Array<(reply: ChildReply) => void> = [];
  child.on("message", (message: ChildReply) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else replies.push(message);
  });
  const next = <T extends ChildReply>(type: T["type"], what: string): Promise<T> =>
    withTimeout(
      new Promise<ChildReply>((resolve) => {
        const queued = replies.shift();
        if (queued) resolve(queued);
        else waiters.push(resolve);
      }),
      20_000,
      what,
    ).then((reply) => {
      if (reply.type !== type) throw new Error(`Expected '${type}' from the memory server, got '${reply.type}'.`);
      return reply as T;
    });
  const ask = <T extends ChildReply>(command: ChildCommand, type: T["type"]): Promise<T> => {
    child.send(command);
    return next<T>(type, `the memory server's answer to '${command.type}'`);
  };
  let ready: Extract<ChildReply, { type: "ready" }>;
  try {
    ready = await next("ready", "the memory server to start");
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    port: ready.port,
    url: `ws://127.0.0.1:${ready.port}`,
    pid: child.pid!,
    baseline: () => ask<Extract<ChildReply, { type: "baseline" }>>({ type: "baseline" }, "baseline").then((r) => r.baseline),
    stats: (collect = false) => ask<Stats>({ type: "stats", collect }, "stats"),
    push: (size, most) => ask<Pushed>({ type: "push", size, most }, "pushed"),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: "exit" } satisfies ChildCommand);
      try {
        await withTimeout(exited, 10_000, "the memory server to exit");
      } catch {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

export const MiB = 1024 * 1024;

/** "12.3 MiB", for messages. */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
