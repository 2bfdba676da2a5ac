// The benchmark's table as an SVG bar chart: one group of bars per scenario and metric, each
// server's median relative to the raw node:net echo (to Bun where raw takes no part, as in
// the broadcast), oriented so that taller is always better. A hand-written SVG: no plotting
// library, and the file opens in any browser.
import type { Meta, Row } from "./report.js";
import type { ServerName } from "./servers.js";

const COLORS: Record<ServerName, string> = {
  hawser: "#1f6feb",
  "hawser-ws": "#58a6ff",
  ws: "#d29922",
  bun: "#8957e5",
  raw: "#6e7781",
  floor: "#a8b1bb",
  "floor-handler": "#c9d1d9",
};

const BAR = 14;
const GAP = 4;
const GROUP_GAP = 26;
const TOP = 56;
const PLOT_HEIGHT = 240;
const LEFT = 48;
/** Bars are cut at this multiple of the baseline, with the value written on the bar. */
const CEILING = 2.5;

interface Group {
  label: string;
  base: "raw" | "bun";
  bars: Array<{ server: ServerName; relative: number }>;
}

/** Taller is better: for "higher is better" metrics value/base, for the others base/value. */
function groupOf(row: Row, servers: readonly ServerName[]): Group | null {
  const base: "raw" | "bun" | null = row.values.raw ? "raw" : row.values.bun ? "bun" : null;
  if (base === null) return null;
  const baseline = row.values[base]!.median;
  if (!(baseline > 0)) return null;
  const bars: Group["bars"] = [];
  for (const server of servers) {
    const value = row.values[server]?.median;
    if (value === undefined || !(value > 0)) continue;
    bars.push({ server, relative: row.metric.better === "higher" ? value / baseline : baseline / value });
  }
  return { label: `(${row.scenario.id}) ${row.metric.label}`, base, bars };
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function svgChart(meta: Meta, rows: readonly Row[]): string {
  const groups = rows.map((row) => groupOf(row, meta.servers)).filter((g): g is Group => g !== null && g.bars.length > 0);
  const groupWidth = (g: Group): number => g.bars.length * (BAR + GAP) - GAP;
  const width = LEFT + groups.reduce((sum, g) => sum + groupWidth(g) + GROUP_GAP, 0) + 20;
  const labelOf = (g: Group): string => g.label + (g.base === "bun" ? " (to Bun)" : "");
  // Room for the longest group label, drawn at -35° (about 6 px per character at 11 px).
  const labelHeight = Math.ceil(Math.max(0, ...groups.map((g) => labelOf(g).length)) * 6 * Math.sin((35 * Math.PI) / 180)) + 20;
  const height = TOP + PLOT_HEIGHT + labelHeight + 30;
  const y = (relative: number): number => TOP + PLOT_HEIGHT - (Math.min(relative, CEILING) / CEILING) * PLOT_HEIGHT;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(
    `<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${escape(`hawser benchmark, ${meta.date}${meta.deflate ? " (permessage-deflate)" : ""}`)}</text>`,
  );
  out.push(
    `<text x="${LEFT}" y="34">${escape(`Each bar: a server's median relative to raw node:net (to Bun where raw takes no part); taller is better. ${meta.rounds} round(s), ${meta.mode} run.`)}</text>`,
  );
  // Grid lines at every half of the baseline; the baseline itself dashed.
  for (let tick = 0; tick <= CEILING; tick += 0.5) {
    const ty = y(tick);
    const isBase = tick === 1;
    out.push(
      `<line x1="${LEFT - 4}" x2="${width - 10}" y1="${ty}" y2="${ty}" stroke="${isBase ? "#24292f" : "#d0d7de"}"${isBase ? ' stroke-dasharray="4 3"' : ""}/>`,
    );
    out.push(`<text x="${LEFT - 8}" y="${ty + 4}" text-anchor="end">${tick.toFixed(1)}×</text>`);
  }
  let x = LEFT + GROUP_GAP / 2;
  for (const group of groups) {
    for (const bar of group.bars) {
      const top = y(bar.relative);
      out.push(
        `<rect x="${x}" y="${top}" width="${BAR}" height="${TOP + PLOT_HEIGHT - top}" fill="${COLORS[bar.server]}"><title>${escape(`${bar.server}: ${bar.relative.toFixed(2)}× ${group.base}`)}</title></rect>`,
      );
      const label = bar.relative > CEILING ? `${bar.relative.toFixed(1)}` : bar.relative.toFixed(2);
      out.push(`<text x="${x + BAR / 2}" y="${top - 3}" text-anchor="middle" font-size="8">${label}</text>`);
      x += BAR + GAP;
    }
    const centre = x - GAP - groupWidth(group) / 2;
    const labelY = TOP + PLOT_HEIGHT + 14;
    out.push(`<text x="${centre}" y="${labelY}" text-anchor="end" transform="rotate(-35 ${centre} ${labelY})">${escape(labelOf(group))}</text>`);
    x += GROUP_GAP - GAP;
  }
  // Legend.
  let lx = LEFT;
  const ly = height - 14;
  for (const server of meta.servers) {
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[server]}"/>`);
    out.push(`<text x="${lx + 14}" y="${ly}">${escape(server)}</text>`);
    lx += 24 + server.length * 7;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
