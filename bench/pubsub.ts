// Pub/sub fan-out benchmark: messages delivered per second to subscribers of one topic.
//
//   npm run bench:pubsub [-- --quick] [--runs R] [--duration S] [--redis URL] [--subscribers 1000,10000]
//
// 1. One process: hawser's server.publish beside Bun's server.publish (uWebSockets topics),
//    with 1,000 and 10,000 subscribers. The C load generator (bench/bin/loadgen, broadcast mode)
//    holds the subscribers; its connection 0 also sends, the server publishes each message to
//    the topic, and a message counts once every subscriber has it (--inflight in flight).
// 2. Two hawser processes through Redis, with each adapter: RedisAdapter (pub/sub, fire and
//    forget) and RedisStreamsAdapter (ordered, durable). Half the subscribers on process A (the
//    load generator, as above) and half on process B (bench/pubsub-subscribers.ts, which only
//    counts and checks sequence numbers); publishes enter at A and reach B through Redis. After
//    each such run, with the subscribers gone, bench/pubsub-latency.ts times single messages
//    from A to B (and back to the publisher on A) at a steady 500 per second: the latency the
//    adapter adds, without fan-out or queueing.
//
// Reported per run: deliveries/s, deliveries per CPU-second of the server process(es) and its
// inverse, server CPU per delivery (meaningful when other work shares the machine, see
// bench/lib/noise.ts), the load generator's p50/p99 (send to the last of A's subscribers,
// with --inflight queued), and the probe's p50/p99.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureLoadgen, resultProblem, runLoadgen, type LoadgenResult } from "./lib/loadgen.js";
import { otherCpu, processSeconds, snapshot } from "./lib/noise.js";
import { canPin, freePort, killRunning, startPinned, stop, waitForPort, type Started } from "./lib/proc.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUN = path.join(ROOT, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string", default: "2" },
    inflight: { type: "string", default: "64" },
    size: { type: "string", default: "64" },
    subscribers: { type: "string", default: "1000,10000" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
    "no-redis": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "usage: npm run bench:pubsub -- [--quick] [--runs R] [--duration S] [--warmup S] [--inflight K] [--size B] [--subscribers 1000,10000] [--redis URL | --no-redis]",
  );
  process.exit(0);
}
const runs = Number(values.runs ?? (values.quick ? 1 : 3));
const duration = Number(values.duration ?? (values.quick ? 3 : 5));
const warmup = Number(values.warmup);
const counts = values.subscribers.split(",").map(Number);
const common = ["--mode", "broadcast", "--size", values.size, "--opcode", "binary", "--inflight", values.inflight];

interface Sample {
  deliveriesPerS: number;
  /** Deliveries per CPU-second of the server process(es). */
  perServerCpuS: number;
  latP50Us: number;
  latP99Us: number;
  /** The probe's A-to-B latency (two-process rows only). */
  probe?: { p50Us: number; p99Us: number; localP50Us: number; localP99Us: number };
  otherCores: number;
  note: string;
}

function node(script: string, args: string[], cpu: number): Started {
  return startPinned(process.execPath, ["--import", "tsx", script, ...args], cpu, ROOT);
}

