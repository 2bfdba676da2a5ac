import { resolveDeflateOptions, type PerMessageDeflateOptions } from "../extensions/deflate-negotiation.js";
import { validateHeaderName, validateHeaderValue } from "node:http";
import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import { isToken } from "../protocol/handshake.js";
import { parseProxyUrl, type ProxyServer } from "./proxy.js";
import type { ReconnectOptions } from "./reconnect.js";

/**
 * How a client connects: the original's `Config` (field names kept; times in milliseconds,
 * sizes in bytes), plus the TLS and timer options a Node client needs. Every field is optional.
 *
 * Fields of the original left out on purpose: `initialReceiveBufferSize` and
 * `likelyReceiveBufferSize` (Node's streams manage read buffers).
 */
export interface ClientConfig {
  /** Largest message accepted (reassembled). Over it the connection fails with 1009. Default 10 MiB. */
  maximumMessageSize?: number;
  /** Largest single frame accepted. Default: `maximumMessageSize`. */
  maximumReceiveBufferSize?: number;
  /** Bytes of received messages held for `waitForNextMessage()` before reading pauses. Default: `maximumMessageSize`. */
  maxBufferedBytes?: number;
  /** Unsent bytes at which `send()` refuses messages (returns false) until the server reads. Default 16 MiB. */
  maxSendBufferBytes?: number;

  /** Cookies sent in the `Cookie` header, name to value. */
  cookies?: Readonly<Record<string, string>>;
  /** Sent as the `Origin` header (servers use it to refuse cross-site pages). */
  origin?: string;
  /**
   * Subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference: an array, or a
   * string (comma-separated for several). The server's choice is `socket.protocol`.
   */
  protocol?: string | readonly string[];
  /** Same as `protocol` (the name browsers and `ws` use). */
  protocols?: string | readonly string[];
  /**
   * Fail the connection when subprotocols were offered and the server chose none, as browsers
   * do (the WHATWG WebSocket requires it). Default false: RFC 6455 lets a server choose none.
   */
  requireProtocol?: boolean;
  /** Sent as `User-Agent`; none by default. */
  userAgent?: string;
  /** Extra request headers: an object, or lines "Name: value" as the original takes them. */
  additionalHeaders?: Readonly<Record<string, string>> | readonly string[];

  /**
   * Sends a ping after this long without hearing from the server (the original's default,
   * 5000 ms); 0 turns keepalive pings off, and with them the inactivity timeout.
   */
  pingFrequency?: number;
  /**
   * With keepalive on: a server that sends nothing at all (pongs included) for this long is
   * declared gone: `onerror`, then `onclose` with 1006 and `wasClean` false. Default 60 000 ms;
   * must be longer than `pingFrequency`. The check runs every
   * min(pingFrequency, timeoutFromInactivity - pingFrequency) ms, so a dead peer is detected
   * between `timeoutFromInactivity` and `timeoutFromInactivity` + 3 such periods after the
   * last byte it sent (60 to 65 s with the defaults).
   */
  timeoutFromInactivity?: number;
  /** Time allowed for `connect()`: TCP, TLS and the HTTP handshake, redirects included. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** How long to wait for the server's side of the closing handshake before cutting the connection. Default 5000 ms. */
  closeTimeoutMs?: number;

  /** Follow HTTP redirects (301, 302, 307, 308) during the handshake. Default false. */
  followRedirects?: boolean;
  /** Most redirects followed when `followRedirects` is on. Default 10. */
  maxRedirects?: number;

  /** Verify the server's TLS certificate for wss:// (the original's name). Default true. */
  verifyPeer?: boolean;
  /** Same as `verifyPeer` (node:tls's name); `false` wins when either is false. */
  rejectUnauthorized?: boolean;
  /** Certificate authorities to trust for wss:// instead of the system's (PEM). */
  ca?: TlsConnectionOptions["ca"];
  /** TLS server name (SNI and certificate check). Default: the URL's host name. */
  servername?: string;
  /** Any other node:tls option (client certificates, ciphers, ...) for wss://. */
  tls?: TlsConnectionOptions;

