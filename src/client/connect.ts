import { ClientWebSocket } from "./client-websocket.js";
import type { ConnectConfig } from "./config.js";

/**
 * Connects to a WebSocket server: `const socket = await connect("ws://host:port/path", config)`.
 * Rejects with a `WebSocketHandshakeError` (with `status` when the server answered over HTTP).
 * With `config.reconnect`, the socket reconnects after drops (see `ClientWebSocket`).
 */
export async function connect(url: string | URL, config: ConnectConfig = {}): Promise<ClientWebSocket> {
  const socket = new ClientWebSocket(url, config);
  await socket.connect();
  return socket;
}
