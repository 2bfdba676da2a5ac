// Command-line options of `npm run bench`.
import { parseArgs } from "node:util";
import { SCENARIO_IDS, type ScenarioId } from "./scenarios.js";
import { SERVER_NAMES, type ServerName } from "./servers.js";

export interface BenchOptions {
  quick: boolean;
  deflate: boolean;
  rounds: number;
  warmupS: number;
  durationS: number;
  /** Connections for the idle scenario (f). */
  idleConnections: number;
  /** How long idle connections sit before the server's RSS is read. */
  idleSettleMs: number;
  servers: ServerName[];
  scenarios: ScenarioId[];
}

export const USAGE = `usage: npm run bench -- [options]
  --quick               one short round (about a minute), for CI: exit 1 on any failure
  --servers LIST        comma-separated subset of ${SERVER_NAMES.join(",")}
  --scenarios LIST      comma-separated subset of ${SCENARIO_IDS.join(",")}
  --rounds N            full rounds, servers interleaved in each (default 3, quick 1)
  --duration S          measured seconds per run (default 3, quick 0.7)
  --warmup S            warmup seconds per run (default 1, quick 0.3)
  --idle-connections N  connections in scenario f (default 10000, quick 2000)
  --deflate             every connection negotiates permessage-deflate (the generator offers it as
                        browsers do and compresses what it sends); raw TCP sits out`;

function list<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] {
  if (value === undefined) return [...allowed];
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new Error(`unknown ${what} "${item}"; choose from ${allowed.join(",")}`);
    }
  }
  // Keep the canonical order whatever order the user typed.
  return allowed.filter((a) => items.includes(a));
}

function positive(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${what} needs a positive number, got "${value}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: "boolean", default: false },
      deflate: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      servers: { type: "string" },
      scenarios: { type: "string" },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      "idle-connections": { type: "string" },
    },
  });
  if (values.help) return "help";
  const quick = values.quick ?? false;
  return {
    quick,
    deflate: values.deflate ?? false,
    rounds: Math.round(positive(values.rounds, quick ? 1 : 3, "rounds")),
    durationS: positive(values.duration, quick ? 0.7 : 3, "duration"),
    warmupS: positive(values.warmup, quick ? 0.3 : 1, "warmup"),
    idleConnections: Math.round(positive(values["idle-connections"], quick ? 2000 : 10_000, "idle-connections")),
    idleSettleMs: quick ? 300 : 1500,
    servers: list(values.servers, SERVER_NAMES, "server"),
    scenarios: list(values.scenarios, SCENARIO_IDS, "scenario"),
  };
}
