// The seed's echo server (src/cli/echo.ts) in-process, for interop tests, plus a "/close" path
// where hawser starts the closing handshake: /close?code=4000&reason=bye.
import type { Handler, HandlerOptions } from "../../src/server/handler.js";
import { echoHandler } from "../../src/cli/echo.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { startServer, type TestServer } from "./server.js";

export interface EchoServer extends TestServer {
  /** The server side of every echo connection, in accept order (to check what the server saw). */
  readonly sockets: WebSocket[];
}

export async function startEchoServer(options: HandlerOptions & { http2?: false } = {}): Promise<EchoServer> {
  const sockets: WebSocket[] = [];
  const seedEcho = echoHandler();
  const handler: Handler = (cgi) => {
    if (cgi.pathInfo === "/close" && cgi.websocketRequested()) {
      const socket = cgi.acceptWebsocket();
      sockets.push(socket);
      socket.close(Number(cgi.query.get("code") ?? 1000), cgi.query.get("reason") ?? "");
      return;
    }
    const done = seedEcho(cgi);
    // acceptWebsocket() runs before the seed's handler first awaits, so the socket is known here.
    if (cgi.websocket) sockets.push(cgi.websocket);
    return done;
  };
  const server = await startServer(handler, options);
  return { ...server, sockets };
}
