// `npm run bench:client`: hawser's client (`connect()` from dist/index.js) and hawser/ws's client
// (node-loadgen.mjs's code for ws's client, with only the import changed) as the load, beside
// ws's client, against one fixed server: hawser's plain echo (`hawser autobahn --no-deflate`, no
// greeting) pinned to CPU 0. The client runs in bench/node-loadgen.mjs pinned to CPU 1,
// permessage-deflate off on all. Clients are interleaved within each round (the first one
// rotates) and rounds repeat; cells are medians. See bench/README.md.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rotate, runNodeLoadgen, type NodeRun, type ServerCommand } from "./lib/node-loadgen.js";
import { canPin, killRunning } from "./lib/proc.js";
import { formatNumber, formatSummary, summarize, type Summary } from "./lib/stats.js";
import { parseRoundOptions } from "./lib/round-options.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SERVER: ServerCommand = {
  file: process.execPath,
  args: [path.join(root, "dist", "cli.js"), "autobahn", "--no-deflate", "--host", "127.0.0.1"],
};
const CLIENTS = ["hawser", "hawser-ws", "ws"] as const;
/** The ratios the report shows: each of hawser's clients against ws's, and the ws face against hawser's own. */
const RATIOS: ReadonlyArray<readonly [Client, Client]> = [
  ["hawser", "ws"],
  ["hawser-ws", "ws"],
  ["hawser-ws", "hawser"],
];
type Client = (typeof CLIENTS)[number];

interface Load {
  id: string;
  connections: number;
  inflight: number;
  size: number;
  opcode: "text" | "binary";
}
const LOADS: Load[] = [
  { id: "100 conns × 16 in flight, 32 B text", connections: 100, inflight: 16, size: 32, opcode: "text" },
  { id: "10 conns × 1 in flight, 64 KiB binary", connections: 10, inflight: 1, size: 64 * 1024, opcode: "binary" },
];

interface Record_ {
  round: number;
  load: string;
  client: Client;
  run: NodeRun;
}

const USAGE = `usage: npm run bench:client -- [--quick] [--rounds N] [--warmup S] [--duration S]
  --quick      3 rounds, 0.3 s warmup + 1 s measured per run (under 40 s)
  default      3 rounds, 1 s warmup + 4 s measured per run (about 1.5 minutes)`;

const { rounds, warmupS, durationS } = parseRoundOptions(USAGE, {
  quick: { rounds: 3, warmupS: 0.3, durationS: 1 },
  full: { rounds: 3, warmupS: 1, durationS: 4 },
});

interface Figures {
  msgsPerSec: number;
  mbPerSec: number;
  /** Client CPU milliseconds per 1,000 messages (= µs per message). */
  clientMsPer1k: number;
  clientCores: number;
  serverCores: number;
  otherCpu: number;
}

function figures(run: NodeRun): Figures | undefined {
  const r = run.result;
  if (!run.ok || !r || !r.messages || !r.seconds) return undefined;
  return {
    msgsPerSec: r.msgs_per_s ?? 0,
    mbPerSec: r.mb_per_s ?? 0,
    clientMsPer1k: ((r.gen_cpu_s ?? 0) * 1e6) / r.messages,
    clientCores: r.gen_cpu ?? 0,
    serverCores: (r.server_cpu_s ?? 0) / r.seconds,
    otherCpu: run.otherCpu ?? 0,
  };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  if (!canPin) console.warn("warning: taskset or a second CPU is missing; running unpinned");
  const records: Record_[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const load of LOADS) {
      for (const client of rotate(CLIENTS, round - 1)) {
        const genArgs = [
          "--client",
          client,
          "--connections",
          String(load.connections),
          "--inflight",
          String(load.inflight),
          "--size",
          String(load.size),
          "--opcode",
          load.opcode,
          "--warmup",
          String(warmupS),
          "--duration",
          String(durationS),
        ];
        const run = await runNodeLoadgen(root, SERVER, genArgs);
        records.push({ round, load: load.id, client, run });
        const f = figures(run);
        const where = `[round ${round}/${rounds}] ${load.id}, ${client} client`;
        console.log(
          f
            ? `${where}: ${formatNumber(f.msgsPerSec)} msg/s, client ${f.clientMsPer1k.toFixed(1)} ms CPU/1k msgs, ` +
                `client CPU ${f.clientCores.toFixed(2)}, server CPU ${f.serverCores.toFixed(2)}`
            : `${where}: FAILED: ${run.error}`,
        );
      }
    }
  }

  const date = new Date().toISOString();
  const md = report(records, date, (Date.now() - t0) / 1000);
  const dir = path.join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `client-${date.replace(/[:.]/g, "-")}.md`);
  writeFileSync(file, md);
  console.log(`\n${md}`);
  console.log(`written: ${path.relative(root, file)}`);
  const failed = records.filter((r) => !r.run.ok).length;
  if (failed) console.error(`${failed} run(s) failed`);
  return failed ? 1 : 0;
}