async function startServer(kind: "hawser" | "bun", port: number, extra: string[] = [], cpu = SERVER_CPU): Promise<Started> {
  const started =
    kind === "bun"
      ? startPinned(BUN, ["bench/servers/bun-pubsub.js", "--port", String(port)], cpu, ROOT)
      : node("bench/servers/hawser-pubsub.ts", ["--port", String(port), ...extra], cpu);
  await waitForPort(port, started, 20_000);
  // The port accepts before the adapter is ready: wait for the server's ready line.
  if (extra.length > 0) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${started.output()}`)), 20_000);
      const check = (): void => {
        if (started.output().includes('"ready":true')) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 25);
      };
      check();
    });
  }
  return started;
}

function loadgenArgs(port: number, connections: number): string[] {
  return ["--port", String(port), "--connections", String(connections), "--duration", String(duration), "--warmup", String(warmup), ...common];
}

function sampleFrom(result: LoadgenResult, serverS: number, otherCores: number, extraDeliveries = 0, note = ""): Sample {
  const window = duration;
  const deliveriesPerS = result.deliveries_per_s ?? 0;
  const total = deliveriesPerS + extraDeliveries;
  return {
    deliveriesPerS: total,
    perServerCpuS: serverS > 0 ? (total * window) / serverS : 0,
    latP50Us: result.lat_p50_us,
    latP99Us: result.lat_p99_us,
    otherCores,
    note: [resultProblem(result), note].filter(Boolean).join("; "),
  };
}

/** One process: the load generator against one server. */
async function singleProcess(kind: "hawser" | "bun", subscribers: number): Promise<Sample> {
  const port = await freePort();
  const server = await startServer(kind, port);
  try {
    // Server CPU over the measured window only: sample after the warmup.
    const pid = server.child.pid;
    let serverBefore = 0;
    let before = snapshot(pid);
    const warm = setTimeout(
      () => {
        serverBefore = processSeconds(pid);
        before = snapshot(pid);
      },
      (warmup + connectAllowance(subscribers)) * 1000,
    );
    const result = await runLoadgen(ROOT, loadgenArgs(port, subscribers));
    clearTimeout(warm);
    const serverS = processSeconds(pid) - serverBefore;
    return sampleFrom(result, serverS, otherCpu(before, snapshot(pid), result.gen_cpu * duration));
  } finally {
    await stop(server);
  }
}

/** The load generator opens its connections before the warmup starts: a rough allowance. */
function connectAllowance(subscribers: number): number {
  return subscribers >= 5000 ? 1.5 : 0.4;
}

/** Two hawser processes on one Redis: half the subscribers on each. */
async function throughRedis(subscribers: number, adapter: "pubsub" | "streams"): Promise<Sample> {
  const prefix = `hawser-bench-${process.pid}-${Date.now()}:`;
  const [portA, portB] = [await freePort(), await freePort()];
  const redisArgs = ["--redis", values.redis, "--prefix", prefix, ...(adapter === "streams" ? ["--streams"] : [])];
  // A shares CPU 0 with nothing; B gets CPU 1 with the clients (a 2-core machine has no more).
  const a = await startServer("hawser", portA, redisArgs, SERVER_CPU);
  const b = await startServer("hawser", portB, redisArgs, CLIENT_CPU);
  const half = Math.floor(subscribers / 2);
  const counter = spawn(process.execPath, ["--import", "tsx", "bench/pubsub-subscribers.ts", "--port", String(portB), "--connections", String(half)], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: counter.stdout! });
  const nextLine = (): Promise<string> => new Promise((resolve) => lines.once("line", resolve));
  try {
    await nextLine(); // ready
    const pids = [a.child.pid, b.child.pid];
    let serverBefore = 0;
    let before = snapshot(a.child.pid);
    const warm = setTimeout(
      () => {
        serverBefore = pids.reduce<number>((sum, pid) => sum + processSeconds(pid), 0);
        before = snapshot(a.child.pid);
        counter.stdin!.write("start\n");
      },
      (warmup + connectAllowance(half)) * 1000,
    );
    const result = await runLoadgen(ROOT, loadgenArgs(portA, half));
    clearTimeout(warm);
    const stopped = nextLine();
    counter.stdin!.write("stop\n");
    const remote = JSON.parse(await stopped) as { messages: number; seconds: number; sequenceErrors: number };
    const serverS = pids.reduce<number>((sum, pid) => sum + processSeconds(pid), 0) - serverBefore;
    const remotePerS = remote.messages / remote.seconds;
    const localPerS = result.deliveries_per_s ?? 0;
    // Both halves have the same number of subscribers: B keeps up when it delivers as fast as A.
    const lag = localPerS > 0 ? remotePerS / localPerS : 0;
    const note =
      `A ${fmt(localPerS)}/s + B ${fmt(remotePerS)}/s; B at ${(lag * 100).toFixed(0)}% of A's rate` +
      (remote.sequenceErrors > 0 ? `; ${remote.sequenceErrors} SEQUENCE ERRORS at B` : "");
    const sample = sampleFrom(result, serverS, otherCpu(before, snapshot(a.child.pid), result.gen_cpu * duration), remotePerS, note);
    // The probe runs alone: the load generator is done, and B's passive subscribers leave first.
    const counterExited = new Promise((resolve) => counter.once("exit", resolve));
    counter.stdin!.end();
    await counterExited;
    sample.probe = latencyProbe(portA, portB);
    return sample;
  } finally {
    counter.stdin!.end();
    await Promise.all([stop(a), stop(b)]);
    if (adapter === "streams") deleteStream(`${prefix}{bench}`);
  }
}

/** Times single messages from A to B (and to the publisher on A) at a steady rate. */
function latencyProbe(portA: number, portB: number): Sample["probe"] {
  const count = values.quick ? 300 : 1000;
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "bench/pubsub-latency.ts", "--a-port", String(portA), "--b-port", String(portB), "--count", String(count), "--rate", "500"],
    { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
  );
  const line = run.stdout.trim().split("\n").at(-1) ?? "";
  try {
    const probe = JSON.parse(line) as { remote: { p50Us: number; p99Us: number }; local: { p50Us: number; p99Us: number }; received: number };
    if (probe.received < count) console.log(`  (latency probe: ${probe.received} of ${count} messages arrived)`);
    return { p50Us: probe.remote.p50Us, p99Us: probe.remote.p99Us, localP50Us: probe.local.p50Us, localP99Us: probe.local.p99Us };
  } catch {
    console.log(`  (latency probe failed: ${run.stderr.trim().split("\n").at(-1) ?? run.status})`);
    return undefined;
  }
}

