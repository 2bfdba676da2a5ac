import type { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { isWebSocketUpgrade } from "../protocol/handshake.js";
import { ReadyState } from "../protocol/opcodes.js";
import type { PublishOptions } from "../websocket/topics.js";
import type { WebSocket, WebSocketData } from "../websocket/websocket.js";
import { serverDeflateNegotiator } from "../extensions/deflate-codec.js";
import type { PerMessageDeflateOptions } from "../extensions/deflate-negotiation.js";
import { ConnectionAdmission, REFUSED_GRACE_MS, type ConnectionRefusal } from "../security/admission.js";
import { ConnectionLimiter } from "../security/connection-limiter.js";
import { trustedHops } from "../security/forwarded.js";
import { OriginPolicy } from "../security/origin-policy.js";
import { rateLimitWarner, resolveRateLimit } from "../security/rate-limit.js";
import { RateLimitedWarnings } from "../security/warnings.js";
import type { AcceptSettings } from "./accept.js";
import { Cgi } from "./cgi.js";
import { HttpError } from "./http-error.js";
import { DEFAULT_SERVER_LIMITS, resolveSocketOptions, type ServerOptions } from "./options.js";
import { PubSub, type PubSubOptions } from "./pubsub.js";
import { HttpResponder, RawSocketResponder, type Responder } from "./responder.js";
import { DEFAULT_CONNECTION_LIMITS } from "./security-options.js";

/** A request handler: the seed's `void handler(Cgi cgi)`, which may now be async. */
export type Handler = (cgi: Cgi) => void | Promise<void>;

export interface HandlerOptions extends ServerOptions, PubSubOptions {
  /**
   * Called when a handler throws. The default logs to stderr. Before `acceptWebsocket()` the
   * client gets 500 (or an `HttpError`'s status); after it, the socket is closed with 1011.
   */
  onHandlerError?: (error: unknown, cgi: Cgi) => void;
}

/**
 * Runs a `Handler` for requests from any node:http / https server: attach `handleRequest` to
 * its "request" event and `handleUpgrade` to its "upgrade" event (Express, Fastify and Koa
 * expose the underlying server for this), and `handleConnection` to its "connection" event so
 * that handshakes count against the connection limits from the TCP accept (without it they
 * count from the WebSocket request). WebSocket requests from other sites' pages are refused
 * (see `allowedOrigins`), and those past `maxConnections` or `maxConnectionsPerIp`.
 */
export class HandlerHost {
  private readonly sockets = new Set<WebSocket>();
  private readonly acceptSettings: AcceptSettings;
  private readonly maxHeaderCount: number;
  private readonly handshakeTimeoutMs: number;
  private readonly origins: OriginPolicy;
  private readonly admission: ConnectionAdmission;
  /** Topics of the sockets accepted here, and the adapter to other processes. */
  readonly pubsub: PubSub;

  constructor(
    private readonly handler: Handler,
    private readonly options: HandlerOptions = {},
  ) {
    this.maxHeaderCount = options.maxHeaderCount ?? DEFAULT_SERVER_LIMITS.maxHeaderCount;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_SERVER_LIMITS.handshakeTimeoutMs;
    this.pubsub = new PubSub(options);
    const hops = trustedHops(options.trustProxy);
    const warnings = new RateLimitedWarnings(options.onWarning ?? ((message) => console.warn(message)));
    this.origins = new OriginPolicy(options.allowedOrigins, hops);
    const limiter = new ConnectionLimiter(
      options.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
      options.maxConnectionsPerIp ?? DEFAULT_CONNECTION_LIMITS.maxConnectionsPerIp,
    );
    this.admission = new ConnectionAdmission(limiter, hops, warnings, Math.min(this.handshakeTimeoutMs, REFUSED_GRACE_MS));
    const rateLimit = resolveRateLimit(options.messageRateLimit);
    this.acceptSettings = {
      socket: resolveSocketOptions(options),
      rateLimit,
      ...(rateLimit ? { onRateLimited: rateLimitWarner(rateLimit, warnings) } : {}),
      negotiateExtensions: options.perMessageDeflate === false ? null : serverDeflateNegotiator(deflateOptions(options.perMessageDeflate)),
      track: (socket) => this.track(socket),
    };
  }

  /**
   * For the server's "connection" event: counts each connection against `maxConnections` and
   * `maxConnectionsPerIp` from its TCP accept, so slow handshakes count too. `serve()` attaches it.
   */
  get handleConnection(): (socket: Socket) => void {
    return this.admission.handleConnection;
  }

  /** Every open WebSocket accepted through this host. */
  get clients(): ReadonlySet<WebSocket> {
    return this.sockets;
  }

  /** For the "request" event: plain HTTP requests (a browser loading the endpoint, say). */
  readonly handleRequest = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    const responder = new HttpResponder(res);
    if (this.tooManyHeaders(req)) return responder.fail(431, "Too many request headers.");
    const refused = this.admission.refusedConnection(req.socket);
    // HTTP/1.1 only: HTTP/2 forbids the Connection header (RFC 9113 section 8.2.2).
    if (refused)
      return responder.fail(refused.status, refused.message, req.httpVersionMajor === 1 ? { ...refused.headers, Connection: "close" } : refused.headers);
    this.run(new Cgi(req, responder, null), responder);
  };

  /** For the "upgrade" event: requests that ask to switch protocols. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const tcp = socket as Socket;
    // Until a WebSocket owns the socket, a reset must not become an uncaught 'error'.
    tcp.on("error", ignoreError);
    const responder = new RawSocketResponder(tcp);
    if (this.tooManyHeaders(req)) return responder.fail(431, "Too many request headers.");
    if (isWebSocketUpgrade(req.method ?? "GET", req.headers)) {
      const refused = this.refusal(req, tcp, tcp, true);
      if (refused) return responder.fail(refused.status, refused.message, refused.headers);
    } else {
      const refused = this.admission.refusedConnection(tcp);
      if (refused) return responder.fail(refused.status, refused.message, refused.headers);
    }
    const timer = setTimeout(failSlowHandshake, this.handshakeTimeoutMs, responder);
    timer.unref();
    const onClose = (): void => clearTimeout(timer);
    tcp.once("close", onClose);
    const cgi = new Cgi(req, responder, {
      socket: tcp,
      head,
      responder,
      settings: this.acceptSettings,
      // Leaves nothing of the handshake on the socket: a listener kept here would hold the
      // timer, the responder and its headers for the socket's whole life (about 400 bytes).
      onAccept: () => {
        clearTimeout(timer);
        tcp.off("close", onClose);
        tcp.off("error", ignoreError);
      },
    });
    this.run(cgi, responder);
  };

  /**
   * For the "connect" event of a node:http2 server with `settings: { enableConnectProtocol: true }`:
   * WebSockets over HTTP/2 (RFC 8441). `attachHttp2()` in server/http2.ts wires all three events.
   */
  readonly handleHttp2Connect = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    const responder = new HttpResponder(res);
    if (this.tooManyHeaders(req)) return responder.fail(431, "Too many request headers.");
    const stream = req.stream;
    // Until a WebSocket owns the stream, a reset must not become an uncaught 'error'.
    stream.on("error", ignoreError);
    const refused = this.refusal(req, req.socket, stream, false);
    if (refused) return responder.fail(refused.status, refused.message, refused.headers);
    const timer = setTimeout(failSlowHandshake, this.handshakeTimeoutMs, responder);
    timer.unref();
    const onClose = (): void => clearTimeout(timer);
    stream.once("close", onClose);
    const cgi = new Cgi(req, responder, {
      kind: "http2",
      stream,
      responder,
      settings: this.acceptSettings,
      onAccept: () => {
        clearTimeout(timer);
        stream.off("close", onClose);
        stream.off("error", ignoreError);
      },
    });
    this.run(cgi, responder);
  };

  /**
   * Sends `data` to every socket subscribed to `topic`, here and (through the adapter) on
   * other processes; see `PubSub.publish`. Returns the number of sockets here it was queued for.
   */
  publish(topic: string, data: WebSocketData, options?: PublishOptions): number {
    return this.pubsub.publish(topic, data, options);
  }

  /** Sockets on this server subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.pubsub.subscriberCount(topic);
  }

  /** Starts the closing handshake on every open socket (1001 "going away" by default). */
  closeAll(code = 1001, reason = "server shutting down"): void {
    for (const socket of this.sockets) {
      if (socket.readyState === ReadyState.OPEN) socket.close(code, reason);
    }
  }

  /** One function for every socket, rather than a closure each. */
  private readonly untrack = (socket: WebSocket): void => {
    this.sockets.delete(socket);
  };

  private track(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.joinTopics(this.pubsub);
    socket.observeClose(this.untrack);
  }

  /**
   * Why a WebSocket request must not reach the handler: its connection was refused at the
   * accept (503), its page's origin is not allowed (403), or it passes a connection limit
   * (503). Null when it may go on; it then counts against the limits until `closes` closes.
   */
  private refusal(req: IncomingMessage | Http2ServerRequest, peer: Socket, closes: Duplex, ownConnection: boolean): ConnectionRefusal | HttpError | null {
    const refusedAtAccept = this.admission.refusedConnection(peer);
    if (refusedAtAccept) return refusedAtAccept;
    const secure = (peer as Socket & { encrypted?: boolean }).encrypted === true || req.headers[":scheme"] === "https";
    const badOrigin = this.origins.refusal(req.headers, secure);
    if (badOrigin !== null) return new HttpError(403, badOrigin);
    return this.admission.admitWebSocket(req.headers, peer, closes, ownConnection);
  }

  private tooManyHeaders(req: IncomingMessage | Http2ServerRequest): boolean {
    return req.rawHeaders.length / 2 > this.maxHeaderCount;
  }

  private run(cgi: Cgi, responder: Responder): void {
    let result: void | Promise<void>;
    try {
      result = this.handler(cgi);
    } catch (error) {
      this.handlerFailed(error, cgi, responder);
      return;
    }
    if (result && typeof (result as Promise<void>).then === "function") {
      // The callbacks hold only `cgi`: once it has accepted, it no longer holds the HTTP side.
      (result as Promise<void>).then(
        () => this.handlerDone(cgi, cgi.plainAnswer),
        (error: unknown) => this.handlerFailed(error, cgi, cgi.plainAnswer),
      );
    } else {
      this.handlerDone(cgi, responder);
    }
  }

  private handlerDone(cgi: Cgi, responder: Responder): void {
    if (!cgi.websocket) responder.finish();
  }

  private handlerFailed(error: unknown, cgi: Cgi, responder: Responder): void {
    const socket = cgi.websocket;
    if (!(error instanceof HttpError) || socket) {
      if (this.options.onHandlerError) this.options.onHandlerError(error, cgi);
      else console.error(`hawser: handler failed for ${cgi.requestMethod} ${cgi.requestUri}:`, error);
    }
    if (socket) {
      // After the handshake the only way to report is the close code (RFC 6455 section 7.4.1).
      if (socket.readyState === ReadyState.OPEN) socket.close(1011, "internal error");
      return;
    }
    if (error instanceof HttpError) responder.fail(error.status, error.message, error.headers);
    else responder.fail(500, "Internal Server Error");
  }
}

function ignoreError(): void {}

function deflateOptions(setting: boolean | PerMessageDeflateOptions | undefined): PerMessageDeflateOptions {
  return typeof setting === "object" ? setting : {};
}

function failSlowHandshake(responder: Responder): void {
  responder.fail(408, "The WebSocket handshake took too long.");
}
