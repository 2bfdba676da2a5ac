import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { HandlerHost, type Handler, type HandlerOptions } from "./handler.js";
import { DEFAULT_SERVER_LIMITS } from "./options.js";

/** A running embedded server: `serve()` resolves to one once it listens. */
export class HawserServer {
  constructor(
    /** The node:http (or https) server underneath. */
    readonly httpServer: HttpServer,
    /** Runs the handler; its `clients` are the open WebSockets. */
    readonly host: HandlerHost,
    private readonly secure: boolean,
  ) {}

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

  /**
   * Stops accepting connections, closes every WebSocket with `code` (1001 "going away"),
   * and resolves when all connections have ended (sockets that do not finish the closing
   * handshake are cut after their close timeout).
   */
  async close(code = 1001, reason = "server shutting down"): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    this.httpServer.closeIdleConnections();
    const closing = [...this.host.clients].map((socket) => socket.closed);
    this.host.closeAll(code, reason);
    await Promise.all(closing);
    this.httpServer.closeAllConnections();
    await stopped;
  }
}

/**
 * Serves `handler` on an embedded HTTP server (HTTPS with `options.tls`): plain requests and
 * WebSocket upgrades both reach it. Resolves once listening.
 */
export async function serve(handler: Handler, options: HandlerOptions = {}): Promise<HawserServer> {
  const host = new HandlerHost(handler, options);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_SERVER_LIMITS.handshakeTimeoutMs;
  const serverOptions = {
    maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_SERVER_LIMITS.maxHeaderBytes,
    // A client has this long to send its request head (slowloris protection) ...
    headersTimeout: handshakeTimeoutMs,
    requestTimeout: handshakeTimeoutMs * 2,
    // ... checked this often (Node's default of 30 s is too coarse for short timeouts).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, handshakeTimeoutMs / 2)),
  };
  const httpServer: HttpServer = options.tls
    ? createHttpsServer({ ...serverOptions, ...options.tls })
    : createHttpServer(serverOptions);
  // Parse one header more than allowed, so "too many" is detectable rather than silently truncated.
  httpServer.maxHeadersCount = (options.maxHeaderCount ?? DEFAULT_SERVER_LIMITS.maxHeaderCount) + 1;
  httpServer.on("request", host.handleRequest);
  httpServer.on("upgrade", host.handleUpgrade);
  httpServer.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(options.port ?? 0, options.host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  return new HawserServer(httpServer, host, options.tls !== undefined);
}

/** A malformed or oversized request gets an HTTP error, never a crash. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const status =
    error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large"
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout"
    : "400 Bad Request";
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
