// The benchmark table's ratios: within each round first, then the median over rounds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildRows, pairedRatio, type RunRecord } from "../../bench/lib/report.js";
import { SCENARIOS, type Measurement } from "../../bench/lib/scenarios.js";
import type { ServerName } from "../../bench/lib/servers.js";

const b = SCENARIOS.find((s) => s.id === "b")!;
const msgs = b.metrics[0]!;

function run(server: ServerName, round: number, msgsPerSec: number, ok = true): RunRecord {
  const measurement = { msgsPerSec } as Measurement;
  return ok ? { round, scenario: "b", server, ok, measurement } : { round, scenario: "b", server, ok, error: "failed" };
}

test("a ratio is the median of the ratios within each round, not the ratio of the medians", () => {
  // The machine slows down in round 3, for whichever server runs then: per round hawser is
  // half of raw twice, and twice raw once.
  const runs = [run("hawser", 1, 50), run("raw", 1, 100), run("hawser", 2, 100), run("raw", 2, 200), run("hawser", 3, 300), run("raw", 3, 150)];
  assert.equal(pairedRatio(runs, msgs, "hawser", "raw"), 0.5);
  // The ratio of the medians would say 100 / 150.
  const [row] = buildRows([b], ["hawser", "raw"], runs);
  assert.equal(row!.ratios["hawser/raw"], 0.5);
  assert.equal(row!.values.hawser!.median, 100);
  assert.equal(row!.values.raw!.median, 150);
});

test("rounds where either server has no figure are left out of its ratios", () => {
  const runs = [run("hawser", 1, 75), run("raw", 1, 100), run("hawser", 2, 10), run("raw", 2, 100, false), run("hawser", 3, 125), run("raw", 3, 100)];
  assert.equal(pairedRatio(runs, msgs, "hawser", "raw"), 1); // 0.75 and 1.25; round 2 (0.1) is left out
  assert.equal(pairedRatio(runs, msgs, "hawser", "floor"), undefined);
});