  /**
   * The HTTP proxy to connect through, with `CONNECT host:port` (see docs/proxies.md):
   * `http://[user:password@]host:port`, or `https://...` for TLS to the proxy itself. `false`
   * (or "") connects directly whatever the environment says. Default: the environment's,
   * `https_proxy`/`HTTPS_PROXY` for wss:// and `http_proxy`/`HTTP_PROXY` for ws://.
   */
  proxy?: string | URL | false;
  /**
   * Hosts to reach without the proxy, a comma-separated list as NO_PROXY takes it (names match
   * their subdomains too; IPs, CIDR ranges, host:port, `*`). Default: `no_proxy`/`NO_PROXY`;
   * "" proxies every host. Loopback is not exempt unless listed.
   */
  noProxy?: string;
  /** node:tls options for an https:// proxy (its CA, ...); the target's TLS options do not apply to it. */
  proxyTls?: TlsConnectionOptions;

  /**
   * Offer permessage-deflate (RFC 7692), as browsers do: true (the default) offers it with
   * default settings, options tune the offer, false sends no offer.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** `connect()`'s and `ClientWebSocket`'s config: `ClientConfig` plus the `reconnect` setting. */
export interface ConnectConfig extends ClientConfig {
  /**
   * Reconnect after a drop, with exponential backoff and full jitter (see `ReconnectOptions`
   * for the delays, the give-up limit and the bound on messages held meanwhile). Off by default.
   */
  reconnect?: boolean | ReconnectOptions;
}

export interface ResolvedClientConfig {
  maxMessageBytes: number;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  maxSendBufferBytes: number;
  protocols: string[];
  requireProtocol: boolean;
  /** Request headers besides the handshake's own, in order. */
  headers: Array<[string, string]>;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  handshakeTimeoutMs: number;
  closeTimeoutMs: number;
  followRedirects: boolean;
  maxRedirects: number;
  tls: TlsConnectionOptions;
  /** The explicit proxy, false for none, undefined to read the environment at each connection. */
  proxy: ProxyServer | false | undefined;
  /** The explicit NO_PROXY list; undefined to read the environment. */
  noProxy: string | undefined;
  proxyTls: TlsConnectionOptions;
  /** The permessage-deflate options to offer, or false for no offer. */
  perMessageDeflate: PerMessageDeflateOptions | false;
}

export const DEFAULT_CLIENT_CONFIG = {
  maximumMessageSize: 10 * 1024 * 1024,
  pingFrequency: 5_000,
  timeoutFromInactivity: 60_000,
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  maxRedirects: 10,
} as const;

/** Headers the handshake itself sets: taking them from the user would break it. */
const RESERVED_HEADERS = new Set([
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

/** Checks a config and fills in defaults. Throws a TypeError or RangeError naming the bad field. */
export function resolveClientConfig(config: ClientConfig = {}): ResolvedClientConfig {
  const maxMessageBytes = positive(config.maximumMessageSize, DEFAULT_CLIENT_CONFIG.maximumMessageSize, "maximumMessageSize");
  const pingIntervalMs = nonNegative(config.pingFrequency, DEFAULT_CLIENT_CONFIG.pingFrequency, "pingFrequency");
  const inactivity = positive(config.timeoutFromInactivity, DEFAULT_CLIENT_CONFIG.timeoutFromInactivity, "timeoutFromInactivity");
  if (pingIntervalMs > 0 && inactivity <= pingIntervalMs) {
    throw new RangeError(
      `timeoutFromInactivity (${inactivity} ms) must be longer than pingFrequency (${pingIntervalMs} ms): ` + "the server needs time to answer the ping.",
    );
  }
  const tls: TlsConnectionOptions = { ...config.tls };
  if (config.ca !== undefined) tls.ca = config.ca;
  if (config.servername !== undefined) tls.servername = config.servername;
  tls.rejectUnauthorized = config.verifyPeer !== false && config.rejectUnauthorized !== false && tls.rejectUnauthorized !== false;
  return {
    maxMessageBytes,
    maxFrameBytes: positive(config.maximumReceiveBufferSize, maxMessageBytes, "maximumReceiveBufferSize"),
    maxBufferedBytes: positive(config.maxBufferedBytes, maxMessageBytes, "maxBufferedBytes"),
    maxSendBufferBytes: positive(config.maxSendBufferBytes, 16 * 1024 * 1024, "maxSendBufferBytes"),
    protocols: resolveProtocols(config.protocol ?? config.protocols),
    requireProtocol: config.requireProtocol === true,
    headers: resolveHeaders(config),
    pingIntervalMs,
    // The transport pings after pingIntervalMs of silence and gives up pongTimeoutMs later.
    pongTimeoutMs: pingIntervalMs > 0 ? inactivity - pingIntervalMs : inactivity,
    handshakeTimeoutMs: positive(config.handshakeTimeoutMs, DEFAULT_CLIENT_CONFIG.handshakeTimeoutMs, "handshakeTimeoutMs"),
    closeTimeoutMs: positive(config.closeTimeoutMs, DEFAULT_CLIENT_CONFIG.closeTimeoutMs, "closeTimeoutMs"),
    followRedirects: config.followRedirects === true,
    maxRedirects: nonNegative(config.maxRedirects, DEFAULT_CLIENT_CONFIG.maxRedirects, "maxRedirects"),
    tls,
    proxy: resolveProxy(config.proxy),
    noProxy: resolveNoProxy(config.noProxy),
    proxyTls: { ...config.proxyTls },
    perMessageDeflate: resolveDeflate(config.perMessageDeflate),
  };
}

function resolveProxy(setting: string | URL | false | undefined): ProxyServer | false | undefined {
  if (setting === undefined) return undefined;
  if (setting === false || setting === "") return false;
  if (typeof setting !== "string" && !(setting instanceof URL)) {
    throw new TypeError(`config.proxy must be a proxy URL (http://host:port) or false, got ${typeof setting}.`);
  }
  return parseProxyUrl(setting, "config.proxy");
}

function resolveNoProxy(setting: string | undefined): string | undefined {
  if (setting !== undefined && typeof setting !== "string") {
    throw new TypeError(`config.noProxy must be a comma-separated string of hosts, got ${typeof setting}.`);
  }
  return setting;
}

function resolveDeflate(setting: boolean | PerMessageDeflateOptions | undefined): PerMessageDeflateOptions | false {
  if (setting === false) return false;
  const options = typeof setting === "object" ? setting : {};
  resolveDeflateOptions(options); // throws now, naming the bad option, rather than at connect time
  return options;
}

/** Subprotocols must be distinct tokens (RFC 6455 section 4.1, item 10). */
export function resolveProtocols(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? value.split(",").map((item) => item.trim()) : [...value];
  const seen = new Set<string>();
  for (const protocol of list) {
    if (typeof protocol !== "string" || !isToken(protocol)) {
      throw new TypeError(`Invalid subprotocol ${JSON.stringify(protocol)}: a subprotocol is a non-empty HTTP token (no spaces, commas or quotes).`);
    }
    if (seen.has(protocol)) throw new TypeError(`Subprotocol '${protocol}' is listed twice; list each once.`);
    seen.add(protocol);
  }
  return list as string[];
}

function resolveHeaders(config: ClientConfig): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const add = (name: string, value: string): void => {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new TypeError(
        `The ${name} header is set by the WebSocket handshake itself; ` +
          (name.toLowerCase() === "sec-websocket-protocol" ? "use config.protocol instead." : "remove it from additionalHeaders."),
      );
    }
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (error) {
      throw new TypeError(`Invalid request header ${JSON.stringify(name)}: ${(error as Error).message}`);
    }
    headers.push([name, value]);
  };
  if (config.origin !== undefined) add("Origin", config.origin);
  if (config.userAgent !== undefined) add("User-Agent", config.userAgent);
  const cookies = Object.entries(config.cookies ?? {});
  if (cookies.length > 0) add("Cookie", cookies.map(([name, value]) => `${name}=${value}`).join("; "));
  const extra = config.additionalHeaders;
  if (Array.isArray(extra)) {
    for (const line of extra as readonly string[]) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new TypeError(`additionalHeaders line ${JSON.stringify(line)} is not "Name: value".`);
      add(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
  } else if (extra) {
    for (const [name, value] of Object.entries(extra as Record<string, string>)) add(name, String(value));
  }
  return headers;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`config.${name} must be a positive number, got ${String(value)}.`);
  }
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`config.${name} must be 0 or more, got ${String(value)}.`);
  }
  return value;
}
