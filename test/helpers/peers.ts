// External peers (Python, Chromium, ...) the interop tests need. When one is missing, the tests
// that need it are skipped with a message saying what to install, except under CI (CI set),
// where a missing peer is a failure: CI must never pass by skipping.
import { spawnSync } from "node:child_process";

export interface Peer {
  readonly name: string;
  readonly available: boolean;
  /**
   * For a test's or describe's options: a skip message when the peer is missing outside CI,
   * false otherwise. Under CI the tests run and `assertAvailable()` fails them.
   */
  readonly skip: string | false;
  /** Throws, with the install hint, when the peer is missing. Call it first in each test. */
  assertAvailable(): void;
}

/**
 * Checks for an external peer once. `check` returns true when it is usable; `installHint`
 * says exactly what to install, e.g. "apt-get install python3-websockets".
 */
export function requirePeer(name: string, check: () => boolean, installHint: string): Peer {
  let available: boolean;
  try {
    available = check();
  } catch {
    available = false;
  }
  const message = `${name} is not available: ${installHint}`;
  const inCi = Boolean(process.env.CI) && process.env.CI !== "false";
  return {
    name,
    available,
    skip: available || inCi ? false : message,
    assertAvailable() {
      if (!available) throw new Error(`${message} (tests that need it fail under CI instead of skipping).`);
    },
  };
}

/** Debian's python3 (not a pyenv one on PATH, which lacks the websockets package). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Debian's python3-websockets, driven through SYSTEM_PYTHON. */
export function pythonWebsockets(): Peer {
  return requirePeer(
    "python3-websockets",
    () =>
      spawnSync(SYSTEM_PYTHON, ["-c", "import websockets, sys; sys.exit(0 if int(websockets.__version__.split('.')[0]) >= 10 else 1)"], {
        timeout: 10_000,
      }).status === 0,
    "install Debian's python3-websockets (10 or newer): sudo apt-get install python3-websockets",
  );
}
