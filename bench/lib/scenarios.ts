// The benchmark scenarios of issue 6, (a) to (g), and the numbers each one reports.

export type ScenarioId = "a" | "b" | "c" | "d" | "e" | "f" | "g";
export const SCENARIO_IDS: readonly ScenarioId[] = ["a", "b", "c", "d", "e", "f", "g"];

export type ScenarioKind = "echo" | "idle" | "broadcast";

/** Numbers one run yields; a scenario shows a subset of them. */
export interface Measurement {
  msgsPerSec?: number;
  mbPerSec?: number;
  p50Us?: number;
  p99Us?: number;
  deliveriesPerSec?: number;
  rssPerConnKb?: number;
  /** Server CPU µs per message echoed (per delivery in broadcast), over the measurement window. */
  cpuUsPerMsg?: number;
  /** CPU the generator used per second of the window: near 1.0 means it, not the server, was the limit. */
  genCpu?: number;
}
export type MetricKey = Exclude<keyof Measurement, "genCpu">;

export interface Metric {
  key: MetricKey;
  label: string;
  better: "higher" | "lower";
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  kind: ScenarioKind;
  /** For the idle scenario (f) the harness substitutes --idle-connections (2,000 in --quick). */
  connections: number;
  size: number;
  inflight: number;
  opcode: "text" | "binary";
  metrics: Metric[];
  /** A raw TCP echo has no framing, handshake or topics; it is a ceiling only for echo and memory. */
  rawMeaningful: boolean;
}

const msgs: Metric = { key: "msgsPerSec", label: "msg/s", better: "higher" };
const cpu: Metric = { key: "cpuUsPerMsg", label: "server CPU µs/msg", better: "lower" };
const mbps: Metric = { key: "mbPerSec", label: "MB/s", better: "higher" };

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "a",
    title: "1 conn, 32 B, 1 in flight",
    kind: "echo",
    connections: 1,
    size: 32,
    inflight: 1,
    opcode: "text",
    rawMeaningful: true,
    metrics: [{ key: "p50Us", label: "p50 µs", better: "lower" }, { key: "p99Us", label: "p99 µs", better: "lower" }, msgs, cpu],
  },
  {
    id: "b",
    title: "100 conns, 32 B, 16 in flight",
    kind: "echo",
    connections: 100,
    size: 32,
    inflight: 16,
    opcode: "text",
    rawMeaningful: true,
    metrics: [msgs, cpu],
  },
  {
    id: "c",
    title: "1,000 conns, 512 B, 1 in flight",
    kind: "echo",
    connections: 1000,
    size: 512,
    inflight: 1,
    opcode: "text",
    rawMeaningful: true,
    metrics: [msgs, cpu],
  },
  {
    id: "d",
    title: "10 conns, 64 KiB, 1 in flight",
    kind: "echo",
    connections: 10,
    size: 64 * 1024,
    inflight: 1,
    opcode: "binary",
    rawMeaningful: true,
    metrics: [mbps, msgs, cpu],
  },
  {
    id: "e",
    title: "4 conns, 4 MiB, 1 in flight",
    kind: "echo",
    connections: 4,
    size: 4 * 1024 * 1024,
    inflight: 1,
    opcode: "binary",
    rawMeaningful: true,
    metrics: [mbps],
  },
  {
    id: "f",
    title: "10,000 idle conns",
    kind: "idle",
    connections: 10_000,
    size: 32,
    inflight: 1,
    opcode: "text",
    rawMeaningful: true,
    metrics: [{ key: "rssPerConnKb", label: "RSS KiB/conn", better: "lower" }],
  },
  {
    id: "g",
    title: "broadcast 256 B to 1,000 conns, 16 in flight",
    kind: "broadcast",
    connections: 1000,
    size: 256,
    inflight: 16,
    opcode: "text",
    rawMeaningful: false,
    metrics: [
      { key: "deliveriesPerSec", label: "deliveries/s", better: "higher" },
      { key: "cpuUsPerMsg", label: "server CPU µs/delivery", better: "lower" },
    ],
  },
];
