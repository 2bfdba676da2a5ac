import type { IncomingHttpHeaders } from "node:http";
import { isIPv4, isIPv6 } from "node:net";
import { headerText } from "../protocol/handshake.js";

/**
 * Whether to believe the `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` headers
 * a reverse proxy adds: false (the default) ignores them, since any client can send them;
 * true trusts one proxy in front of the server; a number trusts that many, one behind the other.
 */
export type TrustProxy = boolean | number;

/** How many proxies' headers to believe: 0 for none. */
export function trustedHops(trustProxy: TrustProxy | undefined): number {
  if (trustProxy === undefined || trustProxy === false) return 0;
  if (trustProxy === true) return 1;
  if (!Number.isInteger(trustProxy) || trustProxy < 0) {
    throw new RangeError(`trustProxy must be true, false or the number of proxies in front of the server, got ${trustProxy}.`);
  }
  return trustProxy;
}

/**
 * The value a trusted proxy wrote into a list header: each proxy appends what it saw, so with
 * `hops` proxies the entry `hops` from the right is the first one a client could not forge.
 * Undefined when the header is absent or there is no trusted proxy.
 */
export function forwardedValue(value: string | string[] | undefined, hops: number): string | undefined {
  if (hops === 0 || value === undefined) return undefined;
  const entries = headerText(value).split(",");
  const entry = entries[Math.max(0, entries.length - hops)]!.trim();
  return entry === "" ? undefined : entry;
}

/** The client's address: the socket's peer, or behind trusted proxies what they forwarded. */
export function clientAddress(peerAddress: string | undefined, headers: IncomingHttpHeaders, hops: number): string {
  return forwardedValue(headers["x-forwarded-for"], hops) ?? peerAddress ?? "";
}

/**
 * The key connections are counted under for `maxConnectionsPerIp`: an IPv4 address (also when
 * IPv4-mapped, `::ffff:a.b.c.d`), or the /64 network of an IPv6 address, since one host is
 * usually given a whole /64 and could otherwise open each connection from another address.
 */
export function addressKey(address: string): string {
  if (isIPv4(address)) return address;
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (!isIPv6(bare)) return address;
  const lower = bare.toLowerCase();
  if (lower.startsWith("::ffff:") && isIPv4(lower.slice(7))) return lower.slice(7);
  const groups = expandIPv6(lower);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address (no leading zeros), "::" expanded. */
function expandIPv6(address: string): string[] {
  const withoutZone = address.split("%")[0]!;
  const [head, tail] = withoutZone.includes("::") ? withoutZone.split("::") : [withoutZone, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::a.b.c.d) takes two groups; it only matters past the first four.
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...new Array<string>(Math.max(0, missing)).fill("0"), ...tailGroups];
  return groups.map((group) => (/^[0-9a-f]+$/.test(group) ? Number.parseInt(group, 16).toString(16) : group));
}
