// permessage-deflate interop against peers no one here wrote (ws, python3-websockets): a plan of
// messages a Node-side driver sends and expects back byte for byte, and the checks made on what
// a frame tap saw on the wire. The payload generator is the one the Chromium test's page uses.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { makePayload, type PayloadKind } from "../browser/pages/deflate-echo.js";
import type { TapConnection, TappedMessage } from "./frame-tap.js";
import { KiB, sizeLabel } from "./payloads.js";
import { withTimeout } from "./wait.js";

/** 16 B to 128 KiB, either side of the 1 KiB threshold hawser and ws use by default. */
export const DEFLATE_SIZES = [16, 1000, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 128 * KiB] as const;

/** Senders that compress messages of this many bytes and more, and no smaller ones. */
export const DEFAULT_THRESHOLD = 1024;

/**
 * Noise size for the context-takeover check: small enough for python-websockets' 12-bit
 * windows to reach the previous copy (zlib reaches back window - 262 bytes), large enough to
 * be compressed by every sender.
 */
const NOISE_SIZE = 2 * KiB;

export interface PlannedPayload {
  kind: PayloadKind | "random";
  size: number;
  /** Text goes as a text message, bytes as binary. */
  payload: string | Buffer;
}

/**
 * Every size as compressible text and binary, 64 KiB of random (incompressible) bytes, then
 * the same noise twice: with context takeover the second copy becomes a short back-reference.
 */
export function deflatePlan(): PlannedPayload[] {
  const plan: PlannedPayload[] = [];
  DEFLATE_SIZES.forEach((size, i) => {
    plan.push({ kind: "text", size, payload: makePayload("text", size, 2 * i + 1) as string });
    plan.push({ kind: "binary", size, payload: Buffer.from(makePayload("binary", size, 2 * i + 2)) });
  });
  plan.push({ kind: "random", size: 64 * KiB, payload: randomBytes(64 * KiB) });
  const noise = makePayload("noise", NOISE_SIZE, 99) as string;
  plan.push({ kind: "noise", size: NOISE_SIZE, payload: noise }, { kind: "noise", size: NOISE_SIZE, payload: noise });
  return plan;
}

export function planLabel(item: PlannedPayload, index: number): string {
  return `${item.kind} ${sizeLabel(item.size)} (#${index})`;
}

/** One end of a connection, as the driver uses it: send, then wait for the next message. */
export interface EchoDriver {
  send(data: string | Buffer): void | Promise<void>;
  next(): Promise<{ isBinary: boolean; data: Buffer }>;
}

/** Sends each planned message and checks that the echo is the same type and the same bytes. */
export async function echoPlan(driver: EchoDriver, plan: readonly PlannedPayload[]): Promise<void> {
  for (const [i, item] of plan.entries()) {
    await driver.send(item.payload);
    const echo = await withTimeout(driver.next(), 10_000, `the echo of ${planLabel(item, i)}`);
    const sent = typeof item.payload === "string" ? Buffer.from(item.payload) : item.payload;
    assert.equal(echo.isBinary, typeof item.payload !== "string", `${planLabel(item, i)}: message type`);
    assert.equal(echo.data.length, sent.length, `${planLabel(item, i)}: length`);
    assert.ok(echo.data.equals(sent), `${planLabel(item, i)}: the echo differs from what was sent`);
  }
}

export interface WireExpectations {
  /**
   * The smallest message each side compresses: a number of bytes, or "any" for a peer that
   * compresses what it likes below hawser's threshold (python-websockets compresses everything).
   */
  clientThreshold: number | "any";
  serverThreshold: number | "any";
  /** Whether each side's compressor keeps its context between messages. */
  clientTakeover: boolean;
  serverTakeover: boolean;
}

function describe(messages: readonly TappedMessage[]): string {
  return messages.map((m) => `${m.compressed ? "C" : "-"}${m.wireBytes}`).join(" ");
}

/**
 * Checks what crossed the wire: each planned message once each way (the echo driver waits for
 * every echo, so both directions follow the plan's order), RSV1 on every message at or above
 * the sender's threshold and on none below it (when the sender has one), compressible payloads
 * really shrunk, control frames never compressed, and context takeover as agreed.
 */
export function assertDeflateWire(t: TestContext, wire: TapConnection, plan: readonly PlannedPayload[], expect: WireExpectations): void {
  const directions = [
    { name: "client → server", messages: wire.messagesToServer(), threshold: expect.clientThreshold, takeover: expect.clientTakeover },
    { name: "server → client", messages: wire.messagesToClient(), threshold: expect.serverThreshold, takeover: expect.serverTakeover },
  ];
  for (const { name, messages, threshold, takeover } of directions) {
    t.diagnostic(`${name}: ${describe(messages)}`);
    assert.equal(messages.length, plan.length, `${name}: one message per planned message`);
    for (const [i, item] of plan.entries()) {
      const message = messages[i]!;
      const label = `${name}, ${planLabel(item, i)}`;
      assert.equal(message.opcode, typeof item.payload === "string" ? 1 : 2, `${label}: opcode`);
      if (item.size >= DEFAULT_THRESHOLD) assert.equal(message.compressed, true, `${label}: RSV1 expected`);
      if (threshold !== "any") assert.equal(message.compressed, item.size >= threshold, `${label}: compressed only from ${threshold} bytes`);
      if ((item.kind === "text" || item.kind === "binary") && item.size >= DEFAULT_THRESHOLD) {
        assert.ok(message.wireBytes < item.size / 2, `${label}: ${message.wireBytes} bytes on the wire is not compression`);
      }
    }
    const [first, second] = messages.slice(-2) as [TappedMessage, TappedMessage];
    t.diagnostic(`${name}: the same noise twice took ${first.wireBytes} then ${second.wireBytes} bytes`);
    if (takeover) assert.ok(second.wireBytes < first.wireBytes / 4, `${name}: with context takeover the second copy should be tiny`);
    else assert.ok(second.wireBytes > first.wireBytes * 0.9, `${name}: without context takeover the second copy should cost as much as the first`);
  }
  for (const frame of [...wire.toServer, ...wire.toClient]) {
    if (frame.opcode >= 8) assert.equal(frame.rsv1, false, "control frames are never compressed");
  }
}

/** Checks the agreed Sec-WebSocket-Extensions: permessage-deflate, with or without each no_context_takeover. */
export function assertAgreed(agreed: string, expect: { serverNoContextTakeover: boolean; clientNoContextTakeover?: boolean }): void {
  const params = agreed.split(";").map((part) => part.trim());
  assert.equal(params[0], "permessage-deflate", `agreed: ${agreed}`);
  assert.equal(params.includes("server_no_context_takeover"), expect.serverNoContextTakeover, `server_no_context_takeover in ${JSON.stringify(agreed)}`);
  if (expect.clientNoContextTakeover !== undefined) {
    assert.equal(params.includes("client_no_context_takeover"), expect.clientNoContextTakeover, `client_no_context_takeover in ${JSON.stringify(agreed)}`);
  }
}
