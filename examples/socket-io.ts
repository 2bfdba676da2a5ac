// Socket.IO with hawser carrying its WebSockets: Socket.IO takes the WebSocket server class it
// uses as its `wsEngine` option, and hawser/ws's WebSocketServer is a drop-in for ws's. The rest
// is Socket.IO as usual; its clients (socket.io-client, browsers) see no difference.
// Run it:  npx tsx examples/socket-io.ts --port 8080
// then connect socket.io-client to http://127.0.0.1:8080 and emit "chat" with a text and an ack.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseListenArguments } from "hawser";
import { WebSocketServer } from "hawser/ws";
import { Server } from "socket.io";
import { isMainModule } from "./mount-handler.js";

export interface RunningChat {
  readonly port: number;
  readonly io: Server;
  /** Disconnects every client, then closes the server. */
  close(): Promise<void>;
}

export async function start(port = 0, hostname = "127.0.0.1"): Promise<RunningChat> {
  const httpServer = createServer();
  const io = new Server(httpServer, { wsEngine: WebSocketServer });

  io.on("connection", (socket) => {
    socket.on("chat", (text: unknown, ack?: (reply: string) => void) => {
      if (typeof text !== "string") return;
      socket.broadcast.emit("chat", { from: socket.id, text }); // everyone but the sender
      ack?.(`delivered to ${io.engine.clientsCount - 1}`);
    });
  });

  await new Promise<void>((resolve) => httpServer.listen(port, hostname, resolve));
  return {
    port: (httpServer.address() as AddressInfo).port,
    io,
    close: () => io.close(), // resolves once the HTTP server has closed too
  };
}

if (isMainModule(import.meta.url)) {
  const { port, host } = parseListenArguments(process.argv.slice(2));
  const chat = await start(port, host ?? "127.0.0.1");
  console.log(`socket-io: listening on http://${host ?? "127.0.0.1"}:${chat.port}/`);
}
