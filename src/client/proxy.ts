import { Buffer } from "node:buffer";
import { BlockList, isIP } from "node:net";

/**
 * Which HTTP proxy a client connection goes through: the `proxy` option or the environment
 * (`HTTPS_PROXY` for wss://, `HTTP_PROXY` for ws://), minus the hosts `NO_PROXY` lists.
 * Pure functions: the environment is passed in, nothing is connected.
 */

/** A proxy to open tunnels through with HTTP CONNECT (RFC 9110 section 9.3.6). */
export interface ProxyServer {
  /** True for an https:// proxy: TLS to the proxy itself, then CONNECT inside it. */
  readonly secure: boolean;
  /** Host name or IP address (without IPv6 brackets). */
  readonly host: string;
  readonly port: number;
  /** The `Proxy-Authorization` value for credentials in the URL ("Basic ..."), if any. */
  readonly authorization: string | undefined;
  /** The URL without its credentials, for messages and `WebSocketHandshakeError.proxy`. */
  readonly display: string;
  /** Where the setting came from: "config.proxy", "HTTPS_PROXY", "https_proxy", ... */
  readonly source: string;
}

/** Environment variables, as `process.env` has them. */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/** What a connection needs to know to choose its proxy. */
export interface ProxyTarget {
  readonly secure: boolean;
  /** Host name or IP address, without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** Unix-socket connections never use a proxy. */
  readonly socketPath?: string;
}

/** The resolved `proxy` / `noProxy` options. */
export interface ProxySettings {
  /** An explicit proxy, `false` for none whatever the environment says, undefined for the environment's. */
  readonly proxy: ProxyServer | false | undefined;
  /** An explicit NO_PROXY list; undefined for the environment's. */
  readonly noProxy: string | undefined;
}

/**
 * Parses a proxy URL: `http://[user:pass@]host[:port]` or `https://...`. A value without a
 * scheme ("proxy.local:3128") means http://, as curl reads it. The port defaults to the
 * scheme's (80, 443). Throws a TypeError naming `source` when the value cannot be used.
 */
export function parseProxyUrl(value: string | URL, source: string): ProxyServer {
  const text = String(value).trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`${source} is not a proxy URL: ${JSON.stringify(redact(text))}; expected http://[user:password@]host:port or https://...`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `${source} names a ${url.protocol.slice(0, -1)}:// proxy (${redact(text)}); hawser connects through HTTP proxies only ` +
        "(http:// or https://, with CONNECT). Use an HTTP proxy, or set proxy: false to connect directly.",
    );
  }
  if (url.hostname === "") throw new TypeError(`${source} has no host: ${JSON.stringify(redact(text))}.`);
  const secure = url.protocol === "https:";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  let authorization: string | undefined;
  if (url.username !== "" || url.password !== "") {
    // RFC 7617: Basic credentials are base64("user:password"); the URL holds them percent-encoded.
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    authorization = `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
  }
  const display = `${url.protocol}//${url.host}`;
  return { secure, host, port, authorization, display, source };
}

/**
 * The proxy for one connection, or null to connect directly. Each hop of a redirect asks
 * again. The explicit proxy, else (lower-case name first, as curl reads them) `https_proxy` /
 * `HTTPS_PROXY` for wss:// and `http_proxy` / `HTTP_PROXY` for ws://; then the `noProxy`
 * option, else `no_proxy` / `NO_PROXY`, may exempt the host. Empty variables count as unset.
 *
 * `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set: under CGI a request's `Proxy:` header
 * arrives as HTTP_PROXY ("httpoxy", CVE-2016-5385), so it cannot be trusted there.
 */
