import type { IncomingHttpHeaders } from "node:http";
import { headerText } from "../protocol/handshake.js";
import { forwardedValue } from "./forwarded.js";

/**
 * Which web pages may open a WebSocket to the server, by their `Origin` (RFC 6454), checked
 * before the handler runs:
 * - absent (the default): requests without `Origin` (programs, not browsers) and pages of the
 *   server's own origin, as the request reached it;
 * - a list of origins ("https://app.example.com"): those too, beside the default's;
 * - "*": every origin (no check; the handler may still check `cgi.origin`);
 * - a function: it alone decides, for every WebSocket request, with or without `Origin`.
 *
 * Browsers attach the user's cookies to a WebSocket handshake from any page, so without this
 * check any site the user visits can talk to the server as the user (cross-site WebSocket
 * hijacking). Programs can send any `Origin`: this protects browser users, it is not
 * authentication.
 */
export type AllowedOrigins = "*" | readonly string[] | OriginCheck;

/** Decides whether a WebSocket request from `origin` ("" when the request had none) may proceed. */
export type OriginCheck = (origin: string, request: OriginRequest) => boolean;

export interface OriginRequest {
  /** The server's own origin as the request reached it, e.g. "https://chat.example.com" ("" if unknown). */
  ownOrigin: string;
  /** The request headers (names in lower case). */
  headers: IncomingHttpHeaders;
}

/** The origin policy of one server, its list parsed once. */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string>;
  private readonly check: OriginCheck | null;
  private readonly anyOrigin: boolean;

  constructor(
    allowed: AllowedOrigins | undefined,
    /** Proxies whose X-Forwarded-Proto and X-Forwarded-Host to believe (see `trustProxy`). */
    private readonly trustedHops = 0,
  ) {
    this.anyOrigin = allowed === "*";
    this.check = typeof allowed === "function" ? allowed : null;
    this.listed = new Set(Array.isArray(allowed) ? allowed.map(listedOrigin) : []);
    if (allowed !== undefined && !this.anyOrigin && !this.check && !Array.isArray(allowed)) {
      throw new TypeError(`allowedOrigins must be a list of origins, "*" or a function, got ${String(allowed)}.`);
    }
  }

  /**
   * Null when a WebSocket request with these headers may proceed; otherwise the body of the
   * 403 to answer with. `secure`: the request came over TLS.
   */
  refusal(headers: IncomingHttpHeaders, secure: boolean): string | null {
    if (this.anyOrigin || (this.check === null && headers.origin === undefined)) return null;
    const origin = headerText(headers.origin);
    const own = ownOrigin(headers, secure, this.trustedHops);
    if (this.check) {
      return this.check(origin, { ownOrigin: own, headers }) ? null : `Origin '${origin}' is refused by the server's allowedOrigins function.`;
    }
    const canonical = canonicalOrigin(origin);
    if ((own !== "" && canonical === own) || this.listed.has(canonical)) return null;
    return (
      `Origin '${origin}' may not open a WebSocket here (this server's own origin is '${own}'). ` +
      `To allow it, add it to the server's allowedOrigins option (hawser: --origin URL), ` +
      `or set allowedOrigins: "*" (hawser: --any-origin) to accept every origin.`
    );
  }
}

/**
 * The server's origin as a request reached it: https when it came over TLS, and the host and
 * port from `Host` (`:authority` over HTTP/2); behind trusted proxies, their
 * X-Forwarded-Proto and X-Forwarded-Host instead. "" when the host is missing or malformed.
 */
export function ownOrigin(headers: IncomingHttpHeaders, secure: boolean, trustedHops = 0): string {
  const forwardedProto = forwardedValue(headers["x-forwarded-proto"], trustedHops)?.toLowerCase();
  const scheme =
    forwardedProto === "https" || forwardedProto === "wss"
      ? "https"
      : forwardedProto === "http" || forwardedProto === "ws"
        ? "http"
        : secure
          ? "https"
          : "http";
  const host = forwardedValue(headers["x-forwarded-host"], trustedHops) ?? headerText(headers[":authority"] ?? headers.host);
  if (host === "" || /[/?#@\s\\]/.test(host)) return "";
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    return "";
  }
}

/**
 * An origin in the form browsers send it (RFC 6454 section 6.2): scheme, host and port, lower
 * case, without the scheme's default port. Origins of other schemes (a browser extension's)
 * are kept as sent; "null" stays "null".
 */
export function canonicalOrigin(text: string): string {
  const trimmed = text.trim();
  try {
    const url = new URL(trimmed);
    if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
  } catch {
    // not a URL: compared as sent
  }
  return trimmed.toLowerCase().replace(/\/+$/, "");
}

/** An `allowedOrigins` entry, checked and put in canonical form. */
function listedOrigin(entry: string): string {
  if (typeof entry !== "string" || entry.trim() === "")
    throw new TypeError(`allowedOrigins entries are origins such as "https://example.com", got ${JSON.stringify(entry)}.`);
  if (entry.includes("*")) {
    throw new TypeError(`allowedOrigins entry '${entry}': patterns are not supported; give each origin, or a function (origin) => boolean.`);
  }
  if (entry.trim() === "null") return "null";
  let url: URL;
  try {
    url = new URL(entry.trim());
  } catch {
    throw new TypeError(`allowedOrigins entry '${entry}' is not an origin: write it as scheme://host[:port], e.g. "https://example.com".`);
  }
  if ((url.protocol === "http:" || url.protocol === "https:") && (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "")) {
    throw new TypeError(`allowedOrigins entry '${entry}' has more than an origin: browsers send only scheme://host[:port], so write '${url.origin}'.`);
  }
  return canonicalOrigin(entry);
}
