import { Buffer } from "node:buffer";
import type { CloseEvent } from "../websocket/frame.js";
import type { SendOptions, WebSocketData } from "../websocket/message-data.js";

/**
 * The client's `reconnect` setting: after a connection drops (any close not asked for with
 * `close()`), wait and connect again, with exponential backoff and full jitter. Messages sent
 * while disconnected are held (bounded) and sent in order once connected again.
 */
export interface ReconnectOptions {
  /** The first retry waits up to this long; each further one up to twice as long as the one before. Default 500 ms. */
  initialDelayMs?: number;
  /** The longest wait between attempts. Default 30 000 ms. */
  maxDelayMs?: number;
  /**
   * Consecutive failed attempts after which the client gives up: `onerror` with the last
   * attempt's error, `onunsent` with what it held, then `onclose` with the close that started
   * it all. Default 10; `Infinity` never gives up.
   */
  maxAttempts?: number;
  /** Messages `send()` holds while disconnected; past this it returns false (not sent). Default 1000. */
  maxHeldMessages?: number;
  /** The same bound in bytes. Default 1 MiB. */
  maxHeldBytes?: number;
  /**
   * Where each attempt connects (attempt 1 is the first reconnect). Default: the URL given at
   * first. For example, to resume from the last offset seen, or to try another server.
   */
  url?: (attempt: number) => string | URL;
  /** Whether this close is worth reconnecting after. Default: every close not asked for with `close()`. */
  shouldReconnect?: (event: CloseEvent) => boolean;
}

export interface ResolvedReconnect {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  readonly maxHeldMessages: number;
  readonly maxHeldBytes: number;
  readonly url: ((attempt: number) => string | URL) | null;
  readonly shouldReconnect: ((event: CloseEvent) => boolean) | null;
}

export const DEFAULT_RECONNECT = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: 10,
  maxHeldMessages: 1000,
  maxHeldBytes: 1024 * 1024,
});

/** What `onreconnecting` receives. */
export interface ReconnectingEvent {
  readonly type: "reconnecting";
  /** The attempt about to be made: 1 for the first after a drop. */
  readonly attempt: number;
  /** How long the client waits before it. */
  readonly delayMs: number;
  /** The close that started it (1006 when an attempt failed without a WebSocket close). */
  readonly code: number;
  readonly reason: string;
  /** Why the previous attempt failed, for attempts after the first. */
  readonly error: Error | undefined;
}

/** What `onreconnected` receives. */
export interface ReconnectedEvent {
  readonly type: "reconnected";
  /** Attempts it took. */
  readonly attempts: number;
  /** Held messages sent on the new connection, in order. */
  readonly sentHeld: number;
}

/** A message `send()` took while disconnected that was never sent (see `onunsent`). */
export interface UnsentMessage {
  readonly data: WebSocketData;
  readonly options: SendOptions | undefined;
}

export function resolveReconnect(setting: boolean | ReconnectOptions | undefined): ResolvedReconnect | null {
  if (setting === undefined || setting === false) return null;
  const options = setting === true ? {} : setting;
  if (typeof options !== "object" || options === null) throw new TypeError("config.reconnect is true, false or an object of options.");
  const initialDelayMs = check(options.initialDelayMs, DEFAULT_RECONNECT.initialDelayMs, "initialDelayMs", false);
  const maxDelayMs = check(options.maxDelayMs, DEFAULT_RECONNECT.maxDelayMs, "maxDelayMs", false);
  if (maxDelayMs < initialDelayMs) throw new RangeError(`config.reconnect.maxDelayMs (${maxDelayMs}) is below initialDelayMs (${initialDelayMs}).`);
  if (options.url !== undefined && typeof options.url !== "function") throw new TypeError("config.reconnect.url is a function (attempt) => URL.");
  if (options.shouldReconnect !== undefined && typeof options.shouldReconnect !== "function") {
    throw new TypeError("config.reconnect.shouldReconnect is a function (closeEvent) => boolean.");
  }
  return {
    initialDelayMs,
    maxDelayMs,
    maxAttempts: check(options.maxAttempts, DEFAULT_RECONNECT.maxAttempts, "maxAttempts", true),
    maxHeldMessages: check(options.maxHeldMessages, DEFAULT_RECONNECT.maxHeldMessages, "maxHeldMessages", false),
    maxHeldBytes: check(options.maxHeldBytes, DEFAULT_RECONNECT.maxHeldBytes, "maxHeldBytes", false),
    url: options.url ?? null,
    shouldReconnect: options.shouldReconnect ?? null,
  };
}

function check(value: number | undefined, fallback: number, name: string, infiniteAllowed: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || (!infiniteAllowed && !Number.isFinite(value))) {
    throw new RangeError(`config.reconnect.${name} must be a number 0 or more${infiniteAllowed ? " (or Infinity)" : ""}, got ${String(value)}.`);
  }
  return value;
}

/**
 * The wait before reconnect attempt `attempt` (1, 2, ...): "full jitter", a random time between
 * 0 and min(maxDelayMs, initialDelayMs × 2^(attempt-1)), so that many clients dropped at once
 * do not all come back at the same moment.
 */
export function reconnectDelay(attempt: number, options: Pick<ResolvedReconnect, "initialDelayMs" | "maxDelayMs">, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * ceiling);
}

/** Messages sent while disconnected, in order, within the bounds. */
export class HeldMessages {
  private messages: Array<UnsentMessage & { bytes: number }> = [];
  private bytes = 0;

  constructor(private readonly limits: Pick<ResolvedReconnect, "maxHeldMessages" | "maxHeldBytes">) {}

  get count(): number {
    return this.messages.length;
  }

  /** Holds a message; false when it would pass a bound (it is not held). */
  hold(data: WebSocketData, options: SendOptions | undefined): boolean {
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    if (this.messages.length >= this.limits.maxHeldMessages || this.bytes + bytes > this.limits.maxHeldBytes) return false;
    this.messages.push({ data, options, bytes });
    this.bytes += bytes;
    return true;
  }

  /** Takes every held message, oldest first. */
  takeAll(): UnsentMessage[] {
    const taken = this.messages.map(({ data, options }) => ({ data, options }));
    this.messages = [];
    this.bytes = 0;
    return taken;
  }
}
