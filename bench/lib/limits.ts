// The load generators open up to 10,000 connections from one address and send as fast as the
// server answers. hawser's default limits (docs/security.md) would refuse or throttle them, and
// the servers it is compared with have none: the benchmarks lift them. The rate limiter still
// runs on every message, with a budget the load never exhausts, so its cost is in the figures.
import type { HandlerOptions } from "../../src/server/handler.js";

/** For serve() in bench/servers. */
export const BENCH_SERVER_LIMITS: Pick<HandlerOptions, "maxConnections" | "maxConnectionsPerIp" | "messageRateLimit"> = {
  maxConnections: Infinity,
  maxConnectionsPerIp: Infinity,
  messageRateLimit: { messagesPerSecond: Infinity, bytesPerSecond: Infinity },
};

/** The same for the `hawser` command line. */
export const BENCH_CLI_LIMITS: readonly string[] = [
  "--max-connections",
  "unlimited",
  "--max-connections-per-ip",
  "unlimited",
  "--messages-per-second",
  "unlimited",
  "--bytes-per-second",
  "unlimited",
];
