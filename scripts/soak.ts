// Soak test: `npm run soak -- --connections N --seconds S [--concurrency C] [--messages M]`.
//
// Starts the `hawser echo` server (the seed's echo: greets with "hello" and " world!", then
// echoes) in a child process, then opens and closes N connections spread over S seconds (at
// most C at a time), half of them with permessage-deflate. Each connection checks the
// greeting, sends M messages of mixed kinds and sizes (text and binary, empty to 200 KB, some
// compressible and above the deflate threshold, some random) and checks every echo byte for
// byte, in order, then closes cleanly. It prints what was served and lost, the server's RSS
// and its open file descriptors (/proc/PID/fd) at the start and the end, and exits non-zero
// when a message was lost, anything failed, the server's descriptors grew by more than
// --max-fd-growth (default 10), or its RSS grew by more than --max-rss-growth-mib (default
// 64) between the end of the warm-up (the first 10% of connections) and the end.
//
// Other options: --dist runs the built server (node dist/cli.js) instead of the sources;
// --json prints the figures as one JSON line ("soak-result: {...}") after the report.
// Linux only (it reads /proc). Loopback only.
import { Buffer } from "node:buffer";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../src/client/connect.js";
import { WebSocketOpcode } from "../src/protocol/opcodes.js";

export interface SoakResult {
  connections: number;
  served: number;
  messagesSent: number;
  messagesReceived: number;
  messagesLost: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  rssStartMiB: number;
  rssAfterWarmupMiB: number;
  rssEndMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  fdsStart: number;
  fdsEnd: number;
  maxFdGrowth: number;
  maxRssGrowthMiB: number;
  passed: boolean;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MiB = 1024 * 1024;
/** Per-connection deadline: a connection that takes longer counts as an error. */
const CONNECTION_TIMEOUT_MS = 15_000;

/** Payloads to build messages from: sizes around the frame-length edges and the deflate threshold. */
const SIZES = [0, 1, 125, 126, 1000, 1024, 4096, 65_535, 65_536, 200_000];
const POOL = SIZES.flatMap((size) => [
  { binary: false, data: Buffer.from("soak text, compressible. ".repeat(Math.ceil(size / 25) + 1).slice(0, size)) },
  { binary: true, data: randomBytes(size) },
  { binary: true, data: Buffer.alloc(size, size & 0xff) },
]);

interface Server {
  child: ChildProcess;
  port: number;
  stderr: string[];
}

function startServer(dist: boolean): Promise<Server> {
  const args = dist ? ["dist/cli.js"] : ["--import", "tsx", "src/cli.ts"];
  const child = spawn(process.execPath, [...args, "echo", "--port", "0", "--host", "127.0.0.1"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`The echo server did not start within 20 s: ${out}${stderr.join("")}`)), 20_000);
    child.once("exit", (code) => reject(new Error(`The echo server exited (${code}) before listening: ${stderr.join("")}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on https?:\/\/[^\s]*:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), stderr });
      }
    });
  });
}

/** Resident set size now and its peak so far (VmRSS, VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

class Tally {
  served = 0;
  sent = 0;
  received = 0;
  errors = 0;
  readonly samples: string[] = [];

  error(message: string): void {
    this.errors++;
    if (this.samples.length < 10) this.samples.push(message);
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && (a.length < 4096 ? a.equals(b) : hash(a) === hash(b));
}

function hash(data: Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

async function within<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), Math.max(1, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One connection's life: greeting, `count` messages echoed in order, a clean close. */
async function runConnection(id: number, url: string, count: number, tally: Tally): Promise<void> {
  const deadline = Date.now() + CONNECTION_TIMEOUT_MS;
  const socket = await within(connect(url, { perMessageDeflate: id % 2 === 0 }), deadline, "the handshake");
  try {
    for (const greeting of ["hello", " world!"]) {
      const frame = await within(socket.recv(), deadline, "the greeting");
      if (frame.textData !== greeting) throw new Error(`expected greeting ${JSON.stringify(greeting)}, got opcode ${frame.opcode}`);
    }
    // Every message is unique (its id in front), so a swapped or repeated echo is caught.
    const messages = Array.from({ length: count }, (_, i) => {
      const base = POOL[(id * 7 + i * 13) % POOL.length]!;
      const stamped = Buffer.concat([Buffer.from(`${id}.${i}:`), base.data]);
      return { binary: base.binary, data: stamped };
    });
    for (const message of messages) {
      if (!socket.send(message.binary ? message.data : message.data.toString("utf8"))) throw new Error("send() refused a message");
      tally.sent++;
    }
    for (const [i, message] of messages.entries()) {
      const frame = await within(socket.recv(), deadline, `echo ${i} of ${count}`);
      const opcode = message.binary ? WebSocketOpcode.binary : WebSocketOpcode.text;
      if (frame.opcode !== opcode || !sameBytes(frame.data, message.data)) {
        throw new Error(`echo ${i} differs (opcode ${frame.opcode}, ${frame.data.length} bytes for ${message.data.length})`);
      }
      tally.received++;
    }
    socket.close(1000, "done");
    const event = await within(socket.closed, deadline, "the close");
    if (event.code !== 1000 || !event.wasClean) throw new Error(`closed with ${event.code}, wasClean ${event.wasClean}`);
    tally.served++;
  } catch (error) {
    socket.terminate();
    throw error;
  }
}

export interface SoakOptions {
  connections: number;
  seconds: number;
  concurrency: number;
  messages: number;
  maxFdGrowth: number;
  maxRssGrowthMiB: number;
  dist: boolean;
  log?: (line: string) => void;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const server = await startServer(options.dist);
  const pid = server.child.pid!;
  const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
  const url = `ws://127.0.0.1:${server.port}/`;
  const tally = new Tally();
  const fdsStart = openFds(pid);
  const rssStart = memoryOf(pid).rss;
  let rssAfterWarmup = 0;
  const warmup = Math.max(1, Math.floor(options.connections / 10));
  log(
    `soak: ${options.connections} connections over ${options.seconds} s (at most ${options.concurrency} at a time, ${options.messages} messages each), server pid ${pid}`,
  );

  const started = Date.now();
  const interval = (options.seconds * 1000) / options.connections;
  const inFlight = new Set<Promise<void>>();
  let finished = 0;
  for (let id = 0; id < options.connections; id++) {
    const due = started + id * interval;
    if (Date.now() < due) await sleep(due - Date.now());
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    const run: Promise<void> = runConnection(id, url, options.messages, tally)
      .catch((error: unknown) => tally.error(`connection ${id}: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        inFlight.delete(run);
        if (++finished === warmup) rssAfterWarmup = memoryOf(pid).rss;
      });
    inFlight.add(run);
  }
  await Promise.all(inFlight);
  const seconds = (Date.now() - started) / 1000;

  // Closed connections leave the server's descriptor table a moment later: give it a second.
  let fdsEnd = openFds(pid);
  for (let i = 0; i < 20 && fdsEnd - fdsStart > options.maxFdGrowth; i++) {
    await sleep(100);
    fdsEnd = openFds(pid);
  }
  const memory = memoryOf(pid);
  server.child.kill("SIGTERM");
  const exitCode = await Promise.race([exited, sleep(10_000).then(() => "timeout" as const)]);
  if (exitCode === "timeout") {
    server.child.kill("SIGKILL");
    tally.error("the server did not shut down within 10 s of SIGTERM");
  } else if (exitCode !== 0) {
    tally.error(`the server exited with code ${exitCode}`);
  }
  const serverErrors = server.stderr.join("").trim();
  if (serverErrors !== "") tally.error(`the server wrote to stderr: ${serverErrors.slice(0, 500)}`);

  const lost = tally.sent - tally.received;
  const rssGrowth = memory.rss - rssAfterWarmup;
  const result: SoakResult = {
    connections: options.connections,
    served: tally.served,
    messagesSent: tally.sent,
    messagesReceived: tally.received,
    messagesLost: lost,
    errors: tally.errors,
    errorSamples: tally.samples,
    seconds,
    rssStartMiB: rssStart / MiB,
    rssAfterWarmupMiB: rssAfterWarmup / MiB,
    rssEndMiB: memory.rss / MiB,
    rssPeakMiB: memory.peak / MiB,
    rssGrowthMiB: rssGrowth / MiB,
    fdsStart,
    fdsEnd,
    maxFdGrowth: options.maxFdGrowth,
    maxRssGrowthMiB: options.maxRssGrowthMiB,
    passed:
      lost === 0 &&
      tally.errors === 0 &&
      tally.served === options.connections &&
      fdsEnd - fdsStart <= options.maxFdGrowth &&
      rssGrowth <= options.maxRssGrowthMiB * MiB,
  };
  const f = (n: number): string => n.toFixed(1);
  log(`connections served: ${result.served} of ${result.connections} in ${f(seconds)} s`);
  log(`messages sent: ${result.messagesSent}, received: ${result.messagesReceived}, lost: ${lost}`);
  log(`errors: ${result.errors}${tally.samples.map((sample) => `\n  ${sample}`).join("")}`);
  log(
    `server RSS: start ${f(result.rssStartMiB)} MiB, after warm-up ${f(result.rssAfterWarmupMiB)} MiB, end ${f(result.rssEndMiB)} MiB, ` +
      `peak ${f(result.rssPeakMiB)} MiB (growth after warm-up ${f(result.rssGrowthMiB)} MiB, bound ${options.maxRssGrowthMiB} MiB)`,
  );
  log(`server open file descriptors: start ${fdsStart}, end ${fdsEnd} (growth ${fdsEnd - fdsStart}, bound ${options.maxFdGrowth})`);
  log(`soak: ${result.passed ? "PASS" : "FAIL"}`);
  return result;
}

function parseOptions(argv: string[]): SoakOptions & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      connections: { type: "string", default: "2000" },
      seconds: { type: "string", default: "20" },
      concurrency: { type: "string", default: "50" },
      messages: { type: "string", default: "6" },
      "max-fd-growth": { type: "string", default: "10" },
      "max-rss-growth-mib": { type: "string", default: "64" },
      dist: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const number = (name: keyof typeof values, min: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number of at least ${min}, got '${String(values[name])}'.`);
    return value;
  };
  return {
    connections: number("connections", 1),
    seconds: number("seconds", 0),
    concurrency: number("concurrency", 1),
    messages: number("messages", 0),
    maxFdGrowth: number("max-fd-growth", 0),
    maxRssGrowthMiB: number("max-rss-growth-mib", 0),
    dist: values.dist === true,
    json: values.json === true,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}`);
    process.exit(2);
  }
  runSoak(options).then(
    (result) => {
      if (options.json) console.log(`soak-result: ${JSON.stringify(result)}`);
      process.exit(result.passed ? 0 : 1);
    },
    (error: unknown) => {
      console.error(`soak: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
