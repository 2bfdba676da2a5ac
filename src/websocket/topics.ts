import type { WebSocket, WebSocketData } from "./websocket.js";

/** Options of `publish()`. */
export interface PublishOptions {
  /**
   * Send as a binary message (true) or a text message (false). The default follows the data:
   * a string is text, bytes are binary. Bytes sent as text must be valid UTF-8.
   */
  binary?: boolean;
}

/**
 * What a server socket's topic methods delegate to: the pub/sub hub of the server that
 * accepted it (`src/server/pubsub.ts`). Declared here so the socket layer does not import
 * the server layer.
 */
export interface SocketTopics {
  subscribe(socket: WebSocket, topic: string): Promise<void>;
  unsubscribe(socket: WebSocket, topic: string): boolean;
  isSubscribed(socket: WebSocket, topic: string): boolean;
  topicsOf(socket: WebSocket): string[];
  publish(topic: string, data: WebSocketData, options: PublishOptions | undefined, except: WebSocket | null): number;
  /** The socket closed (or was dropped): forget its subscriptions. */
  socketClosed(socket: WebSocket): void;
}