type Key = Exclude<keyof Figures, "otherCpu">;

function summaryOf(records: readonly Record_[], load: string, client: Client, key: Key): Summary | undefined {
  return summarize(
    records
      .filter((r) => r.load === load && r.client === client)
      .map((r) => figures(r.run)?.[key])
      .filter((x): x is number => x !== undefined),
  );
}

function report(records: readonly Record_[], date: string, totalS: number): string {
  const cols: Array<[Key, string]> = [
    ["msgsPerSec", "msg/s ↑"],
    ["mbPerSec", "MB/s ↑"],
    ["clientMsPer1k", "client CPU ms / 1k msgs ↓"],
    ["clientCores", "client CPU (cores)"],
    ["serverCores", "server CPU (cores)"],
  ];
  const lines = [
    `# client benchmark, ${date}`,
    "",
    `${rounds} round(s), ${warmupS} s warmup + ${durationS} s measured per run; node ${process.version}; ` +
      `${os.cpus()[0]?.model ?? "unknown CPU"} x${os.availableParallelism()}; ` +
      (canPin ? "server on CPU 0, client on CPU 1." : "NOT pinned."),
    "Server: `hawser autobahn --no-deflate` (plain echo) for every client; clients with permessage-deflate off, every echo checked.",
    "",
    "Cells: median (min–max) over rounds.",
    "",
    `| load | client | ${cols.map((c) => c[1]).join(" | ")} |`,
    `|---|---|${cols.map(() => "---").join("|")}|`,
  ];
  for (const load of LOADS) {
    for (const client of CLIENTS) {
      const cells = cols.map(([key]) => {
        const s = summaryOf(records, load.id, client, key);
        return key === "clientCores" || key === "serverCores" ? (s ? s.median.toFixed(2) : "–") : formatSummary(s);
      });
      lines.push(`| ${load.id} | ${client} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("", "| load | ratio | msg/s ↑ | client CPU per msg ↓ |", "|---|---|---|---|");
  for (const load of LOADS) {
    for (const [a, b] of RATIOS) {
      const r = (k: Key): string => {
        const top = summaryOf(records, load.id, a, k);
        const base = summaryOf(records, load.id, b, k);
        return top && base && base.median > 0 ? `${(top.median / base.median).toFixed(2)}×` : "–";
      };
      lines.push(`| ${load.id} | ${a} / ${b} | ${r("msgsPerSec")} | ${r("clientMsPer1k")} |`);
    }
  }
  const otherMax = Math.max(0, ...records.map((r) => figures(r.run)?.otherCpu ?? 0));
  lines.push(
    "",
    "- msg/s: echoes completed per second; MB/s: payload, one direction, 10^6 B.",
    "- client CPU ms / 1k msgs: the client process's CPU (process.cpuUsage) per 1,000 echoed messages: sending, " +
      "masking, parsing, checking the echo. hawser hands text over as a string (ontextmessage), ws and hawser/ws " +
      "as a Buffer (on('message')): each client is used the way its API delivers.",
    "- client CPU near 1.0: the client set the pace; server CPU near 1.0: the server did, and msg/s then says " +
      "little about the clients: compare client CPU per message.",
    `- other CPU: highest unrelated load on the machine during a run: ${otherMax.toFixed(2)} cores` +
      (otherMax > 0.2 ? " (above 0.2: the machine was busy; trust CPU per message more than msg/s)." : "."),
  );
  const failures = records.filter((r) => !r.run.ok);
  if (failures.length) {
    lines.push("", "## Failures", "");
    for (const f of failures) lines.push(`- round ${f.round}, ${f.load}, ${f.client}: ${f.run.error ?? "failed"}`);
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
