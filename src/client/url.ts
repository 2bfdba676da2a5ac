/** Where a client connects to, taken apart from its URL. */
export interface ClientTarget {
  /** The URL with its scheme normalized to ws:, wss: or ws+unix: (what `socket.url` reports). */
  readonly url: URL;
  readonly secure: boolean;
  /** Host name without IPv6 brackets, for node:net / node:tls ("localhost" for Unix sockets). */
  readonly host: string;
  readonly port: number;
  /** The request target: path and query. */
  readonly path: string;
  /** The Unix socket's file path, for ws+unix: URLs. */
  readonly socketPath?: string;
}

/** A URL the client cannot use; the message says what to change. */
export class InvalidUrlError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "InvalidUrlError";
  }
}

/**
 * Parses a WebSocket URL (RFC 6455 section 3): ws:// and wss://, http:// and https:// as
 * their WebSocket equivalents (as browsers do), and `ws+unix:/path/to.sock:/request/path`
 * for a Unix domain socket. Fragments are not allowed.
 */
export function parseClientUrl(input: string | URL): ClientTarget {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new InvalidUrlError(`Invalid WebSocket URL ${JSON.stringify(String(input))}: expected an absolute URL such as ws://host:port/path.`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.href.includes("#")) {
    throw new InvalidUrlError(`WebSocket URLs cannot have a fragment: remove '${url.hash || "#"}' or percent-encode '#' as %23.`);
  }
  if (url.protocol === "ws+unix:") return unixTarget(url);
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new InvalidUrlError(`Unsupported URL scheme '${url.protocol}' in ${url.href}: use ws://, wss:// (or ws+unix:).`);
  }
  const secure = url.protocol === "wss:";
  return {
    url,
    secure,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    path: (url.pathname || "/") + url.search,
  };
}

/** `ws+unix:/tmp/app.sock:/chat?x=1`: the socket path ends at the first ':' of the path. */
function unixTarget(url: URL): ClientTarget {
  const pathname = decodeURIComponent(url.pathname);
  const colon = pathname.indexOf(":");
  const socketPath = colon === -1 ? pathname : pathname.slice(0, colon);
  const requestPath = colon === -1 ? "/" : pathname.slice(colon + 1) || "/";
  if (socketPath === "") {
    throw new InvalidUrlError(`No socket path in ${url.href}: use ws+unix:/path/to/socket:/request/path.`);
  }
  return {
    url,
    secure: false,
    host: "localhost",
    port: 0,
    path: (requestPath.startsWith("/") ? requestPath : `/${requestPath}`) + url.search,
    socketPath,
  };
}