/** The streams run leaves one stream behind in the shared Redis: delete it. */
function deleteStream(key: string): void {
  const { hostname, port } = new URL(values.redis);
  spawnSync("redis-cli", ["-h", hostname, "-p", port || "6379", "DEL", key], { timeout: 5000 });
}

function ms(us: number): string {
  return (us / 1000).toFixed(us < 10_000 ? 2 : 1);
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0);
}

function median(list: number[]): number {
  const sorted = [...list].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function redisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const net = await import("node:net");
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname);
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
    socket.on("error", () => resolve(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => (socket.destroy(), resolve(data.toString().startsWith("+PONG"))));
  });
}

async function main(): Promise<void> {
  ensureLoadgen(ROOT);
  const rows: Array<{ label: string; samples: Sample[] }> = [];
  const useRedis = !values["no-redis"] && (await redisReachable(values.redis));
  console.log(
    `pub/sub fan-out: ${values.size} B binary messages, ${values.inflight} in flight, ${runs} run(s) of ${duration} s after ${warmup} s warmup` +
      (canPin ? `; servers on CPU ${SERVER_CPU}, clients on CPU ${CLIENT_CPU}` : "; unpinned (no taskset or one CPU)"),
  );
  for (const subscribers of counts) {
    const byLabel = new Map<string, Sample[]>();
    const kinds: Array<[string, () => Promise<Sample>]> = [
      [`hawser, 1 process, ${subscribers} subscribers`, () => singleProcess("hawser", subscribers)],
      [`bun, 1 process, ${subscribers} subscribers`, () => singleProcess("bun", subscribers)],
    ];
    if (useRedis) {
      kinds.push([`hawser, 2 processes via Redis pub/sub, ${subscribers} subscribers`, () => throughRedis(subscribers, "pubsub")]);
      kinds.push([`hawser, 2 processes via Redis Streams, ${subscribers} subscribers`, () => throughRedis(subscribers, "streams")]);
    }
    // Interleave the servers run by run, so a burst of outside load hits all of them alike.
    for (let run = 0; run < runs; run++) {
      for (const [label, measure] of kinds) {
        const sample = await measure();
        const list = byLabel.get(label) ?? [];
        list.push(sample);
        byLabel.set(label, list);
        console.log(
          `  ${label}: ${fmt(sample.deliveriesPerS)} deliveries/s, ${fmt(sample.perServerCpuS)} per server CPU-s, ` +
            `p50/p99 ${ms(sample.latP50Us)}/${ms(sample.latP99Us)} ms` +
            (sample.probe
              ? `, A→B ${ms(sample.probe.p50Us)}/${ms(sample.probe.p99Us)} ms, A→A ${ms(sample.probe.localP50Us)}/${ms(sample.probe.localP99Us)} ms`
              : "") +
            `, other load ${sample.otherCores.toFixed(2)} cores${sample.note ? ` (${sample.note})` : ""}`,
        );
      }
    }
    for (const [label, samples] of byLabel) rows.push({ label, samples });
  }
  if (!useRedis) console.log(`(no Redis at ${values.redis}: the two-process rows are left out)`);
  console.log(
    "\n| setup | deliveries/s | per server CPU-second | server CPU per delivery | p50 / p99 under load | A→B p50 / p99 at 500/s | A→A p50 / p99 at 500/s |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const { label, samples } of rows) {
    const perCpu = median(samples.map((s) => s.perServerCpuS));
    const probes = samples.flatMap((s) => (s.probe ? [s.probe] : []));
    const probe = (pick: (p: NonNullable<Sample["probe"]>) => number): string => (probes.length > 0 ? ms(median(probes.map(pick))) : "–");
    console.log(
      `| ${label} | ${fmt(median(samples.map((s) => s.deliveriesPerS)))} | ${fmt(perCpu)} | ${perCpu > 0 ? (1e6 / perCpu).toFixed(2) : "–"} µs | ` +
        `${ms(median(samples.map((s) => s.latP50Us)))} / ${ms(median(samples.map((s) => s.latP99Us)))} ms | ` +
        `${probe((p) => p.p50Us)} / ${probe((p) => p.p99Us)} ms | ${probe((p) => p.localP50Us)} / ${probe((p) => p.localP99Us)} ms |`,
    );
  }
  console.log("(medians of the runs; latency under load: send to the last of A's subscribers with --inflight queued)");
}

process.once("SIGINT", () => {
  killRunning();
  process.exit(130);
});
main().catch((error: unknown) => {
  killRunning();
  console.error(error);
  process.exit(1);
});
