// `npm run bench:deflate`: throughput and server CPU with permessage-deflate (RFC 7692) on and
// off, hawser beside ws. Servers run pinned to CPU 0; the load generator is JavaScript
// (bench/node-loadgen.mjs, ws's client, because the C generator has no zlib), pinned to CPU 1,
// the same for every server, with compression on or off to match the server. Rounds repeat with
// the server order rotated; cells are medians. See bench/README.md.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rotate, runNodeLoadgen, type NodeRun, type ServerCommand } from "./lib/node-loadgen.js";
import { BENCH_CLI_LIMITS } from "./lib/limits.js";
import { canPin, killRunning } from "./lib/proc.js";
import { formatNumber, formatSummary, summarize, type Summary } from "./lib/stats.js";
import { parseRoundOptions } from "./lib/round-options.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Server {
  name: string;
  deflate: boolean;
  command: ServerCommand;
  greeting: number;
}

const node = process.execPath;
const hawserCli = path.join(root, "dist", "cli.js");
const wsEcho = path.join(root, "bench", "servers", "ws-echo.mjs");
// `hawser echo` is the seed's example: it greets with "hello" and " world!" before echoing.
const SERVERS: Server[] = [
  { name: "hawser-deflate", deflate: true, greeting: 2, command: { file: node, args: [hawserCli, "echo", "--host", "127.0.0.1", ...BENCH_CLI_LIMITS] } },
  { name: "ws-deflate", deflate: true, greeting: 0, command: { file: node, args: [wsEcho, "--deflate"] } },
  {
    name: "hawser-plain",
    deflate: false,
    greeting: 2,
    command: { file: node, args: [hawserCli, "echo", "--no-deflate", "--host", "127.0.0.1", ...BENCH_CLI_LIMITS] },
  },
  { name: "ws-plain", deflate: false, greeting: 0, command: { file: node, args: [wsEcho] } },
];

interface Load {
  id: string;
  size: number;
  connections: number;
  inflight: number;
}
const LOADS: Load[] = [
  { id: "1 KiB", size: 1024, connections: 50, inflight: 8 },
  { id: "16 KiB", size: 16 * 1024, connections: 10, inflight: 4 },
];

interface Record_ {
  round: number;
  load: string;
  server: string;
  run: NodeRun;
}

const USAGE = `usage: npm run bench:deflate -- [--quick] [--rounds N] [--warmup S] [--duration S]
  --quick      1 round, 0.5 s warmup + 1.5 s measured per run (under 40 s)
  default      3 rounds, 1 s warmup + 4 s measured per run (about 2.5 minutes)`;

const { rounds, warmupS, durationS } = parseRoundOptions(USAGE, {
  quick: { rounds: 1, warmupS: 0.5, durationS: 1.5 },
  full: { rounds: 3, warmupS: 1, durationS: 4 },
});

// Per-run figures derived from the generator's window.
interface Figures {
  msgsPerSec: number;
  mbPerSec: number;
  /** Server CPU milliseconds per 1,000 messages echoed (= µs per message). */
  serverMsPer1k: number;
  serverCores: number;
  /** Server socket bytes, both directions, per message echoed. */
  wirePerMsg?: number;
  genCpu: number;
  otherCpu: number;
}

function figures(run: NodeRun): Figures | undefined {
  const r = run.result;
  if (!run.ok || !r || !r.messages || !r.seconds) return undefined;
  const f: Figures = {
    msgsPerSec: r.msgs_per_s ?? 0,
    mbPerSec: r.mb_per_s ?? 0,
    serverMsPer1k: ((r.server_cpu_s ?? 0) * 1e6) / r.messages,
    serverCores: (r.server_cpu_s ?? 0) / r.seconds,
    genCpu: r.gen_cpu ?? 0,
    otherCpu: run.otherCpu ?? 0,
  };
  if (typeof r.wire_bytes === "number" && Number.isFinite(r.wire_bytes)) f.wirePerMsg = r.wire_bytes / r.messages;
  return f;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  if (!canPin) console.warn("warning: taskset or a second CPU is missing; running unpinned");
  const records: Record_[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const load of LOADS) {
      for (const server of rotate(SERVERS, round - 1 + LOADS.indexOf(load))) {
        const genArgs = [
          "--client",
          "ws",
          ...(server.deflate ? ["--deflate"] : []),
          "--connections",
          String(load.connections),
          "--inflight",
          String(load.inflight),
          "--size",
          String(load.size),
          "--opcode",
          "text",
          "--greeting",
          String(server.greeting),
          "--warmup",
          String(warmupS),
          "--duration",
          String(durationS),
        ];
        const run = await runNodeLoadgen(root, server.command, genArgs);
        records.push({ round, load: load.id, server: server.name, run });
        const f = figures(run);
        const where = `[round ${round}/${rounds}] ${load.id} ${server.name}`;
        console.log(
          f
            ? `${where}: ${formatNumber(f.msgsPerSec)} msg/s, ${formatNumber(f.mbPerSec)} MB/s, server ${f.serverMsPer1k.toFixed(1)} ms CPU/1k msgs, gen CPU ${f.genCpu.toFixed(2)}`
            : `${where}: FAILED: ${run.error}`,
        );
      }
    }
  }

  const date = new Date().toISOString();
  const md = report(records, date, (Date.now() - t0) / 1000);
  const dir = path.join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `deflate-${date.replace(/[:.]/g, "-")}.md`);
  writeFileSync(file, md);
  console.log(`\n${md}`);
  console.log(`written: ${path.relative(root, file)}`);
  const failed = records.filter((r) => !r.run.ok).length;
  if (failed) console.error(`${failed} run(s) failed`);
  return failed ? 1 : 0;
}

