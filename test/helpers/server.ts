// Starts a hawser server on 127.0.0.1 with an OS-chosen port, for tests over real sockets.
import type { Socket } from "node:net";
import { serve, type HawserServer } from "../../src/server/serve.js";
import type { Cgi } from "../../src/server/cgi.js";
import type { Handler, HandlerOptions } from "../../src/server/handler.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { withTimeout } from "./wait.js";

export interface TestServer {
  readonly server: HawserServer;
  readonly port: number;
  /** "ws://127.0.0.1:PORT" (no trailing slash: append a path). */
  readonly url: string;
  /** "http://127.0.0.1:PORT". */
  readonly httpUrl: string;
  /** Errors the handler threw (or rejected with), in order, with the request they came from. */
  readonly handlerErrors: Array<{ error: unknown; cgi: Cgi }>;
  /** Server-side TCP sockets, in accept order: `bytesRead` shows whether the server reads. */
  readonly connections: Socket[];
  /** Cuts every connection and stops the server; safe to call twice. */
  close(): Promise<void>;
}

/**
 * `serve(handler, options)` on 127.0.0.1, port 0. Handler errors are recorded in
 * `handlerErrors` instead of being logged (pass `onHandlerError` to see them yourself).
 * Always pair with `after(() => s.close())` or a `finally`.
 */
export async function startServer(handler: Handler, options: HandlerOptions & { http2?: false } = {}): Promise<TestServer> {
  const handlerErrors: Array<{ error: unknown; cgi: Cgi }> = [];
  const server = await serve(handler, {
    onHandlerError: (error, cgi) => handlerErrors.push({ error, cgi }),
    ...options,
    host: "127.0.0.1",
    port: 0,
  });
  const connections: Socket[] = [];
  server.httpServer.on("connection", (socket: Socket) => connections.push(socket));
  let closing: Promise<void> | null = null;
  return {
    server,
    port: server.port,
    url: `ws://127.0.0.1:${server.port}`,
    httpUrl: `http://127.0.0.1:${server.port}`,
    handlerErrors,
    connections,
    close() {
      closing ??= (async () => {
        for (const socket of connections) socket.destroy();
        await withTimeout(server.close(), 5000, "the test server to close");
      })();
      return closing;
    },
  };
}

export interface SocketServer extends TestServer {
  /** The next socket the server accepted (in accept order), with its request. */
  nextSocket(timeoutMs?: number): Promise<{ socket: WebSocket; cgi: Cgi }>;
}

/**
 * A server that accepts every WebSocket request and hands the server-side sockets to the test.
 * `onAccept` runs inside the handler, right after `acceptWebsocket()`, before any event-loop
 * turn: the place to set event handlers that must not miss anything.
 */
export async function startSocketServer(
  options: HandlerOptions & { http2?: false } = {},
  onAccept: (socket: WebSocket, cgi: Cgi) => void = () => undefined,
): Promise<SocketServer> {
  const ready: Array<{ socket: WebSocket; cgi: Cgi }> = [];
  const waiters: Array<(accepted: { socket: WebSocket; cgi: Cgi }) => void> = [];
  const base = await startServer((cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("WebSocket test server\n", true);
      return;
    }
    const socket = cgi.acceptWebsocket();
    onAccept(socket, cgi);
    const accepted = { socket, cgi };
    const waiter = waiters.shift();
    if (waiter) waiter(accepted);
    else ready.push(accepted);
  }, options);
  return {
    ...base,
    nextSocket(timeoutMs = 3000) {
      const accepted = ready.shift();
      if (accepted) return Promise.resolve(accepted);
      return withTimeout(new Promise((resolve) => waiters.push(resolve)), timeoutMs, "the server to accept a WebSocket");
    },
  };
}
