import { ClientWebSocket } from "./client-websocket.js";
import type { ClientConfig } from "./config.js";

/**
 * Connects to a WebSocket server: `const socket = await connect("ws://host:port/path", config)`.
 * Rejects with a `WebSocketHandshakeError` (with `status` when the server answered over HTTP).
 */
export async function connect(url: string | URL, config: ClientConfig = {}): Promise<ClientWebSocket> {
  const socket = new ClientWebSocket(url, config);
  await socket.connect();
  return socket;
}
