import type { Buffer } from "node:buffer";
import type { ConnectionLimits, ConnectionOptions, Role } from "../protocol/connection.js";
import type { MaskSource } from "../protocol/mask.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { WebSocketOpcode } from "../protocol/opcodes.js";
import type { ProtocolViolation } from "../protocol/violations.js";
import type { RateLimit } from "../protocol/rate-budget.js";

export interface TransportLimits {
  /** Largest message accepted (after decompression). Over it the peer gets 1009. */
  maxMessageBytes: number;
  /** Largest single frame accepted; defaults to maxMessageBytes. */
  maxFrameBytes?: number;
  /** How long to wait for the peer's close frame or TCP close before cutting the connection. */
  closeTimeoutMs: number;
  /** Idle time after which a ping is sent; 0 turns keepalive off. */
  pingIntervalMs: number;
  /** How long after a ping the peer may stay silent before the connection is declared dead (1006). */
  pongTimeoutMs: number;
  /**
   * Unsent bytes at which further messages are refused (`send` returns false) until the peer
   * reads: a slow reader costs at most this plus one message. Default 16 MiB.
   */
  maxSendBufferBytes?: number;
  /** How fast the peer may send (frames and bytes per second); none when absent. */
  rateLimit?: RateLimit;
  /** Told each time the peer outruns `rateLimit` (once per pause, or at the close). */
  onRateLimited?: (action: RateLimit["action"]) => void;
}

/** What the transport reports to the socket API above it. */
export interface TransportListener {
  message(opcode: typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary, data: Buffer): void;
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  /** The peer's close frame arrived (code 1005 when it carried none). */
  closeReceived(code: number, reason: string): void;
  /**
   * Something went wrong: a protocol violation, a dead peer, a socket error (`fromSocket`
   * true: the TCP connection itself failed, a reset say). Always followed by `closed`.
   */
  error(error: Error, fromSocket: boolean): void;
  /**
   * The connection was just failed (a protocol violation, or our compression broke): our close
   * frame is written, the TCP connection is still there. `error()` reports the same error again
   * at the end; a listener that reports errors at once uses this instead.
   */
  failedNow?(error: Error): void;
  /** The TCP connection is gone; called exactly once. */
  closed(code: number, reason: string, wasClean: boolean): void;
  /** The send buffer has emptied below the high-water mark after having been above it. */
  drain(): void;
}

export interface TransportOptions extends TransportLimits {
  role: Role;
  maskSource?: MaskSource;
  codec?: MessageCodec;
  /** Answer pings at once (default true); see `ConnectionOptions.autoPong`. */
  autoPong?: boolean;
  /** Check that text is UTF-8 (default true); see `ConnectionOptions.validateUtf8`. */
  validateUtf8?: boolean;
}

/**
 * An error raised for a failure the peer caused, carrying the close code we sent, what was
 * violated, and the opcode, length or close code at fault when there is one.
 */
export class WebSocketProtocolError extends Error {
  constructor(
    message: string,
    readonly closeCode: number,
    readonly violation: ProtocolViolation = "internal",
    readonly violationValue: number | undefined = undefined,
  ) {
    super(message);
    this.name = "WebSocketProtocolError";
  }
}

/** A limit raised for compressed data: incompressible data grows a little when deflated. */
function compressedLimit(limit: number): number {
  return limit + Math.ceil(limit / 1000) + 1024;
}

/** The protocol core's size limits for a connection, compressed or not. */
export function connectionLimits(maxMessageBytes: number, maxFrameBytes: number, compression: boolean): ConnectionLimits {
  return {
    maxMessageBytes,
    // Compressed messages are checked by compressed size in the core and by inflated size in
    // the codec.
    maxCompressedMessageBytes: compression ? compressedLimit(maxMessageBytes) : maxMessageBytes,
    maxFrameBytes: compression ? compressedLimit(maxFrameBytes) : maxFrameBytes,
  };
}

/** The protocol core's options for a transport's connection. */
export function connectionOptions(options: TransportOptions): ConnectionOptions {
  const compression = options.codec !== undefined;
  return {
    role: options.role,
    ...connectionLimits(options.maxMessageBytes, options.maxFrameBytes ?? options.maxMessageBytes, compression),
    compression,
    ...(options.maskSource ? { maskSource: options.maskSource } : {}),
    ...(options.autoPong === false ? { autoPong: false } : {}),
    ...(options.validateUtf8 === false ? { validateUtf8: false } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit, clock: monotonicMs } : {}),
  };
}

/** The rate budget's clock: monotonic, so a wall-clock step cannot stall or flood a budget. */
function monotonicMs(): number {
  return performance.now();
}
