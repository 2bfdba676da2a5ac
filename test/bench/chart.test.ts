// The benchmark's SVG chart: each bar is a server's median relative to raw node:net (to Bun
// where raw takes no part), taller always better.
import assert from "node:assert/strict";
import { test } from "node:test";
import { svgChart } from "../../bench/lib/chart.js";
import type { Meta, Row } from "../../bench/lib/report.js";
import { SCENARIOS } from "../../bench/lib/scenarios.js";

const meta: Meta = {
  date: "2026-12-04",
  mode: "full",
  rounds: 3,
  warmupS: 1,
  durationS: 3,
  deflate: false,
  pinned: true,
  node: "v20",
  cpu: "test",
  servers: ["hawser", "ws", "bun", "raw"],
};
const summary = (median: number) => ({ median, min: median, max: median, n: 3 });
const scenario = (id: string) => SCENARIOS.find((s) => s.id === id)!;

function barTitles(svg: string): string[] {
  return [...svg.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1]!);
}

test("throughput bars are value / raw; lower-is-better bars are raw / value; broadcast is relative to Bun", () => {
  const rows: Row[] = [
    {
      scenario: scenario("b"),
      metric: scenario("b").metrics[0]!,
      values: { hawser: summary(800), ws: summary(100), raw: summary(1000), bun: summary(1500) },
      ratios: {},
    },
    { scenario: scenario("b"), metric: scenario("b").metrics[1]!, values: { hawser: summary(1.25), raw: summary(1) }, ratios: {} },
    { scenario: scenario("g"), metric: scenario("g").metrics[0]!, values: { hawser: summary(700), bun: summary(1000) }, ratios: {} },
  ];
  const svg = svgChart(meta, rows);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.deepEqual(barTitles(svg), [
    "hawser: 0.80× raw",
    "ws: 0.10× raw",
    "bun: 1.50× raw",
    "raw: 1.00× raw",
    "hawser: 0.80× raw",
    "raw: 1.00× raw",
    "hawser: 0.70× bun",
    "bun: 1.00× bun",
  ]);
  assert.match(svg, /\(g\) deliveries\/s \(to Bun\)/);
  assert.equal((svg.match(/<svg/g) ?? []).length, 1);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
});

test("a row with neither raw nor Bun, or with nothing measured, draws no group", () => {
  const rows: Row[] = [{ scenario: scenario("b"), metric: scenario("b").metrics[0]!, values: { hawser: summary(1), ws: summary(2) }, ratios: {} }];
  assert.deepEqual(barTitles(svgChart(meta, rows)), []);
});
