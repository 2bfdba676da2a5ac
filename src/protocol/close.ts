import { Buffer } from "node:buffer";
import { isValidUtf8 } from "./utf8.js";
import type { ProtocolViolation } from "./violations.js";

/** Close codes with a name, RFC 6455 section 7.4.1 and the IANA registry. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  noStatusReceived: 1005,
  abnormalClosure: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  mandatoryExtension: 1010,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  badGateway: 1014,
  tlsHandshake: 1015,
} as const;

/** A close reason must fit a control frame: 125 bytes less the 2-byte code (section 5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Codes a peer may put in a close frame (section 7.4): the registered ones except 1004
 * (reserved), 1005/1006/1015 (only ever reported locally, never sent), and 3000-4999 for
 * libraries and applications. Everything else, 0-999 and 1016-2999 included, is invalid.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export type DecodedClose =
  { ok: true; code: number; reason: string } | { ok: false; failCode: number; message: string; violation: ProtocolViolation; value?: number };

/** Decodes a received close payload (section 5.5.1): empty, or a 2-byte code and UTF-8 reason. */
export function decodeClosePayload(payload: Uint8Array): DecodedClose {
  if (payload.length === 0) return { ok: true, code: CloseCode.noStatusReceived, reason: "" };
  if (payload.length === 1) {
    return { ok: false, failCode: CloseCode.protocolError, message: "close frame with a 1-byte payload", violation: "control-payload-length", value: 1 };
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) {
    return { ok: false, failCode: CloseCode.protocolError, message: `invalid close code ${code}`, violation: "invalid-close-code", value: code };
  }
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) {
    return { ok: false, failCode: CloseCode.invalidPayload, message: "close reason is not valid UTF-8", violation: "invalid-utf8" };
  }
  return { ok: true, code, reason: Buffer.from(reasonBytes.buffer, reasonBytes.byteOffset, reasonBytes.length).toString("utf8") };
}

/**
 * Encodes a close payload to send. `code` undefined sends an empty payload (allowed by
 * section 5.5.1; reported to the peer as 1005). Throws on what the caller got wrong.
 */
export function encodeClosePayload(code: number | undefined, reason = ""): Buffer {
  if (code === undefined) {
    if (reason !== "") throw new TypeError("A close reason needs a close code; pass a code such as 1000.");
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new RangeError(`Close code ${code} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999 (RFC 6455 section 7.4).`);
  }
  const reasonLength = Buffer.byteLength(reason);
  if (reasonLength > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`Close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit a close frame.`);
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, "utf8");
  return payload;
}

/** A close reason of ours from a diagnostic `message`: cut to the bytes a close frame allows. */
export function fitCloseReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}
