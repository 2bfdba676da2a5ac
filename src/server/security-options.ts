import type { RateLimit } from "../protocol/rate-budget.js";
import type { TrustProxy } from "../security/forwarded.js";
import type { AllowedOrigins } from "../security/origin-policy.js";

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

/**
 * `maxConnections` 16,384: Phoenix's default for its WebSocket listener, about 100 MiB of idle
 * sockets at hawser's ~6 KiB each. `maxConnectionsPerIp` 256: a sixty-fourth of that, so one
 * address cannot fill the server, while a busy office NAT still fits.
 */
export const DEFAULT_CONNECTION_LIMITS: { readonly maxConnections: number; readonly maxConnectionsPerIp: number } = {
  maxConnections: 16_384,
  maxConnectionsPerIp: 256,
};
