// Driving bench/node-loadgen.mjs (the JavaScript load generator) against one server process:
// start the server pinned to CPU 0, the generator pinned to CPU 1, collect both sides' CPU.
import path from "node:path";
import { LOADGEN_CPU } from "./loadgen.js";
import { otherCpu, snapshot } from "./noise.js";
import { freePort, gist, startPinned, stop, waitForPort } from "./proc.js";

export const SERVER_CPU = 0;

/** node-loadgen.mjs's JSON line. CPU in seconds; the window fields exist when all connections opened. */
export interface NodeLoadgenResult {
  client: string;
  deflate: boolean;
  opened: number;
  connections: number;
  messages: number;
  seconds?: number;
  msgs_per_s?: number;
  mb_per_s?: number;
  /** Generator CPU per wall second in the window (near 1.0: the generator set the pace). */
  gen_cpu?: number;
  gen_cpu_s?: number;
  gen_cpu_total_s: number;
  /** Server CPU seconds in the window, from /proc/PID/stat. */
  server_cpu_s?: number;
  /** Server socket bytes read + written in the window (/proc/PID/io); NaN (null in JSON) when unreadable. */
  wire_bytes?: number | null;
  echo_errors: number;
  protocol_errors: number;
  connect_errors: number;
  closed_by_server: number;
  negotiation_errors: number;
  /** Connections whose greeting (--greeting N messages) did not arrive within 10 s. */
  greeting_missing: number;
  errors: number;
}

export interface ServerCommand {
  file: string;
  args: string[];
}

export interface NodeRun {
  ok: boolean;
  error?: string;
  result?: NodeLoadgenResult;
  /** Cores' worth of unrelated work on the machine during the run (see noise.ts). */
  otherCpu?: number;
}

/**
 * Start the server (its command gets `--port N` appended), run the generator with `genArgs`
 * (`--port` and `--server-pid` are added), stop the server. Never throws: failures are in `error`.
 */
export async function runNodeLoadgen(root: string, server: ServerCommand, genArgs: string[]): Promise<NodeRun> {
  const port = await freePort();
  const started = startPinned(server.file, [...server.args, "--port", String(port)], SERVER_CPU, root);
  try {
    await waitForPort(port, started, 20_000);
    const pid = started.child.pid;
    const before = snapshot(pid);
    const gen = startPinned(
      process.execPath,
      [path.join(root, "bench", "node-loadgen.mjs"), ...genArgs, "--port", String(port), "--server-pid", String(pid)],
      LOADGEN_CPU,
      root,
    );
    let stdout = "";
    gen.child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    await gen.exited;
    const after = snapshot(pid);
    const line = stdout.trim().split("\n").at(-1) ?? "";
    let result: NodeLoadgenResult;
    try {
      result = JSON.parse(line) as NodeLoadgenResult;
    } catch {
      return { ok: false, error: `generator printed no result: ${gist(gen.output())}` };
    }
    const run: NodeRun = { ok: true, result, otherCpu: otherCpu(before, after, result.gen_cpu_total_s) };
    if (started.child.exitCode !== null) return { ...run, ok: false, error: `server exited: ${gist(started.output())}` };
    if (result.errors > 0 || result.opened < result.connections || !result.messages) {
      return {
        ...run,
        ok: false,
        error:
          `opened ${result.opened}/${result.connections}, ${result.messages} messages; errors: echo ${result.echo_errors}, ` +
          `protocol ${result.protocol_errors}, connect ${result.connect_errors}, closed by server ${result.closed_by_server}, ` +
          `negotiation ${result.negotiation_errors}, greeting missing ${result.greeting_missing}`,
      };
    }
    return run;
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await stop(started);
  }
}

/** Round r starts with a different entry, so none always runs first (or last). */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length ? by % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}
