// Proof that the implementation under test carried a connection. Socket.IO, graphql-ws and
// tRPC all load `ws` themselves (engine.io falls back to ws's server when `wsEngine` is not
// used), so a test passing is not enough: the socket the library holds must be ours.
import assert from "node:assert/strict";
import RealWebSocket from "ws";
import { IMPLEMENTATION, WebSocket } from "./implementation.js";

/** Fails unless `socket` is a WebSocket of IMPLEMENTATION (and, unless that is ws, not ws's). */
export function assertCarriedByImplementation(socket: unknown, what: string): void {
  assert.ok(socket instanceof WebSocket, `${what} should be a WebSocket of ${IMPLEMENTATION}, not ${describe(socket)}`);
  if (IMPLEMENTATION !== "ws") assert.ok(!(socket instanceof RealWebSocket), `${what} is one of ws's own sockets, not ${IMPLEMENTATION}'s`);
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return String(value);
  return `an instance of ${value.constructor?.name ?? "an unnamed class"}`;
}
