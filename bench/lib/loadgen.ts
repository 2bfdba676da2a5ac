// Building and driving the C load generator (bench/loadgen.c).
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { startPinned, stop } from "./proc.js";

/** The generator's JSON result line; see print_result() in loadgen.c. */
export interface LoadgenResult {
  mode: string;
  opened: number;
  connections: number;
  messages: number;
  msgs_per_s: number;
  mb_per_s: number;
  deliveries_per_s?: number;
  /** Broadcast only: messages sent, and receivers missing the oldest outstanding one. */
  sent?: number;
  lagging?: number;
  lat_p50_us: number;
  lat_p99_us: number;
  gen_cpu: number;
  gen_cpu_total_s: number;
  echo_errors: number;
  protocol_errors: number;
  connect_errors: number;
  closed_by_server: number;
  stalled: boolean;
  errors: number;
}

export const LOADGEN_CPU = 1;

export function loadgenPath(root: string): string {
  return path.join(root, "bench", "bin", "loadgen");
}

/** Build bench/bin/loadgen when it is missing or older than its source. */
export function ensureLoadgen(root: string): void {
  const bin = loadgenPath(root);
  const src = path.join(root, "bench", "loadgen.c");
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return;
  console.log("building bench/bin/loadgen ...");
  execFileSync(path.join(root, "bench", "build.sh"), { stdio: "inherit" });
}

function parseResult(stdout: string, stderr: string): LoadgenResult {
  const last = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as LoadgenResult;
  } catch {
    throw new Error(`load generator printed no result: ${stderr.trim() || stdout.trim() || "(nothing)"}`);
  }
}

/** Why a result does not count, or undefined when it does. */
export function resultProblem(r: LoadgenResult): string | undefined {
  if (r.errors > 0 || r.opened < r.connections) {
    return (
      `errors: echo ${r.echo_errors}, protocol ${r.protocol_errors}, connect ${r.connect_errors}, ` +
      `closed by server ${r.closed_by_server}${r.stalled ? ", stalled" : ""}; opened ${r.opened}/${r.connections}`
    );
  }
  if (r.mode === "broadcast" && r.messages === 0) {
    return `no broadcast completed: ${r.sent ?? "?"} sent, ${r.lagging ?? "?"} receivers never got the oldest`;
  }
  if (r.mode !== "idle" && r.messages === 0) return "no message completed";
  return undefined;
}

interface Collected {
  stdout: string;
  stderr: string;
}

function spawnLoadgen(root: string, args: string[], onLine?: (line: string) => void) {
  const started = startPinned(loadgenPath(root), args, LOADGEN_CPU, root);
  const collected: Collected = { stdout: "", stderr: "" };
  let partial = "";
  started.child.stdout?.on("data", (chunk: Buffer) => {
    collected.stdout += chunk.toString();
    partial += chunk.toString();
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      onLine?.(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  });
  started.child.stderr?.on("data", (chunk: Buffer) => (collected.stderr += chunk.toString()));
  return { started, collected };
}

/**
 * Run a timed scenario (echo or broadcast) to completion. `onWindow` is told when the
 * measurement window starts and ends, so the server's CPU can be read over the same span.
 */
export async function runLoadgen(root: string, args: string[], onWindow?: (edge: "start" | "end") => void): Promise<LoadgenResult> {
  const { started, collected } = spawnLoadgen(root, args, (line) => {
    if (line.includes('"event":"measuring"')) onWindow?.("start");
    else if (line.includes('"event":"measured"')) onWindow?.("end");
  });
  await started.exited;
  return parseResult(collected.stdout, collected.stderr);
}

/**
 * Idle mode: once the generator reports every connection open, call `whileHeld` (it measures
 * the server), then release the connections and return the generator's result.
 */
export async function runIdle(root: string, args: string[], whileHeld: (opened: number) => Promise<void>): Promise<LoadgenResult> {
  let onReady: (opened: number) => void = () => {};
  const ready = new Promise<number>((resolve) => (onReady = resolve));
  const { started, collected } = spawnLoadgen(root, args, (line) => {
    if (line.includes('"event":"ready"')) onReady((JSON.parse(line) as { opened: number }).opened);
  });
  const outcome = await Promise.race([ready.then((n) => ({ opened: n })), started.exited.then(() => undefined)]);
  if (outcome) {
    try {
      await whileHeld(outcome.opened);
    } finally {
      await stop(started);
    }
  }
  await started.exited;
  return parseResult(collected.stdout, collected.stderr);
}
