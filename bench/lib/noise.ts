// How busy the machine was with work that is not the benchmark: on a shared 2-core machine a
// build or a test run elsewhere steals CPU from the server or the generator and shows up as
// spread. Measuring it says which runs to distrust.
import { readFileSync } from "node:fs";

const TICKS_PER_S = 100; // USER_HZ on Linux, what /proc reports times in

export interface CpuSnapshot {
  atMs: number;
  /** Machine-wide CPU seconds in user, nice, system and steal (hypervisor) time. */
  machineS: number;
  /** CPU seconds of the server, and of this harness. */
  serverS: number;
  selfS: number;
}

function machineSeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: interrupt time is the network stack serving
  // the benchmark itself, so it stays out; steal is other tenants of the host, so it counts.
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = f;
  return (user + nice + system + steal) / TICKS_PER_S;
}

/** utime + stime of a process in seconds, 0 when it is gone. */
export function processSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state is index 0, so utime (field 14) is index 11.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

function selfSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function snapshot(serverPid: number | undefined): CpuSnapshot {
  return { atMs: Date.now(), machineS: machineSeconds(), serverS: processSeconds(serverPid), selfS: selfSeconds() };
}

/**
 * CPU cores' worth of other work between two snapshots: machine time minus the server, this
 * harness and the generator (whose total it reports itself, since it has exited by now).
 */
export function otherCpu(before: CpuSnapshot, after: CpuSnapshot, generatorS: number): number {
  const wallS = (after.atMs - before.atMs) / 1000;
  if (wallS <= 0) return 0;
  const known = after.serverS - before.serverS + (after.selfS - before.selfS) + generatorS;
  const other = after.machineS - before.machineS - known;
  return Math.max(0, other / wallS);
}
