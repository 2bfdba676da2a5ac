import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { PublishOptions } from "../websocket/topics.js";
import type { WebSocketData } from "../websocket/websocket.js";
import { HandlerHost, type Handler, type HandlerOptions } from "./handler.js";
import { createHttp2Server, type ConnectionCloser } from "./http2.js";
import type { PubSub } from "./pubsub.js";
import { DEFAULT_SERVER_LIMITS } from "./options.js";

/**
 * A running embedded server: `serve()` resolves to one once it listens. `S` is the node server
 * underneath: node:http's (or https's), or node:http2's with `http2: true`.
 */
export class HawserServer<S extends HttpServer | Http2SecureServer = HttpServer> {
  private readonly connections: ConnectionCloser;

  constructor(
    /** The node:http (or https, or http2) server underneath. */
    readonly httpServer: S,
    /** Runs the handler; its `clients` are the open WebSockets. */
    readonly host: HandlerHost,
    private readonly secure: boolean,
    /** How to end its connections; node:http's own methods by default. */
    connections?: ConnectionCloser,
  ) {
    this.connections = connections ?? {
      closeIdle: () => (httpServer as HttpServer).closeIdleConnections(),
      closeAll: () => (httpServer as HttpServer).closeAllConnections(),
    };
  }

  /** The port actually listened on (useful with port 0). */
  get port(): number {
    return (this.httpServer.address() as AddressInfo).port;
  }

  /** Base URL of the server, e.g. "ws://127.0.0.1:8085/". */
  get url(): string {
    const address = this.httpServer.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `${this.secure ? "wss" : "ws"}://${host}:${address.port}/`;
  }

  /** Topics of this server's sockets and the adapter to other processes. */
  get pubsub(): PubSub {
    return this.host.pubsub;
  }

  /** Sends `data` to every subscriber of `topic`, here and on other processes (see `PubSub.publish`). */
  publish(topic: string, data: WebSocketData, options?: PublishOptions): number {
    return this.host.pubsub.publish(topic, data, options);
  }

  /** Sockets on this server subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.host.pubsub.subscriberCount(topic);
  }

  /**
   * Stops accepting connections, closes every WebSocket with `code` (1001 "going away"),
   * and resolves when all connections have ended (sockets that do not finish the closing
   * handshake are cut after their close timeout).
   */
  async close(code = 1001, reason = "server shutting down"): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    this.connections.closeIdle();
    const closing = [...this.host.clients].map((socket) => socket.closed);
    this.host.closeAll(code, reason);
    await Promise.all(closing);
    this.connections.closeAll();
    await stopped;
    await this.host.pubsub.close();
  }
}

/**
 * Serves `handler` on an embedded HTTP server (HTTPS with `options.tls`; HTTP/2 with RFC 8441
 * WebSockets beside HTTP/1.1 with `tls` and `http2: true`): plain requests and WebSocket
 * upgrades both reach it. Resolves once listening.
 */
export function serve(handler: Handler, options: HandlerOptions & { http2: true }): Promise<HawserServer<Http2SecureServer>>;
export function serve(handler: Handler, options?: HandlerOptions & { http2?: false }): Promise<HawserServer>;
export function serve(handler: Handler, options?: HandlerOptions): Promise<HawserServer<HttpServer | Http2SecureServer>>;
export async function serve(handler: Handler, options: HandlerOptions = {}): Promise<HawserServer<HttpServer | Http2SecureServer>> {
  const host = new HandlerHost(handler, options);
  if (options.http2) {
    const { server, connections } = createHttp2Server(host, options);
    await listen(server, options);
    return new HawserServer<Http2SecureServer>(server, host, true, connections);
  }
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_SERVER_LIMITS.handshakeTimeoutMs;
  const serverOptions = {
    maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_SERVER_LIMITS.maxHeaderBytes,
    // A client has this long to send its request head (slowloris protection) ...
    headersTimeout: handshakeTimeoutMs,
    requestTimeout: handshakeTimeoutMs * 2,
    // ... checked this often (Node's default of 30 s is too coarse for short timeouts).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, handshakeTimeoutMs / 2)),
  };
  const httpServer: HttpServer = options.tls ? createHttpsServer({ ...serverOptions, ...options.tls }) : createHttpServer(serverOptions);
  // Parse one header more than allowed, so "too many" is detectable rather than silently truncated.
  httpServer.maxHeadersCount = (options.maxHeaderCount ?? DEFAULT_SERVER_LIMITS.maxHeaderCount) + 1;
  // Connections count against maxConnections and maxConnectionsPerIp from the accept on.
  httpServer.on("connection", host.handleConnection);
  httpServer.on("request", host.handleRequest);
  httpServer.on("upgrade", host.handleUpgrade);
  httpServer.on("clientError", answerClientError);
  await listen(httpServer, options);
  return new HawserServer(httpServer, host, options.tls !== undefined);
}

function listen(server: HttpServer | Http2SecureServer, options: HandlerOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** A malformed or oversized request gets an HTTP error, never a crash. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const status =
    error.code === "HPE_HEADER_OVERFLOW"
      ? "431 Request Header Fields Too Large"
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "408 Request Timeout"
        : "400 Bad Request";
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
