import type { Buffer } from "node:buffer";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Http2ServerRequest, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { checkExtendedConnectRequest, isExtendedConnectWebSocket } from "../protocol/extended-connect.js";
import { checkUpgradeRequest, headerHasToken, headerText, isWebSocketUpgrade, splitHeaderList } from "../protocol/handshake.js";
import type { WebSocket } from "../websocket/websocket.js";
import { acceptUpgrade, type AcceptSettings } from "./accept.js";
import { acceptExtendedConnect } from "./accept-http2.js";
import { HttpError } from "./http-error.js";
import type { Responder, RawSocketResponder } from "./responder.js";

/** The socket side of an upgrade request, present only when the request came with `Upgrade`. */
export type UpgradeContext = Http1UpgradeContext | Http2ConnectContext;

/** An HTTP/1.1 `Upgrade: websocket` request (RFC 6455): the TCP socket becomes the WebSocket. */
export interface Http1UpgradeContext {
  kind?: "http1";
  socket: Socket;
  head: Buffer;
  responder: RawSocketResponder;
  settings: AcceptSettings;
  /** Called when the handshake completes, e.g. to stop the handshake timer. */
  onAccept: () => void;
}

/** An HTTP/2 extended CONNECT (RFC 8441): the stream becomes the WebSocket. */
export interface Http2ConnectContext {
  kind: "http2";
  stream: ServerHttp2Stream;
  /** Answers a refused request on the stream (any status, as HTTP/2 allows). */
  responder: Responder;
  settings: AcceptSettings;
  onAccept: () => void;
}

/**
 * The request object a handler receives (the seed's `Cgi`): the request, a plain-HTTP
 * answer through `write`, and for WebSocket requests `acceptWebsocket()`.
 */
export class Cgi {
  /** Request method, e.g. "GET". */
  readonly requestMethod: string;
  /** The request target as sent, e.g. "/chat?room=1". */
  readonly requestUri: string;
  /** The path part of the request target, e.g. "/chat". */
  readonly pathInfo: string;
  /** The query part without "?", e.g. "room=1". */
  readonly queryString: string;
  private parsedQuery: URLSearchParams | null = null;
  /** Request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The HTTP version the request came with: "1.1", or "2.0" for an HTTP/2 stream. */
  readonly httpVersion: string;
  /** Read on first use: asking a socket for its address caches about 100 bytes on it. */
  private readonly peer: { readonly remoteAddress?: string | undefined };
  private acceptedSocket: WebSocket | null = null;

  // Dropped by acceptWebsocket(): a server may hold thousands of accepted sockets whose
  // handlers keep their Cgi, and the request and the HTTP plumbing are no use any more.
  private requestRef: IncomingMessage | Http2ServerRequest | null;
  private responder: Responder;
  private upgrade: UpgradeContext | null;
  private readonly upgradeKind: "http1" | "http2" | null;

  constructor(request: IncomingMessage | Http2ServerRequest, responder: Responder, upgrade: UpgradeContext | null) {
    this.requestRef = request;
    this.responder = responder;
    this.upgrade = upgrade;
    this.upgradeKind = upgrade === null ? null : (upgrade.kind ?? "http1");
    this.requestMethod = request.method ?? "GET";
    this.requestUri = request.url ?? "/";
    const queryStart = this.requestUri.indexOf("?");
    this.pathInfo = queryStart === -1 ? this.requestUri : this.requestUri.slice(0, queryStart);
    this.queryString = queryStart === -1 ? "" : this.requestUri.slice(queryStart + 1);
    this.headers = request.headers;
    this.httpVersion = request.httpVersion;
    this.peer = request.socket;
  }

  /** The peer's address. */
  get remoteAddress(): string {
    return this.peer.remoteAddress ?? "";
  }

  /**
   * The underlying node:http (or node:http2 compatibility) request, for anything not covered
   * here. Released by `acceptWebsocket()`: read what you need from it before accepting.
   */
  get request(): IncomingMessage | Http2ServerRequest {
    if (!this.requestRef) {
      throw new Error("cgi.request is released by acceptWebsocket(): read what you need from it before accepting (cgi.headers stays).");
    }
    return this.requestRef;
  }

