import { createSecureServer, Http2ServerRequest, type Http2SecureServer, type Http2Server, type Http2ServerResponse, type Http2Session } from "node:http2";
import type { Duplex } from "node:stream";
import { isExtendedConnectWebSocket } from "../protocol/extended-connect.js";
import type { TLSSocket } from "node:tls";
import type { HandlerHost } from "./handler.js";
import { DEFAULT_SERVER_LIMITS, type ServerOptions } from "./options.js";

/**
 * WebSockets over HTTP/2 (RFC 8441) beside HTTP/1.1 on one TLS port. Browsers open a WebSocket
 * on an HTTP/2 connection they already have to the origin (the page's own) when the server
 * advertises SETTINGS_ENABLE_CONNECT_PROTOCOL; everything else (older clients, `ws`, curl
 * --http1.1) reaches the same handler through the HTTP/1.1 Upgrade.
 */

/**
 * Wires a node:http2 server to a `HandlerHost`: requests of both HTTP versions ("request"),
 * HTTP/1.1 upgrades ("upgrade", with `allowHTTP1`), RFC 8441 extended CONNECTs ("connect"),
 * and the TCP accept ("connection", for the connection limits). Create the server with
 * `settings: { enableConnectProtocol: true }` or clients never send one.
 */
export function attachHttp2(server: Http2SecureServer | Http2Server, host: HandlerHost): void {
  server.on("connection", host.handleConnection);
  server.on("request", host.handleRequest);
  server.on("upgrade", host.handleUpgrade);
  server.on("connect", (req: unknown, resOrSocket: unknown) => {
    if (req instanceof Http2ServerRequest) {
      const res = resOrSocket as Http2ServerResponse;
      if (isExtendedConnectWebSocket(req.headers)) {
        host.handleHttp2Connect(req, res);
      } else {
        // A plain CONNECT (a tunnel) or another :protocol: this server is not a proxy.
        res.writeHead(405, { allow: "GET, HEAD, POST" }).end();
      }
    } else {
      // An HTTP/1.1 CONNECT (a proxy request) on an allowHTTP1 server: not ours to serve.
      const socket = resOrSocket as Duplex;
      socket.end("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
  });
}

/** How `HawserServer.close()` ends the connections of a server. */
export interface ConnectionCloser {
  /** Ends connections that carry no request or WebSocket (before the sockets are closed). */
  closeIdle(): void;
  /** Ends every connection that is left (after the sockets are closed). */
  closeAll(): void;
}

/**
 * The embedded HTTP/2 server of `serve(handler, { tls, http2: true })`: TLS with ALPN "h2" and
 * "http/1.1", RFC 8441 enabled, the handler attached. Also returns what closes its connections,
 * since node:http2 servers lack `closeAllConnections()`.
 */
export function createHttp2Server(host: HandlerHost, options: ServerOptions): { server: Http2SecureServer; connections: ConnectionCloser } {
  if (!options.tls) {
    throw new Error("http2: true needs tls: { cert, key }: browsers speak HTTP/2 only over TLS (and so only wss:// gets RFC 8441).");
  }
  const server = createSecureServer({
    ...options.tls,
    allowHTTP1: true,
    settings: {
      // RFC 8441 section 3: without this setting clients must not send an extended CONNECT.
      enableConnectProtocol: true,
      maxHeaderListSize: options.maxHeaderBytes ?? DEFAULT_SERVER_LIMITS.maxHeaderBytes,
    },
  });
  attachHttp2(server, host);
  const sessions = new Set<Http2Session>();
  const sockets = new Set<TLSSocket>();
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // A peer's reset must not become an uncaught 'error'; the streams report their own.
    session.on("error", () => undefined);
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const connections: ConnectionCloser = {
    // GOAWAY (RFC 9113 section 6.8): no new streams; WebSocket streams go on until they close.
    closeIdle: () => {
      for (const session of sessions) session.close();
    },
    closeAll: () => {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
  return { server, connections };
}
