// The options every side benchmark (bench:client, bench:deflate) takes: --quick, --rounds,
// --warmup, --duration and --help.
import { parseArgs } from "node:util";

export interface RoundOptions {
  rounds: number;
  warmupS: number;
  durationS: number;
}

/** Parses process.argv; prints `usage` and exits on --help. */
export function parseRoundOptions(usage: string, defaults: { quick: RoundOptions; full: RoundOptions }): RoundOptions {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const base = values.quick ? defaults.quick : defaults.full;
  return {
    rounds: Number(values.rounds ?? base.rounds),
    warmupS: Number(values.warmup ?? base.warmupS),
    durationS: Number(values.duration ?? base.durationS),
  };
}
