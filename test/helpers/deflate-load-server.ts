// A hawser echo server in a child process of its own, for memory measurements a test process
// full of other things would blur. Start it with `startLoadServer(options)`; the child answers
// "stats" requests over IPC with its RSS, peak RSS and live handles.
//
// Peak RSS: Linux keeps a high-water mark (VmHWM) that writing "5" to /proc/self/clear_refs
// resets, so "resetPeak" starts a fresh measurement. Where that is not allowed the peak is
// the process's lifetime peak, an upper bound (the report says which).
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ServerOptions } from "../../src/server/options.js";
import { serve } from "../../src/server/serve.js";
import { sleep, withTimeout } from "./wait.js";

export interface LoadServerStats {
  rssBytes: number;
  /** Peak RSS since the last resetPeak (or since start, when `peakResettable` is false). */
  peakRssBytes: number;
  peakResettable: boolean;
  heapUsedBytes: number;
  externalBytes: number;
  /** process.getActiveResourcesInfo(), sorted. */
  activeResources: string[];
  openSockets: number;
  accepted: number;
  messages: number;
  /** Close codes the server's sockets ended with, and how often. */
  closeCodes: Record<string, number>;
  /** The extensions the last accepted socket agreed on. */
  lastExtensions: string;
}

type Command = "stats" | "gc" | "resetPeak" | "exit";

export interface LoadServer {
  readonly port: number;
  readonly child: ChildProcess;
  /** Stats after `command` ran in the child ("gc" collects garbage twice first). */
  request(command: Exclude<Command, "exit">): Promise<LoadServerStats>;
  /** Closes the server and waits for the child to exit. */
  stop(): Promise<void>;
}

const CHILD_FLAG = "--hawser-load-server";

/**
 * Stats once every server-side connection has ended (a client sees its connection closed a
 * moment before the server does), after garbage collection. Gives up after `timeoutMs` and
 * returns what it has: the caller's assertions then say what is left.
 */
export async function settledStats(server: LoadServer, timeoutMs = 10_000): Promise<LoadServerStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await server.request("gc");
    if (stats.openSockets === 0 && !stats.activeResources.includes("TCPSocketWrap")) return stats;
    if (Date.now() > deadline) return stats;
    await sleep(20);
  }
}

export async function startLoadServer(options: ServerOptions): Promise<LoadServer> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, JSON.stringify(options)], {
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.once("message", (message: { port: number }) => resolve(message.port));
      child.once("exit", (code) => reject(new Error(`the load server exited (${code}) before listening`)));
    }),
    20_000,
    "the load server to listen",
  );
  let queue = Promise.resolve() as Promise<unknown>;
  const request = (command: Command): Promise<LoadServerStats> => {
    // One request at a time: answers come back in order on the one IPC channel.
    const answer = queue.then(() =>
      withTimeout(
        new Promise<LoadServerStats>((resolve) => {
          child.once("message", (stats: LoadServerStats) => resolve(stats));
          child.send(command);
        }),
        20_000,
        `the load server to answer "${command}"`,
      ),
    );
    queue = answer.catch(() => undefined);
    return answer;
  };
  return {
    port,
    child,
    request,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send("exit");
        await withTimeout(exited, 10_000, "the load server to exit").catch(() => child.kill("SIGKILL"));
      }
      await exited;
    },
  };
}

// --- the child -------------------------------------------------------------------------------

function peakRssBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

async function runChild(options: ServerOptions): Promise<void> {
  let openSockets = 0;
  let accepted = 0;
  let messages = 0;
  let lastExtensions = "";
  const closeCodes: Record<string, number> = {};
  const server = await serve(
    (cgi) => {
      if (!cgi.websocketRequested()) {
        cgi.write("load server\n", true);
        return;
      }
      const socket = cgi.acceptWebsocket();
      accepted++;
      openSockets++;
      lastExtensions = socket.extensions;
      socket.onmessage = (event) => {
        messages++;
        socket.send(event.data);
      };
      socket.onerror = () => undefined;
      socket.onclose = (event) => {
        openSockets--;
        closeCodes[event.code] = (closeCodes[event.code] ?? 0) + 1;
      };
    },
    { ...options, host: "127.0.0.1", port: 0, onHandlerError: (error) => console.error("load server handler:", error) },
  );
  let peakResettable = resetPeak();
  const stats = (): LoadServerStats => {
    const memory = process.memoryUsage();
    return {
      rssBytes: memory.rss,
      peakRssBytes: peakRssBytes(),
      peakResettable,
      heapUsedBytes: memory.heapUsed,
      externalBytes: memory.external,
      activeResources: process.getActiveResourcesInfo().sort(),
      openSockets,
      accepted,
      messages,
      closeCodes: { ...closeCodes },
      lastExtensions,
    };
  };
  let closing: Promise<void> | null = null;
  const shutdown = (): Promise<void> => (closing ??= server.close());
  const answer = async (command: Command): Promise<void> => {
    if (command === "exit") {
      await shutdown();
      process.disconnect();
      return;
    }
    if (command === "gc") {
      const gc = (globalThis as { gc?: () => void }).gc!;
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    if (command === "resetPeak") peakResettable = resetPeak();
    process.send!(stats());
  };
  // A command that fails ends the child with its error, as a failed start does (runChild's
  // caller below): the parent sees the exit instead of waiting for an answer.
  process.on("message", (command: Command) => {
    answer(command).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
  // A parent that goes away without "exit" must not leave a server behind.
  process.on("disconnect", () => void shutdown());
  process.send!({ port: server.port });
}

if (process.argv[2] === CHILD_FLAG) {
  runChild(JSON.parse(process.argv[3]!) as ServerOptions).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
