// Results: one record per run, summarized into a Markdown table of medians, spreads and ratios.
import type { LoadgenResult } from "./loadgen.js";
import type { Measurement, Metric, Scenario, ScenarioId } from "./scenarios.js";
import type { ServerName } from "./servers.js";
import { formatSummary, summarize, type Summary } from "./stats.js";

export interface RunRecord {
  round: number;
  scenario: ScenarioId;
  server: ServerName;
  ok: boolean;
  error?: string;
  measurement?: Measurement;
  loadgen?: LoadgenResult;
  rssBeforeKb?: number;
  rssAfterKb?: number;
  /** Server CPU seconds per wall second over the whole run (connect, warmup, measure). */
  serverCpu?: number;
  /** Cores' worth of unrelated work on the machine during the run (see noise.ts). */
  otherCpu?: number;
}

export interface Meta {
  date: string;
  mode: "quick" | "full";
  rounds: number;
  warmupS: number;
  durationS: number;
  /** Every connection negotiated permessage-deflate (RFC 7692). */
  deflate: boolean;
  pinned: boolean;
  node: string;
  bun?: string;
  cpu: string;
  servers: ServerName[];
  totalS?: number;
}

/** The ratios the table shows, numerator first: hawser against the others, the floors against raw, and hawser's ws face against hawser and ws. */
export const RATIOS: ReadonlyArray<readonly [ServerName, ServerName]> = [
  ["hawser", "ws"],
  ["hawser", "bun"],
  ["hawser", "raw"],
  ["hawser", "floor"],
  ["hawser", "floor-handler"],
  ["floor", "raw"],
  ["floor-handler", "raw"],
  ["hawser-ws", "hawser"],
  ["hawser-ws", "ws"],
];

export interface Row {
  scenario: Scenario;
  metric: Metric;
  values: Partial<Record<ServerName, Summary>>;
  /** Keyed "a/b" (see RATIOS): the median over rounds of a's figure divided by b's in the same round (see `pairedRatio`). */
  ratios: Record<string, number>;
  /** Highest generator CPU share seen in this scenario's runs (1.0 = generator saturated). */
  genCpuMax?: number;
  /** Most unrelated CPU load seen during this scenario's runs. */
  otherCpuMax?: number;
}

/** An error on one line, short enough for a table or a progress line (the JSON keeps it whole). */
export function oneLine(text: string, max = 240): string {
  const flat = text.replace(/\s*\n\s*/g, " | ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function buildRows(scenarios: readonly Scenario[], servers: readonly ServerName[], runs: readonly RunRecord[]): Row[] {
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const mine = runs.filter((r) => r.scenario === scenario.id && r.ok && r.measurement);
    const cpu = mine.map((r) => r.measurement?.genCpu).filter((x): x is number => x !== undefined && x > 0);
    for (const metric of scenario.metrics) {
      const values: Row["values"] = {};
      for (const server of servers) {
        const xs = mine
          .filter((r) => r.server === server)
          .map((r) => r.measurement?.[metric.key])
          .filter((x): x is number => x !== undefined);
        const s = summarize(xs);
        if (s) values[server] = s;
      }
      const ratios: Row["ratios"] = {};
      for (const [a, b] of RATIOS) {
        const ratio = pairedRatio(mine, metric, a, b);
        if (ratio !== undefined) ratios[`${a}/${b}`] = ratio;
      }
      const row: Row = { scenario, metric, values, ratios };
      if (cpu.length) row.genCpuMax = Math.max(...cpu);
      const other = mine.map((r) => r.otherCpu).filter((x): x is number => x !== undefined);
      if (other.length) row.otherCpuMax = Math.max(...other);
      rows.push(row);
    }
  }
  return rows;
}

/**
 * a's figure over b's, as the median over rounds of the ratio within each round. In a round
 * the servers run one after another, so each ratio compares two runs minutes apart at most;
 * a shared machine drifts by 20–30% over a whole run, which a ratio of the two overall medians
 * would take in. Rounds where either server has no figure are left out.
 */
export function pairedRatio(runs: readonly RunRecord[], metric: Metric, a: ServerName, b: ServerName): number | undefined {
  const figure = (server: ServerName, round: number): number | undefined =>
    runs.find((r) => r.server === server && r.round === round && r.ok)?.measurement?.[metric.key];
  const rounds = new Set(runs.map((r) => r.round));
  const perRound: number[] = [];
  for (const round of rounds) {
    const top = figure(a, round);
    const base = figure(b, round);
    if (top !== undefined && base !== undefined && base > 0) perRound.push(top / base);
  }
  return summarize(perRound)?.median;
}

export function markdown(meta: Meta, rows: readonly Row[], runs: readonly RunRecord[]): string {
  const servers = meta.servers;
  const ratios = RATIOS.filter(([a, b]) => servers.includes(a) && servers.includes(b)).map(([a, b]) => `${a}/${b}`);
  const head = ["scenario", "metric", ...servers, ...ratios, "gen CPU", "other CPU"];
  const lines = [
    `# hawser benchmark, ${meta.date}`,
    "",
    `${meta.mode} run${meta.deflate ? " with permessage-deflate on every connection (raw TCP left out)" : ""}: ${meta.rounds} round(s), ${meta.warmupS} s warmup + ${meta.durationS} s measured per run; ` +
      `node ${meta.node}${meta.bun ? `, bun ${meta.bun}` : ""}; ${meta.cpu}; ` +
      (meta.pinned ? "servers on CPU 0, load generator on CPU 1." : "NOT pinned (taskset or a second CPU missing)."),
    "",
    "Cells: median (min–max) over rounds. Ratios: the median over rounds of the ratio within each round (a round runs its servers back to back); ↑ higher is better, ↓ lower is better.",
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
  ];
  for (const row of rows) {
    const arrow = row.metric.better === "higher" ? "↑" : "↓";
    const cells = [
      `(${row.scenario.id}) ${row.scenario.title}`,
      `${row.metric.label} ${arrow}`,
      ...servers.map((s) => formatSummary(row.values[s])),
      ...ratios.map((name) => {
        const r = row.ratios[name];
        return r === undefined ? "–" : `${r.toFixed(2)}×`;
      }),
      row.genCpuMax === undefined ? "–" : row.genCpuMax.toFixed(2),
      row.otherCpuMax === undefined ? "–" : row.otherCpuMax.toFixed(2),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push(
    "",
    "- MB/s: echoed payload bytes per second, one direction, 10^6 bytes. Latency: per-message round trip.",
    "- RSS KiB/conn: (server VmRSS with N idle connections − VmRSS before) / N.",
    "- deliveries/s: messages received per second summed over all broadcast receivers.",
    "- gen CPU: most CPU seconds per second the load generator used in a measurement window (near 1.0 it, not the server, was the limit).",
    "- other CPU: most cores' worth of unrelated work (other processes, hypervisor steal) during a run; above ~0.2 the numbers are disturbed.",
  );
  const disturbed = runs.filter((r) => (r.otherCpu ?? 0) > 0.2).length;
  if (disturbed) lines.push("", `**${disturbed} of ${runs.length} runs had other work above 0.2 cores on the machine; treat their spread with care.**`);
  const failures = runs.filter((r) => !r.ok);
  if (failures.length) {
    lines.push("", "## Failures", "");
    for (const f of failures) lines.push(`- round ${f.round}, (${f.scenario}) ${f.server}: ${oneLine(f.error ?? "failed")}`);
  }
  if (meta.totalS !== undefined) lines.push("", `Total time: ${meta.totalS.toFixed(1)} s.`);
  return lines.join("\n") + "\n";
}
