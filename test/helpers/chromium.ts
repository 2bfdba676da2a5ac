// Debian's chromium, driven by playwright-core, for tests that compare hawser with a real
// browser. One launch per test file: `const browser = await launchChromium()` in `before`,
// `await browser.close()` in `after`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { requirePeer, type Peer } from "./peers.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for a quiet, deterministic headless browser on loopback: no sandbox (containers and
 * CI runners often forbid its namespaces), no background traffic, no QUIC, no GPU.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
];

/** Chromium as a test peer: fails under CI when missing, skips with an install hint otherwise. */
export function chromiumPeer(): Peer {
  return requirePeer(
    "chromium",
    () => existsSync(CHROMIUM_PATH) && spawnSync(CHROMIUM_PATH, ["--version"], { timeout: 10_000 }).status === 0,
    "install Debian's chromium: sudo apt-get install chromium",
  );
}

/** Launches headless Chromium with CHROMIUM_ARGS and any extra flags. Close it when the file's tests are done. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}
