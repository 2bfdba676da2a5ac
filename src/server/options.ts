import type { SecureContextOptions } from "node:tls";
import type { PerMessageDeflateOptions } from "../extensions/deflate-negotiation.js";
import type { SecurityOptions } from "./security-options.js";

/** Limits and timers every hawser socket has; each has a safe default (see `DEFAULT_SOCKET_OPTIONS`). */
export interface SocketOptions {
  /** Largest message accepted, after decompression. Over it the peer gets close code 1009. */
  maxMessageBytes?: number;
  /** Largest single frame accepted (defaults to maxMessageBytes). */
  maxFrameBytes?: number;
  /** Bytes of received messages held for `recv()` before reading from the peer pauses. */
  maxBufferedBytes?: number;
  /**
   * Unsent bytes at which `send` starts refusing messages (returns false) until a slow peer
   * reads: it then costs at most this plus one message. Watch `bufferedAmount` or
   * `await drained()` to stay under it.
   */
  maxSendBufferBytes?: number;
  /** How long to wait for the peer's side of the closing handshake before cutting the connection. */
  closeTimeoutMs?: number;
  /** Send a ping after this long without hearing from the peer; 0 turns keepalive off. */
  pingIntervalMs?: number;
  /** Declare the peer gone (close code 1006) when this long passes after a ping with nothing received. */
  pongTimeoutMs?: number;
}

export interface ServerOptions extends SocketOptions, SecurityOptions {
  /**
   * Negotiate permessage-deflate (RFC 7692) when the client offers it: true (the default) with
   * default settings, options to tune it, false to turn it off. With context takeover each
   * connection keeps about 300 KiB of zlib state; `serverNoContextTakeover` trades ratio for that.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** TCP port for `serve()`; `genericMain` defaults to 8085 like the original. 0 picks a free port. */
  port?: number;
  /** Interface to listen on (default: all). */
  host?: string;
  /** Serve HTTPS / wss:// with this certificate and key. */
  tls?: SecureContextOptions;
  /**
   * With `tls`: serve HTTP/2 and WebSockets over HTTP/2 (RFC 8441) on the same port, beside
   * HTTP/1.1 and its Upgrade. Default false.
   */
  http2?: boolean;
  /** Largest HTTP request head (request line and headers) accepted; larger gets 431. */
  maxHeaderBytes?: number;
  /** Most request headers accepted; more gets 431. */
  maxHeaderCount?: number;
  /** Time allowed from connection to the end of the opening handshake (slow clients get 408). */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_SOCKET_OPTIONS: Required<SocketOptions> = {
  maxMessageBytes: 32 * 1024 * 1024,
  maxFrameBytes: 32 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  maxSendBufferBytes: 16 * 1024 * 1024,
  closeTimeoutMs: 5_000,
  pingIntervalMs: 30_000,
  pongTimeoutMs: 30_000,
};

export const DEFAULT_SERVER_LIMITS = {
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  handshakeTimeoutMs: 10_000,
};

/** The port `genericMain` listens on when none is given, as in the original. */
export const DEFAULT_PORT = 8085;

export function resolveSocketOptions(options: SocketOptions): Required<SocketOptions> {
  const maxMessageBytes = positive(options.maxMessageBytes, DEFAULT_SOCKET_OPTIONS.maxMessageBytes, "maxMessageBytes");
  return {
    maxMessageBytes,
    maxFrameBytes: positive(options.maxFrameBytes, maxMessageBytes, "maxFrameBytes"),
    maxBufferedBytes: positive(options.maxBufferedBytes, Math.max(maxMessageBytes, 1), "maxBufferedBytes"),
    maxSendBufferBytes: positive(options.maxSendBufferBytes, DEFAULT_SOCKET_OPTIONS.maxSendBufferBytes, "maxSendBufferBytes"),
    closeTimeoutMs: positive(options.closeTimeoutMs, DEFAULT_SOCKET_OPTIONS.closeTimeoutMs, "closeTimeoutMs"),
    pingIntervalMs: nonNegative(options.pingIntervalMs, DEFAULT_SOCKET_OPTIONS.pingIntervalMs, "pingIntervalMs"),
    pongTimeoutMs: positive(options.pongTimeoutMs, DEFAULT_SOCKET_OPTIONS.pongTimeoutMs, "pongTimeoutMs"),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}.`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be 0 or more, got ${value}.`);
  return value;
}
