// The servers under test and how to start each one for a scenario.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { BENCH_CLI_LIMITS } from "./limits.js";
import type { Scenario, ScenarioKind } from "./scenarios.js";

export type ServerName = "hawser" | "hawser-ws" | "ws" | "bun" | "raw" | "floor" | "floor-handler";
export const SERVER_NAMES: readonly ServerName[] = ["hawser", "hawser-ws", "ws", "bun", "raw", "floor", "floor-handler"];

export interface Command {
  file: string;
  args: string[];
}

export interface ServerSpec {
  name: ServerName;
  /** Why this server cannot run at all here, or undefined when it can. */
  unavailable(kind: ScenarioKind): string | undefined;
  supports(scenario: Scenario): boolean;
  command(kind: ScenarioKind, port: number, deflate: boolean): Command;
  /** Extra load generator arguments this server needs (none for most). */
  loadgenArgs(kind: ScenarioKind): string[];
}

export function serverSpecs(root: string): Record<ServerName, ServerSpec> {
  const node = process.execPath;
  const script = (name: string): string => path.join(root, "bench", "servers", name);
  const bun = path.join(root, "node_modules", "@oven", "bun-linux-x64-baseline", "bin", "bun");
  const hawserCli = path.join(root, "dist", "cli.js");
  const port = (p: number): string[] => ["--port", String(p)];
  const deflateFlag = (on: boolean): string[] => (on ? ["--deflate"] : []);

  return {
    hawser: {
      name: "hawser",
      unavailable: (kind) => {
        if (kind === "broadcast") {
          return existsSync(path.join(root, "src", "index.ts")) ? undefined : "not built (src/index.ts missing)";
        }
        return existsSync(hawserCli) ? undefined : "not built (dist/cli.js missing; run npm run build)";
      },
      supports: () => true,
      command: (kind, p, deflate) =>
        kind === "broadcast"
          ? { file: node, args: ["--import", "tsx", script("hawser-broadcast.ts"), ...port(p), ...deflateFlag(deflate)] }
          : { file: node, args: [hawserCli, "echo", ...(deflate ? [] : ["--no-deflate"]), ...BENCH_CLI_LIMITS, ...port(p)] },
      // `hawser echo` is the seed's example: it greets with "hello" and " world!" before echoing.
      loadgenArgs: (kind) => (kind === "broadcast" ? [] : ["--greeting", "2"]),
    },
    // The same ws-API server as ws's row, on hawser/ws (the built package, as a user imports it).
    "hawser-ws": {
      name: "hawser-ws",
      unavailable: () => hawserWsMissing(root),
      supports: () => true,
      command: (_kind, p, deflate) => ({ file: node, args: [script("hawser-ws-echo.mjs"), ...port(p), ...deflateFlag(deflate)] }),
      loadgenArgs: () => [],
    },
    ws: {
      name: "ws",
      unavailable: () => undefined,
      supports: () => true,
      command: (_kind, p, deflate) => ({ file: node, args: [script("ws-echo.mjs"), ...port(p), ...deflateFlag(deflate)] }),
      loadgenArgs: () => [],
    },
    bun: {
      name: "bun",
      unavailable: () => (existsSync(bun) ? undefined : `Bun binary missing at ${bun}`),
      supports: () => true,
      command: (_kind, p, deflate) => ({ file: bun, args: [script("bun-echo.js"), ...port(p), ...deflateFlag(deflate)] }),
      loadgenArgs: () => [],
    },
    raw: {
      name: "raw",
      unavailable: () => undefined,
      supports: (scenario) => scenario.rawMeaningful,
      command: (_kind, p) => ({ file: node, args: [script("raw-echo.mjs"), ...port(p)] }),
      loadgenArgs: () => ["--raw"],
    },
    // The least a JavaScript WebSocket echo on node:net can do (see floor-echo.mjs): where
    // hawser's ratio to raw falls short, this shows how much of the gap any Node library has.
    // Small messages only: its plain unmasking loop is no yardstick for bulk transfers.
    floor: {
      name: "floor",
      unavailable: () => undefined,
      supports: (scenario) => scenario.size <= 512,
      command: (_kind, p) => ({ file: node, args: [script("floor-echo.mjs"), ...port(p)] }),
      loadgenArgs: () => [],
    },
    // The floor plus what handing each message to user code costs at the least (a Buffer and
    // an event per message, a handler call, a send() that frames into a batch): the least any
    // library with a per-message API, hawser's included, can do. Echo only.
    "floor-handler": {
      name: "floor-handler",
      unavailable: () => undefined,
      supports: (scenario) => scenario.kind === "echo" && scenario.size <= 512,
      command: (_kind, p) => ({ file: node, args: [script("floor-echo.mjs"), "--handler", ...port(p)] }),
      loadgenArgs: () => [],
    },
  };
}

/** Why `import "hawser/ws"` would fail from this checkout, or undefined when it resolves. */
function hawserWsMissing(root: string): string | undefined {
  try {
    createRequire(path.join(root, "package.json")).resolve("hawser/ws");
    return undefined;
  } catch {
    return "hawser/ws does not resolve (not exported by package.json, or not built: run npm run build)";
  }
}
