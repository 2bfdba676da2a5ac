import type { ProtocolViolation } from "../protocol/violations.js";
import { WebSocketProtocolError } from "../transport/types.js";

/** An error the `ws` face emits: `code` is one of the `WS_ERR_*` strings programs match on. */
export type WsError = Error & { code: string; closeCode?: number };

interface Description {
  /** RangeError for what is out of range, Error for bad data (as `ws` has them). */
  range: boolean;
  code: string;
  message: (value: number | undefined) => string;
}

const FRAME = "Invalid WebSocket frame: ";

/** How each violation is reported: the error class, code and message `ws` programs know. */
const DESCRIPTIONS: Partial<Record<ProtocolViolation, Description>> = {
  "reserved-bits": { range: true, code: "WS_ERR_UNEXPECTED_RSV_2_3", message: () => `${FRAME}RSV2 and RSV3 must be clear` },
  "unexpected-rsv1": { range: true, code: "WS_ERR_UNEXPECTED_RSV_1", message: () => `${FRAME}RSV1 must be clear` },
  "invalid-opcode": { range: true, code: "WS_ERR_INVALID_OPCODE", message: (opcode) => `${FRAME}invalid opcode ${opcode ?? "?"}` },
  "unmasked-frame": { range: true, code: "WS_ERR_EXPECTED_MASK", message: () => `${FRAME}MASK must be set` },
  "masked-frame": { range: true, code: "WS_ERR_UNEXPECTED_MASK", message: () => `${FRAME}MASK must be clear` },
  "fragmented-control": { range: true, code: "WS_ERR_EXPECTED_FIN", message: () => `${FRAME}FIN must be set` },
  "control-payload-length": {
    range: true,
    code: "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH",
    message: (length) => `${FRAME}invalid payload length ${length ?? "?"}`,
  },
  "invalid-close-code": { range: true, code: "WS_ERR_INVALID_CLOSE_CODE", message: (code) => `${FRAME}invalid status code ${code ?? "?"}` },
  "invalid-utf8": { range: false, code: "WS_ERR_INVALID_UTF8", message: () => `${FRAME}invalid UTF-8 sequence` },
  "message-too-big": { range: true, code: "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", message: () => "Max payload size exceeded" },
  "frame-length-overflow": {
    range: true,
    code: "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
    message: () => "Unsupported WebSocket frame: payload length > 2^53 - 1",
  },
  // hawser's own: `ws` has no rate limit (the server's `messageRateLimit` with action "close").
  "rate-limit": { range: false, code: "WS_ERR_MESSAGE_RATE_LIMIT", message: () => "Message rate limit exceeded (messageRateLimit)" },
};

/**
 * The error to emit for a failed connection: a protocol violation becomes the error `ws`
 * would raise for it (with `code` and the close code we sent as `closeCode`); anything else
 * (compression that broke, say) is emitted as it is.
 */
export function toWsError(error: Error): Error {
  if (!(error instanceof WebSocketProtocolError)) return error;
  const description = DESCRIPTIONS[error.violation];
  if (description === undefined) {
    // Corrupt compressed data: zlib's own code, as `ws` reports it.
    const code = error.violation === "invalid-compressed-data" ? "Z_DATA_ERROR" : "WS_ERR_INTERNAL";
    return withCodes(new Error(error.message.replace(/^Connection failed with \d+: /, ""), { cause: error }), code, error.closeCode);
  }
  const message = description.message(error.violationValue);
  const made = description.range ? new RangeError(message, { cause: error }) : new Error(message, { cause: error });
  return withCodes(made, description.code, error.closeCode);
}

function withCodes(error: Error, code: string, closeCode: number): WsError {
  const coded = error as WsError;
  coded.code = code;
  coded.closeCode = closeCode;
  return coded;
}

/** The message of the error for data sent once the socket is not open, with the state's name. */
export function notOpenMessage(readyState: number): string {
  return `WebSocket is not open: readyState ${readyState} (${READY_STATE_NAMES[readyState] ?? "UNKNOWN"})`;
}

export const READY_STATE_NAMES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"] as const;
