import type { Buffer } from "node:buffer";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { checkUpgradeRequest, headerText, isWebSocketUpgrade, splitHeaderList } from "../protocol/handshake.js";
import type { WebSocket } from "../websocket/websocket.js";
import { acceptUpgrade, type AcceptSettings } from "./accept.js";
import { HttpError } from "./http-error.js";
import type { Responder, RawSocketResponder } from "./responder.js";

/** The socket side of an upgrade request, present only when the request came with `Upgrade`. */
export interface UpgradeContext {
  socket: Socket;
  head: Buffer;
  responder: RawSocketResponder;
  settings: AcceptSettings;
  /** Called when the handshake completes, e.g. to stop the handshake timer. */
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
  /** The parsed query. */
  readonly query: URLSearchParams;
  /** Request headers, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** The peer's address. */
  readonly remoteAddress: string;
  private acceptedSocket: WebSocket | null = null;

  constructor(
    /** The underlying node:http request, for anything not covered here. */
    readonly request: IncomingMessage,
    private readonly responder: Responder,
    private readonly upgrade: UpgradeContext | null,
  ) {
    this.requestMethod = request.method ?? "GET";
    this.requestUri = request.url ?? "/";
    const queryStart = this.requestUri.indexOf("?");
    this.pathInfo = queryStart === -1 ? this.requestUri : this.requestUri.slice(0, queryStart);
    this.queryString = queryStart === -1 ? "" : this.requestUri.slice(queryStart + 1);
    this.query = new URLSearchParams(this.queryString);
    this.headers = request.headers;
    this.remoteAddress = request.socket.remoteAddress ?? "";
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
    return this.upgrade !== null && isWebSocketUpgrade(this.request.method, this.headers);
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
      throw new Error("acceptWebsocket() on a request that is not a WebSocket upgrade: check websocketRequested() first.");
    }
    if (this.acceptedSocket) throw new Error("acceptWebsocket() was already called for this request.");
    if (upgrade.responder.headersSent) throw new Error("acceptWebsocket() after an HTTP answer was written.");
    const check = checkUpgradeRequest(this.request.method, this.headers);
    if (!check.ok) throw new HttpError(check.status, check.message, check.headers);
    if (protocol !== undefined && !check.protocols.includes(protocol)) {
      throw new Error(
        `Subprotocol '${protocol}' was not offered by the client (offered: ${check.protocols.join(", ") || "none"}).`,
      );
    }
    const negotiate = upgrade.settings.negotiateExtensions;
    const negotiated = check.extensions !== "" && negotiate ? negotiate(check.extensions) : null;
    if (negotiated && "error" in negotiated) throw new HttpError(400, negotiated.error);
    upgrade.responder.detach();
    upgrade.onAccept();
    this.acceptedSocket = acceptUpgrade(upgrade.socket, upgrade.head, check, protocol, negotiated, upgrade.settings);
    return this.acceptedSocket;
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
