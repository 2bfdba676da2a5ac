import type { IncomingHttpHeaders } from "node:http";

/**
 * The opening handshake failed. When the server answered over HTTP, `status` is its status
 * code (404, 403, a redirect that was not followed, ... or 101 with a bad answer), with its
 * headers and the first bytes of its body. When `proxy` is set, the HTTP proxy failed or
 * answered instead (`status` is then the proxy's).
 */
export class WebSocketHandshakeError extends Error {
  /** The HTTP status the server answered with; undefined when it never answered. */
  readonly status: number | undefined;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  /** The start of the response body (at most 1 KiB, decoded as UTF-8). */
  readonly body: string;
  /** The URL that was being connected to (after redirects). */
  readonly url: string;
  /** A system error code such as ECONNREFUSED, when the connection itself failed. */
  readonly code: string | undefined;
  /**
   * The HTTP proxy (its URL without credentials) when the error came from it: it refused the
   * tunnel (then `status` is the proxy's answer, e.g. 407), or could not be reached.
   */
  readonly proxy: string | undefined;

  constructor(
    message: string,
    details: {
      url: string;
      status?: number;
      statusText?: string;
      headers?: IncomingHttpHeaders;
      body?: string;
      code?: string;
      proxy?: string;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "WebSocketHandshakeError";
    this.url = details.url;
    this.status = details.status;
    this.statusText = details.statusText ?? "";
    this.headers = details.headers ?? {};
    this.body = details.body ?? "";
    this.code = details.code;
    this.proxy = details.proxy;
  }
}
