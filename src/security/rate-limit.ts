import type { RateLimit } from "../protocol/rate-budget.js";
import type { RateLimitedWarnings } from "./warnings.js";

const MiB = 1024 * 1024;

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

/**
 * The rate limit a socket gets, every field set (fields left out take the defaults above); null
 * when turned off. `absent` is what leaving the option out means: the defaults for `serve()`,
 * no limit for `hawser/ws`, which keeps `ws`'s behaviour.
 */
export function resolveRateLimit(option: Partial<RateLimit> | false | undefined, absent: "default" | "off" = "default"): RateLimit | null {
  if (option === false || (option === undefined && absent === "off")) return null;
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

/** What the transport calls when a peer outruns `limit`: a warning, at most one per kind and interval. */
export function rateLimitWarner(limit: RateLimit, warnings: RateLimitedWarnings): (action: RateLimit["action"]) => void {
  return (action) =>
    warnings.warn(
      `rate-${action}`,
      () =>
        `a WebSocket peer sent faster than messageRateLimit allows (${limit.messagesPerSecond} messages/s, ` +
        `${limit.bytesPerSecond} bytes/s): ${action === "pause" ? "reading from it paused until its budget refilled" : "closed with 1008"}. ` +
        `If such peers are legitimate, raise messageRateLimit.`,
    );
}

function rate(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 1) {
    throw new RangeError(`messageRateLimit.${name} must be 1 or more (Infinity for no limit), got ${value}.`);
  }
  return value;
}
