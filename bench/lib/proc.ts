// Child processes: start pinned to a CPU, wait for a port, read RSS, stop.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

/** Pinning needs taskset and two CPUs; without them everything runs unpinned (and says so). */
export const canPin: boolean = os.availableParallelism() >= 2 && spawnSync("taskset", ["-c", "0", "true"]).status === 0;

export interface Started {
  child: ChildProcess;
  /** The last few KiB the process printed, for error messages. */
  output(): string;
  exited: Promise<number | null>;
}

/** Children still running, so an interrupted harness can end exactly the processes it started. */
const running = new Set<ChildProcess>();

export function killRunning(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Start file args on `cpu`. taskset execs the command, so child.pid is the program's own pid. */
export function startPinned(file: string, args: string[], cpu: number, cwd: string): Started {
  const [f, a] = canPin ? ["taskset", ["-c", String(cpu), file, ...args]] : [file, args];
  const child = spawn(f, a, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.on("exit", () => running.delete(child));
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4096);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", (err) => {
      keep(Buffer.from(String(err)));
      resolve(-1);
    });
  });
  return { child, output: () => tail.trim(), exited };
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** The telling part of a crash: the first line naming an error, else the last line. */
export function gist(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /\b[A-Za-z]*Error\b|\berror:/.test(l)) ?? lines.at(-1) ?? "(no output)";
}

/** Wait until something accepts on the port; servers differ in how they say "ready", TCP does not. */
export async function waitForPort(port: number, started: Started, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void started.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`exited with code ${exitCode}: ${gist(started.output())}`);
    if (await tryConnect(port)) return;
    await sleep(25);
  }
  throw new Error(`did not listen on port ${port} within ${timeoutMs} ms: ${gist(started.output())}`);
}

/** SIGTERM, then SIGKILL if it lingers. */
export async function stop(started: Started, graceMs = 2000): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  started.child.kill("SIGTERM");
  const timer = setTimeout(() => started.child.kill("SIGKILL"), graceMs);
  await started.exited;
  clearTimeout(timer);
}

/** Resident set size in KiB from /proc/PID/status (VmRSS), the same for Node and Bun. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}
