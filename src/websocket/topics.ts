import type { WebSocket, WebSocketData } from "./websocket.js";
import type { SendOptions } from "./message-data.js";

/** Options of `publish()`: the same as `send()`'s. */
export type PublishOptions = SendOptions;

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
