// `npm run bench`: hawser beside ws, Bun (uWebSockets) and a raw node:net echo, driven by the
// C load generator. Each server runs pinned to CPU 0, the generator to CPU 1; servers are
// interleaved within each round and rounds repeat, so a noisy machine shows as spread.
// See bench/README.md.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ensureLoadgen, resultProblem, runIdle, runLoadgen, type LoadgenResult } from "./lib/loadgen.js";
import { parseOptions, USAGE, type BenchOptions } from "./lib/options.js";
import { otherCpu, processSeconds, snapshot } from "./lib/noise.js";
import { canPin, freePort, gist, killRunning, rssKb, startPinned, stop, waitForPort, type Started } from "./lib/proc.js";
import { svgChart } from "./lib/chart.js";
import { buildRows, markdown, oneLine, type Meta, type RunRecord } from "./lib/report.js";
import { SCENARIOS, type Measurement, type Scenario } from "./lib/scenarios.js";
import { serverSpecs, type ServerName, type ServerSpec } from "./lib/servers.js";
import { formatNumber } from "./lib/stats.js";

/** Servers that speak no permessage-deflate. */
const NO_DEFLATE: readonly ServerName[] = ["raw", "floor", "floor-handler"];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SERVER_CPU = 0;

function loadgenArgs(scenario: Scenario, server: ServerSpec, port: number, opts: BenchOptions): string[] {
  const args = [
    "--port",
    String(port),
    "--mode",
    scenario.kind,
    "--connections",
    String(scenario.connections),
    "--size",
    String(scenario.size),
    "--inflight",
    String(scenario.inflight),
    "--opcode",
    scenario.opcode,
    "--warmup",
    String(opts.warmupS),
    // Idle holds until the harness has read the server's RSS and sends SIGTERM.
    "--duration",
    scenario.kind === "idle" ? "0" : String(opts.durationS),
  ];
  if (scenario.kind === "broadcast") args.push("--path", "/broadcast");
  // The generator then offers permessage-deflate as browsers do and fails a server that declines.
  if (opts.deflate) args.push("--deflate");
  return [...args, ...server.loadgenArgs(scenario.kind)];
}

function measurementOf(r: LoadgenResult): Measurement {
  return {
    msgsPerSec: r.msgs_per_s,
    mbPerSec: r.mb_per_s,
    p50Us: r.lat_p50_us,
    p99Us: r.lat_p99_us,
    ...(r.deliveries_per_s !== undefined ? { deliveriesPerSec: r.deliveries_per_s } : {}),
    genCpu: r.gen_cpu,
  };
}

/**
 * Server CPU µs per message (echo) or per delivery (broadcast) over the measurement window:
 * what a server spends per message whatever limited the rate (the generator, other work).
 */
function cpuPerMessage(r: LoadgenResult, window: { cpuS?: number; wallS?: number }): Pick<Measurement, "cpuUsPerMsg"> {
  const perSecond = r.mode === "broadcast" ? (r.deliveries_per_s ?? 0) : r.msgs_per_s;
  if (window.cpuS === undefined || !window.wallS || perSecond <= 0) return {};
  return { cpuUsPerMsg: (window.cpuS * 1e6) / (perSecond * window.wallS) };
}

/** Idle scenario: RSS before, open N connections, let the server settle, RSS again. */
async function measureIdle(server: Started, args: string[], opts: BenchOptions, record: RunRecord): Promise<LoadgenResult> {
  const pid = server.child.pid;
  if (pid === undefined) throw new Error("server has no pid");
  await sleep(300); // let start-up allocation finish before the baseline
  const before = rssKb(pid);
  const result = await runIdle(root, args, async (opened) => {
    await sleep(opts.idleSettleMs);
    const after = rssKb(pid);
    record.rssBeforeKb = before;
    record.rssAfterKb = after;
    record.measurement = { rssPerConnKb: opened > 0 ? (after - before) / opened : 0 };
  });
  return result;
}

async function runOne(spec: ServerSpec, scenario: Scenario, round: number, opts: BenchOptions): Promise<RunRecord> {
  const record: RunRecord = { round, scenario: scenario.id, server: spec.name, ok: false };
  const port = await freePort();
  const command = spec.command(scenario.kind, port, opts.deflate);
  const server = startPinned(command.file, command.args, SERVER_CPU, root);
  try {
    await waitForPort(port, server, 20_000);
    const args = loadgenArgs(scenario, spec, port, opts);
    const pid = server.child.pid;
    const before = snapshot(pid);
    // The server's CPU time over the generator's measurement window, for CPU per message.
    const window: { startS?: number; startMs?: number; cpuS?: number; wallS?: number } = {};
    const onWindow = (edge: "start" | "end"): void => {
      if (edge === "start") {
        window.startS = processSeconds(pid);
        window.startMs = performance.now();
      } else if (window.startS !== undefined && window.startMs !== undefined) {
        window.cpuS = processSeconds(pid) - window.startS;
        window.wallS = (performance.now() - window.startMs) / 1000;
      }
    };
    const result = scenario.kind === "idle" ? await measureIdle(server, args, opts, record) : await runLoadgen(root, args, onWindow);
    const after = snapshot(pid);
    record.loadgen = result;
    record.otherCpu = otherCpu(before, after, result.gen_cpu_total_s);
    const wallS = (after.atMs - before.atMs) / 1000;
    if (wallS > 0) record.serverCpu = (after.serverS - before.serverS) / wallS;
    if (scenario.kind !== "idle") record.measurement = { ...measurementOf(result), ...cpuPerMessage(result, window) };
    const problem = resultProblem(result);
    if (server.child.exitCode !== null) throw new Error(`server exited during the run: ${gist(server.output())}`);
    if (problem) throw new Error(problem);
    record.ok = true;
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    await stop(server);
  }
  return record;
}

