// Leak detection for the hardening tests: every socket, timer and zlib stream created while an
// attack runs must be gone once it is over. `process.getActiveResourcesInfo()` only lists
// resources that keep the process alive, and hawser's timers are unref'd, so an async hook
// counts everything created (ref'd or not) and not yet destroyed.
import assert from "node:assert/strict";
import { createHook } from "node:async_hooks";
import { setImmediate as nextImmediate } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { sleep } from "../helpers/wait.js";

/**
 * A zlib handle reports its end to async hooks only when it is garbage-collected, so a closed
 * one counts as gone once a collection finds nothing referring to it (a leaked one stays).
 */
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** The kinds of async resource a leaked connection would hold on to. */
const TRACKED = new Set(["TCPWRAP", "TLSWRAP", "Timeout", "ZLIB", "SHUTDOWNWRAP"]);

export interface ResourceTracker {
  /** Resources created since `trackResources()` and not destroyed yet, counted by type. */
  live(): Record<string, number>;
  /** Waits (up to `ms`) until every tracked resource created since the start is gone. */
  settled(ms: number, what: string): Promise<void>;
  stop(): void;
}

export function trackResources(): ResourceTracker {
  const live = new Map<number, string>();
  const hook = createHook({
    init(asyncId, type) {
      if (TRACKED.has(type)) live.set(asyncId, type);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  });
  hook.enable();
  const count = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const type of live.values()) out[type] = (out[type] ?? 0) + 1;
    return out;
  };
  return {
    live: count,
    async settled(ms, what) {
      const deadline = Date.now() + ms;
      for (;;) {
        // A timer's destroy hook runs after its callback: let the current ones finish first.
        await nextImmediate();
        await nextImmediate();
        if (live.size === 0) return;
        if ([...live.values()].includes("ZLIB")) collectGarbage();
        if (Date.now() > deadline) {
          assert.fail(`${what}: resources still alive after ${ms} ms: ${JSON.stringify(count())}`);
        }
        await sleep(10);
      }
    },
    stop() {
      hook.disable();
    },
  };
}

/** `process.getActiveResourcesInfo()` as counts by type (order-insensitive, for comparisons). */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) out[type] = (out[type] ?? 0) + 1;
  return out;
}

/**
 * Waits until `activeResources()` has nothing beyond `baseline` (taken before the attack, with
 * the listening server in it); fails with both after `ms`. Fewer is fine: a server closed just
 * before the baseline may still have been listed then.
 */
export async function activeResourcesReturnTo(baseline: Record<string, number>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    await nextImmediate();
    const now = activeResources();
    if (Object.entries(now).every(([type, count]) => count <= (baseline[type] ?? 0))) return;
    if (Date.now() > deadline) {
      assert.fail(`${what}: active resources ${JSON.stringify(now)} did not return to ${JSON.stringify(baseline)} within ${ms} ms`);
    }
    await sleep(10);
  }
}

/** Listener counts of long-lived emitters ("name.event" to count): a leak grows one of them. */
export function listenerCounts(emitters: Record<string, NodeJS.EventEmitter>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, emitter] of Object.entries(emitters)) {
    for (const event of emitter.eventNames()) out[`${name}.${String(event)}`] = emitter.listenerCount(event);
  }
  return out;
}