export function proxyFor(target: ProxyTarget, settings: ProxySettings, env: ProxyEnvironment): ProxyServer | null {
  if (target.socketPath !== undefined || settings.proxy === false) return null;
  let proxy = settings.proxy;
  if (proxy === undefined) {
    const names = target.secure ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"];
    const cgi = nonEmpty(env.REQUEST_METHOD) !== undefined;
    const name = names.find((candidate) => nonEmpty(env[candidate]) !== undefined && !(cgi && candidate === "HTTP_PROXY"));
    if (name === undefined) return null;
    proxy = parseProxyUrl(env[name]!, name);
  }
  const noProxy = settings.noProxy ?? nonEmpty(env.no_proxy) ?? nonEmpty(env.NO_PROXY) ?? "";
  return matchesNoProxy(target.host, target.port, noProxy) ? null : proxy;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * Whether a NO_PROXY list exempts `host:port`. The list is separated by commas (or spaces);
 * each entry is one of:
 *
 * - `*`: every host;
 * - a host name, which matches itself and its subdomains: `example.com` matches
 *   `example.com` and `ws.example.com`, not `badexample.com`; a leading `.` or `*.` changes
 *   nothing (`.example.com` matches `example.com` too, as in curl);
 * - an IP address (IPv6 with or without brackets) or a CIDR range (`10.0.0.0/8`, `fd00::/8`),
 *   which matches connections to that address only: names are not resolved;
 * - any of those with `:port` (`[::1]:8080` for IPv6), which matches that port only.
 *
 * Matching ignores case and a trailing dot. Loopback is not special: list `localhost` and
 * `127.0.0.1` (and `::1`) to reach local servers directly.
 */
export function matchesNoProxy(host: string, port: number, list: string): boolean {
  const name = normalizeName(host.replace(/^\[(.*)\]$/, "$1"));
  const family = isIP(name);
  for (const raw of list.split(/[\s,]+/)) {
    const entry = parseEntry(raw);
    if (entry === null) continue;
    if (entry.kind === "all") return true;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.kind === "ip") {
      if (family !== 0 && entry.block.check(name, family === 6 ? "ipv6" : "ipv4")) return true;
    } else if (family === 0 && (name === entry.name || name.endsWith(`.${entry.name}`))) {
      return true;
    }
  }
  return false;
}

type NoProxyEntry = { kind: "all" } | { kind: "name"; name: string; port: number | undefined } | { kind: "ip"; block: BlockList; port: number | undefined };

function parseEntry(raw: string): NoProxyEntry | null {
  let text = raw.trim();
  if (text === "") return null;
  if (text === "*") return { kind: "all" };
  let port: number | undefined;
  if (text.startsWith("[")) {
    // [v6] or [v6]:port or [v6]/bits
    const close = text.indexOf("]");
    if (close === -1) return null;
    const rest = text.slice(close + 1);
    const portMatch = /^:(\d+)$/.exec(rest);
    if (portMatch) port = Number(portMatch[1]);
    else if (rest !== "" && !/^\/\d+$/.test(rest)) return null;
    text = text.slice(1, close) + (portMatch ? "" : rest);
  } else {
    // One colon is host:port; several are a bare IPv6 address.
    const portMatch = /^([^:]*):(\d+)$/.exec(text);
    if (portMatch) {
      text = portMatch[1]!;
      port = Number(portMatch[2]);
    }
  }
  const cidr = /^(.*)\/(\d+)$/.exec(text);
  const address = cidr ? cidr[1]! : text;
  const family = isIP(address);
  if (family !== 0) {
    const block = new BlockList();
    const type = family === 6 ? "ipv6" : "ipv4";
    const bits = cidr ? Number(cidr[2]) : family === 6 ? 128 : 32;
    if (bits > (family === 6 ? 128 : 32)) return null;
    block.addSubnet(address, bits, type);
    return { kind: "ip", block, port };
  }
  if (cidr) return null; // a range needs an IP address
  const name = normalizeName(text.replace(/^\*?\./, ""));
  return name === "" ? null : { kind: "name", name, port };
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** `http://user:secret@host` as `http://user:***@host`, for messages. */
function redact(text: string): string {
  return text.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
}