function progressLine(record: RunRecord, scenario: Scenario, rounds: number): string {
  const where = `[round ${record.round}/${rounds}] (${scenario.id}) ${record.server}`;
  if (!record.ok) return `${where}: FAILED: ${oneLine(record.error ?? "")}`;
  const parts = scenario.metrics.map((m) => `${formatNumber(record.measurement?.[m.key] ?? 0)} ${m.label}`);
  const cpu = record.measurement?.genCpu;
  if (cpu) parts.push(`gen CPU ${cpu.toFixed(2)}`);
  return `${where}: ${parts.join(", ")}`;
}

/** Round r starts with a different server, so no server always runs first (or last). */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length ? by % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}

function bunVersion(): string | undefined {
  try {
    const bin = path.join(root, "node_modules", "@oven", "bun-linux-x64-baseline", "bin", "bun");
    return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  let opts: BenchOptions | "help";
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (opts === "help") {
    console.log(USAGE);
    return 0;
  }
  const t0 = Date.now();
  ensureLoadgen(root);
  if (opts.quick) {
    // CI's run also proves the generator still catches bad echoes, not only that servers answer.
    try {
      execFileSync(process.execPath, [path.join(root, "bench", "loadgen-check.mjs")], { stdio: "inherit" });
    } catch {
      console.error("the load generator's self-check failed");
      return 1;
    }
  }
  if (!canPin) console.warn("warning: taskset or a second CPU is missing; running unpinned");

  const specs = serverSpecs(root);
  // A raw TCP echo has nothing to compress, and the floor servers negotiate no extension: they
  // sit out the permessage-deflate run.
  const servers = opts.deflate ? opts.servers.filter((name) => !NO_DEFLATE.includes(name)) : opts.servers;
  if (opts.deflate && servers.length < opts.servers.length) console.log(`${NO_DEFLATE.join(", ")}: no permessage-deflate, left out of --deflate`);
  const scenarios = SCENARIOS.filter((s) => opts.scenarios.includes(s.id)).map((s) =>
    s.kind === "idle" ? { ...s, connections: opts.idleConnections, title: `${opts.idleConnections.toLocaleString("en-US")} idle conns` } : s,
  );
  const runs: RunRecord[] = [];
  const announced = new Set<string>();

  for (let round = 1; round <= opts.rounds; round++) {
    for (const scenario of scenarios) {
      for (const name of rotate(servers, round - 1)) {
        const spec = specs[name];
        if (!spec.supports(scenario)) continue;
        const reason = spec.unavailable(scenario.kind);
        let record: RunRecord;
        if (reason) {
          record = { round, scenario: scenario.id, server: name, ok: false, error: reason };
          if (!announced.has(`${name}:${reason}`)) console.log(`${name}: ${reason}`);
          announced.add(`${name}:${reason}`);
        } else {
          record = await runOne(spec, scenario, round, opts);
          console.log(progressLine(record, scenario, opts.rounds));
        }
        runs.push(record);
      }
    }
  }

  const date = new Date().toISOString();
  const meta: Meta = {
    date,
    mode: opts.quick ? "quick" : "full",
    rounds: opts.rounds,
    warmupS: opts.warmupS,
    durationS: opts.durationS,
    deflate: opts.deflate,
    pinned: canPin,
    node: process.version,
    cpu: `${os.cpus()[0]?.model ?? "unknown CPU"} x${os.availableParallelism()}`,
    servers,
    totalS: (Date.now() - t0) / 1000,
  };
  const bun = bunVersion();
  if (bun) meta.bun = bun;
  const rows = buildRows(scenarios, servers, runs);
  const md = markdown(meta, rows, runs);

  const dir = path.join(root, "bench", "results");
  const stamp = `${opts.deflate ? "deflate-" : ""}${date.replace(/[:.]/g, "-")}`;
  const latest = opts.deflate ? "latest-deflate.md" : "latest.md";
  const latestChart = latest.replace(/\.md$/, ".svg");
  const chart = svgChart(meta, rows);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${stamp}.json`), JSON.stringify({ meta, rows: rows.map((r) => ({ ...r, scenario: r.scenario.id })), runs }, null, 2) + "\n");
  writeFileSync(path.join(dir, `${stamp}.md`), md);
  writeFileSync(path.join(dir, latest), md);
  writeFileSync(path.join(dir, `${stamp}.svg`), chart);
  writeFileSync(path.join(dir, latestChart), chart);
  console.log(`\n${md}`);
  console.log(`written: bench/results/${stamp}.json, .md, .svg, ${latest} and ${latestChart}`);

  const failed = runs.filter((r) => !r.ok).length;
  if (failed) console.error(`${failed} run(s) failed`);
  return failed ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killRunning();
    process.exit(130);
  });
}

process.exitCode = await main();
