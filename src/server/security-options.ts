import type { RateLimit } from "../protocol/rate-budget.js";
import type { TrustProxy } from "./forwarded.js";
import type { AllowedOrigins } from "./origin-policy.js";

/**
 * The server's defences against other sites' pages and against floods; every one is on by
 * default. docs/security.md gives the threat each answers and why each default is what it is.
 */
export interface SecurityOptions {
  /**
   * Which pages may open WebSockets, by `Origin`: by default requests without one and pages
   * of the server's own origin; a list adds origins, "*" accepts all, a function decides
   * alone. Others get 403 before the handler runs. See `AllowedOrigins`.
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Believe the X-Forwarded-For/-Proto/-Host headers of a reverse proxy in front (true), or
   * of that many proxies in a row (a number). Default false: any client can send them.
   */
  trustProxy?: TrustProxy;
  /**
   * Most connections at once, handshakes in progress included; past it new ones get 503
   * with Retry-After. Default 16,384.
   */
  maxConnections?: number;
  /**
   * Most connections at once from one client address (an IPv6 client: its /64), handshakes
   * in progress included; past it 503 with Retry-After. Default 256.
   */
  maxConnectionsPerIp?: number;
  /**
   * How fast each socket's peer may send: frames and payload bytes per second, with a burst
   * allowance, and what happens past it ("pause" reading until the budget refills, or
   * "close" with 1008). Fields left out take the defaults; false turns the limit off.
   * Default: 1,000 frames/s and 16 MiB/s, bursts of one second's worth, "pause".
   */
  messageRateLimit?: Partial<RateLimit> | false;
  /**
   * Where warnings go (refused connections, throttled sockets; each kind at most every
   * 10 s). Default: console.warn.
   */
  onWarning?: (message: string) => void;
}

const MiB = 1024 * 1024;

/**
 * `maxConnections` 16,384: Phoenix's default for its WebSocket listener, about 100 MiB of idle
 * sockets at hawser's ~6 KiB each. `maxConnectionsPerIp` 256: a sixty-fourth of that, so one
 * address cannot fill the server, while a busy office NAT still fits.
 */
export const DEFAULT_CONNECTION_LIMITS: { readonly maxConnections: number; readonly maxConnectionsPerIp: number } = {
  maxConnections: 16_384,
  maxConnectionsPerIp: 256,
};

/**
 * 1,000 frames/s: ten times what a busy browser client sends (120 Hz input plus chat); at
 * about 1 µs of server time per small message, one address's 256 connections at the limit
 * cost a quarter of a core. 16 MiB/s (128 Mbit/s): at about 0.5 ns a byte, 1% of a core per
 * socket. Bursts of one second's worth, so a page's burst at start goes through at once.
 * "pause": a well-behaved client that bursts loses time, not its connection.
 */
export const DEFAULT_MESSAGE_RATE_LIMIT: Readonly<RateLimit> = {
  messagesPerSecond: 1_000,
  burstMessages: 1_000,
  bytesPerSecond: 16 * MiB,
  burstBytes: 16 * MiB,
  action: "pause",
};

/** The rate limit a socket gets, every field set; null when turned off. */
export function resolveRateLimit(option: Partial<RateLimit> | false | undefined): RateLimit | null {
  if (option === false) return null;
  if (option !== undefined && (typeof option !== "object" || option === null)) {
    throw new TypeError(`messageRateLimit must be an object of limits or false, got ${String(option)}.`);
  }
  const given = option ?? {};
  const messagesPerSecond = rate(given.messagesPerSecond, DEFAULT_MESSAGE_RATE_LIMIT.messagesPerSecond, "messagesPerSecond");
  const bytesPerSecond = rate(given.bytesPerSecond, DEFAULT_MESSAGE_RATE_LIMIT.bytesPerSecond, "bytesPerSecond");
  const action = given.action ?? DEFAULT_MESSAGE_RATE_LIMIT.action;
  if (action !== "pause" && action !== "close") {
    throw new TypeError(`messageRateLimit.action must be "pause" or "close", got ${JSON.stringify(action)}.`);
  }
  return {
    messagesPerSecond,
    bytesPerSecond,
    // Unless given: one second's worth of the rate.
    burstMessages: rate(given.burstMessages, messagesPerSecond, "burstMessages"),
    burstBytes: rate(given.burstBytes, bytesPerSecond, "burstBytes"),
    action,
  };
}

function rate(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 1) {
    throw new RangeError(`messageRateLimit.${name} must be 1 or more (Infinity for no limit), got ${value}.`);
  }
  return value;
}