type Key = Exclude<keyof Figures, "otherCpu">;

function summaryOf(records: readonly Record_[], load: string, server: string, key: keyof Figures): Summary | undefined {
  const xs = records
    .filter((r) => r.load === load && r.server === server)
    .map((r) => figures(r.run)?.[key])
    .filter((x): x is number => x !== undefined);
  return summarize(xs);
}

function ratio(a: Summary | undefined, b: Summary | undefined): string {
  return a && b && b.median > 0 ? `${(a.median / b.median).toFixed(2)}×` : "–";
}

function report(records: readonly Record_[], date: string, totalS: number): string {
  const cols: Array<[Key, string]> = [
    ["msgsPerSec", "msg/s ↑"],
    ["mbPerSec", "MB/s ↑"],
    ["serverMsPer1k", "server CPU ms / 1k msgs ↓"],
    ["serverCores", "server CPU (cores)"],
    ["wirePerMsg", "wire B / msg"],
    ["genCpu", "gen CPU"],
  ];
  const lines = [
    `# permessage-deflate benchmark, ${date}`,
    "",
    `${rounds} round(s), ${warmupS} s warmup + ${durationS} s measured per run; node ${process.version}; ` +
      `${os.cpus()[0]?.model ?? "unknown CPU"} x${os.availableParallelism()}; ` +
      (canPin ? "servers on CPU 0, generator on CPU 1." : "NOT pinned."),
    "Load generator: bench/node-loadgen.mjs with ws's client (compression on or off to match the server), " +
      "JSON-like text messages (64 distinct per size), every echo checked.",
    "",
    "Cells: median (min–max) over rounds.",
    "",
    `| payload | server | ${cols.map((c) => c[1]).join(" | ")} |`,
    `|---|---|${cols.map(() => "---").join("|")}|`,
  ];
  for (const load of LOADS) {
    for (const server of SERVERS) {
      const cells = cols.map(([key]) => {
        const s = summaryOf(records, load.id, server.name, key);
        return key === "genCpu" || key === "serverCores" ? (s ? s.median.toFixed(2) : "–") : formatSummary(s);
      });
      lines.push(`| ${load.id} (${load.connections} conns × ${load.inflight} in flight) | ${server.name} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("", "Ratios of medians:", "", "| payload | pair | msg/s ↑ | server CPU / msg ↓ | wire B / msg ↓ |", "|---|---|---|---|---|");
  const pairs: Array<[string, string]> = [
    ["hawser-deflate", "ws-deflate"],
    ["hawser-plain", "ws-plain"],
    ["hawser-deflate", "hawser-plain"],
  ];
  for (const load of LOADS) {
    for (const [a, b] of pairs) {
      const r = (k: Key): string => ratio(summaryOf(records, load.id, a, k), summaryOf(records, load.id, b, k));
      lines.push(`| ${load.id} | ${a} / ${b} | ${r("msgsPerSec")} | ${r("serverMsPer1k")} | ${r("wirePerMsg")} |`);
    }
  }
  const genMax = Math.max(0, ...records.map((r) => figures(r.run)?.genCpu ?? 0));
  const otherMax = Math.max(0, ...records.map((r) => figures(r.run)?.otherCpu ?? 0));
  lines.push(
    "",
    "- msg/s: echoes completed per second; MB/s: uncompressed payload, one direction, 10^6 B.",
    "- server CPU ms / 1k msgs: server utime+stime (all its threads, zlib's included) per 1,000 echoed messages, " +
      "from /proc/PID/stat at the window's edges (10 ms ticks).",
    "- wire B / msg: the server's socket bytes read + written (/proc/PID/io rchar+wchar) per echoed message, " +
      "both directions, frame headers included; uncompressed that is about 2 × payload.",
    "- Defaults against defaults: hawser compresses at zlib level 1, ws at zlib's default (6); the wire column shows what each buys.",
    `- gen CPU: the generator's CPU per second in the window (highest: ${genMax.toFixed(2)}). The generator is JavaScript on one core ` +
      "(it compresses and inflates too); near 1.0 it, not the server, set the pace, and msg/s then understates the faster server: " +
      "compare the server CPU per message instead.",
    `- other CPU: highest unrelated load on the machine during a run: ${otherMax.toFixed(2)} cores` +
      (otherMax > 0.2 ? " (above 0.2: the machine was busy; trust CPU per message more than msg/s)." : "."),
  );
  const failures = records.filter((r) => !r.run.ok);
  if (failures.length) {
    lines.push("", "## Failures", "");
    for (const f of failures) lines.push(`- round ${f.round}, ${f.load} ${f.server}: ${f.run.error ?? "failed"}`);
  }
  lines.push("", `Total time: ${totalS.toFixed(1)} s.`);
  return lines.join("\n") + "\n";
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killRunning();
    process.exit(130);
  });
}

process.exitCode = await main();
