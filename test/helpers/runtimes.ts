// The other JavaScript runtimes hawser is smoke-tested under, from their npm packages (both
// devDependencies, so `npm ci` installs them): Bun from @oven/bun-linux-x64-baseline, Deno
// from @deno/linux-x64-glibc.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, type Launcher } from "./cli.js";
import { requirePeer, type Peer } from "./peers.js";

export interface Runtime extends Launcher {
  readonly name: string;
  /** Arguments before the script: `deno run --allow-...`. */
  readonly runArgs: readonly string[];
  readonly peer: Peer;
  /** "Bun 1.4.5", for test diagnostics. */
  version(): string;
}

function runtime(name: string, executable: string, versionArgs: string[], runArgs: string[], env: Record<string, string>, installHint: string): Runtime {
  const versionOf = (): string => spawnSync(executable, versionArgs, { encoding: "utf8", timeout: 10_000, env: { ...process.env, ...env } }).stdout.trim();
  return {
    name,
    executable,
    runArgs,
    env,
    peer: requirePeer(name, () => existsSync(executable) && versionOf() !== "", installHint),
    version: () => {
      const first = versionOf().split("\n")[0] ?? "";
      return first.toLowerCase().startsWith(name.toLowerCase()) ? first : `${name} ${first}`;
    },
  };
}

export const BUN = runtime(
  "Bun",
  join(ROOT, "node_modules/@oven/bun-linux-x64-baseline/bin/bun"),
  ["--version"],
  [],
  {},
  "run `npm ci` (the devDependency @oven/bun-linux-x64-baseline ships it)",
);

export const DENO = runtime(
  "Deno",
  join(ROOT, "node_modules/@deno/linux-x64-glibc/deno"),
  ["--version"],
  // All a server and a client need (the README says the same): the network, and for the client
  // the environment, where it looks for HTTP_PROXY and the like.
  ["run", "--allow-net", "--allow-env"],
  // No look-up of a newer Deno on the internet, and never a permission prompt on a terminal.
  { DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
  "run `npm ci` (the devDependency @deno/linux-x64-glibc ships it)",
);
