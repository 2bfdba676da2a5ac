// Node's built-in WebSocket (undici's, global since Node 22) as a test peer. It runs in a child
// process of the same Node binary (test/peers/node-websocket-client.ts), so the tests run on every
// Node line: on Node 20 the child gets --experimental-websocket, the flag that enables it there.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { NodeWebSocketReport } from "../peers/node-websocket-client.js";
import { runForJson } from "./cli.js";
import { requirePeer, type Peer } from "./peers.js";

export type { NodeWebSocketClose, NodeWebSocketEcho, NodeWebSocketReport } from "../peers/node-websocket-client.js";

const SCRIPT = fileURLToPath(new URL("../peers/node-websocket-client.ts", import.meta.url));

/** Node 20 has the global WebSocket behind a flag; from 22 on it is there by default. */
export const NODE_WEBSOCKET_FLAGS: readonly string[] = typeof globalThis.WebSocket === "function" ? [] : ["--experimental-websocket"];

/** The Node running the tests, with its global WebSocket enabled. */
export function nodeWebSocketPeer(): Peer {
  return requirePeer(
    `Node ${process.version}'s global WebSocket`,
    () =>
      spawnSync(process.execPath, [...NODE_WEBSOCKET_FLAGS, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"], { timeout: 10_000 }).status === 0,
    "run the tests on Node 20.10 or newer (Node 20 needs --experimental-websocket, which the test passes)",
  );
}

/** The major version of the Node running the tests: undici differs from line to line. */
export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/** Runs one scenario in a child Node with its global WebSocket; fails with the child's stderr. */
export async function runNodeWebSocket(args: string[], timeoutMs = 30_000): Promise<NodeWebSocketReport> {
  const childArgs = [...NODE_WEBSOCKET_FLAGS, "--no-warnings", "--import", "tsx", SCRIPT, ...args];
  return (await runForJson(process.execPath, childArgs, { what: `node-websocket-client.ts ${args[0] ?? ""}`, timeoutMs })) as NodeWebSocketReport;
}