  /** The parsed query (parsed on first use). */
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.queryString));
  }

  /** The request's Origin header ("" when absent); browsers always send it on WebSocket requests. */
  get origin(): string {
    return headerText(this.headers.origin);
  }

  /** Cookies sent with the request, by name. */
  get cookies(): Map<string, string> {
    const cookies = new Map<string, string>();
    for (const pair of headerText(this.headers.cookie).split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0) cookies.set(pair.slice(0, eq).trim(), decodeURIComponentSafe(pair.slice(eq + 1).trim()));
    }
    return cookies;
  }

  /** True when the client asked to upgrade this request to a WebSocket. */
  websocketRequested(): boolean {
    if (this.upgradeKind === "http2") return isExtendedConnectWebSocket(this.headers);
    return this.upgradeKind !== null && isWebSocketUpgrade(this.requestMethod, this.headers);
  }

  /** The subprotocols the client offered, in its order of preference. */
  get requestedProtocols(): string[] {
    return splitHeaderList(this.headers["sec-websocket-protocol"]);
  }

  /**
   * Completes the WebSocket handshake and returns the open socket; the plain-HTTP methods
   * must not be used afterwards. `protocol` picks one of `requestedProtocols`. A malformed
   * handshake throws an `HttpError` (400, or 426 for another protocol version) which the
   * server sends as the answer.
   */
  acceptWebsocket(protocol?: string): WebSocket {
    const upgrade = this.upgrade;
    if (!upgrade) {
      // A handshake node:http did not take for an upgrade (no `Connection: Upgrade`, say) is a
      // malformed one: answer 400 as RFC 6455 section 4.2.1 asks, not 500 as for a server fault.
      if (this.headers["sec-websocket-key"] !== undefined || headerHasToken(this.headers.upgrade, "websocket")) {
        const check = checkUpgradeRequest(this.requestMethod, this.headers);
        if (!check.ok) throw new HttpError(check.status, check.message, check.headers);
      }
      throw new Error("acceptWebsocket() on a request that is not a WebSocket upgrade: check websocketRequested() first.");
    }
    if (this.acceptedSocket) throw new Error("acceptWebsocket() was already called for this request.");
    if (upgrade.responder.headersSent) throw new Error("acceptWebsocket() after an HTTP answer was written.");
    const check = upgrade.kind === "http2" ? checkExtendedConnectRequest(this.headers) : checkUpgradeRequest(this.requestMethod, this.headers);
    if (!check.ok) throw new HttpError(check.status, check.message, check.headers);
    if (protocol !== undefined && !check.protocols.includes(protocol)) {
      throw new Error(`Subprotocol '${protocol}' was not offered by the client (offered: ${check.protocols.join(", ") || "none"}).`);
    }
    const negotiate = upgrade.settings.negotiateExtensions;
    const negotiated = check.extensions !== "" && negotiate ? negotiate(check.extensions) : null;
    if (negotiated && "error" in negotiated) throw new HttpError(400, negotiated.error);
    upgrade.onAccept();
    this.release();
    if (upgrade.kind === "http2") {
      this.acceptedSocket = acceptExtendedConnect(upgrade.stream, protocol, negotiated, upgrade.settings);
      return this.acceptedSocket;
    }
    upgrade.responder.detach();
    // Only RFC 6455's handshake has a key (RFC 8441 section 5 drops it).
    const key = "key" in check && typeof check.key === "string" ? check.key : "";
    const request = { key, protocols: check.protocols, extensions: check.extensions };
    this.acceptedSocket = acceptUpgrade(upgrade.socket, upgrade.head, request, protocol, negotiated, upgrade.settings);
    return this.acceptedSocket;
  }

  /** Where the plain-HTTP answer goes (a no-op stand-in after acceptWebsocket()). @internal */
  get plainAnswer(): Responder {
    return this.responder;
  }

  private release(): void {
    this.requestRef = null;
    this.upgrade = null;
    this.responder = RELEASED;
  }

  /** The socket returned by `acceptWebsocket()`, if it was called. */
  get websocket(): WebSocket | null {
    return this.acceptedSocket;
  }

  /** Sets the HTTP status of a plain answer (default 200). */
  setResponseStatus(status: number): void {
    this.responder.setStatus(status);
  }

  /** Sets a header of a plain answer. */
  header(name: string, value: string): void {
    this.responder.setHeader(name, value);
  }

  /** Writes to the plain-HTTP answer; `isAll` says this is the whole body, so it can be sent at once. */
  write(data: string | Uint8Array, isAll = false): void {
    if (this.acceptedSocket) throw new Error("write() after acceptWebsocket(): send on the WebSocket instead.");
    this.responder.write(data, isAll);
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** What a Cgi answers plain-HTTP calls with once its request became a WebSocket. */
const RELEASED: Responder = {
  finished: true,
  headersSent: true,
  setStatus: released,
  setHeader: released,
  write: released,
  finish: () => undefined,
  fail: () => undefined,
};

function released(): never {
  throw new Error("The plain-HTTP answer is gone after acceptWebsocket(): send on the WebSocket instead.");
}
