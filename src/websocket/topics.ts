import type { Buffer } from "node:buffer";
import type { WebSocket, WebSocketData } from "./websocket.js";
import type { SendOptions } from "./message-data.js";

/** Options of `publish()`: the same as `send()`'s. */
export type PublishOptions = SendOptions;

/** A published message, as server-side listeners and `format` functions see it. */
export interface PubSubMessage {
  readonly topic: string;
  readonly data: Buffer;
  readonly binary: boolean;
  /**
   * The message's place in its topic (opaque, ordered, the same on every process), from an
   * ordered adapter (the default in-memory one, `RedisStreamsAdapter`); undefined with a
   * relaying adapter (`RedisAdapter`, fire-and-forget).
   */
  readonly offset: string | undefined;
}

/** Options of `subscribe()`. */
export interface SubscribeOptions {
  /**
   * Resume: first send every message of the topic after this offset that its history still
   * holds, then go live, with no gap and no duplicate between the two. Needs an ordered
   * adapter. Whether the history still reached back is in the resolved `Subscription`.
   */
  since?: string;
  /**
   * What the socket is sent for each message, instead of the published data as is: a string
   * goes as text, bytes as binary. Called once per message for all sockets given the same
   * function (so keep one function, not a new closure per socket), e.g. to add the offset.
   */
  format?: (message: PubSubMessage) => WebSocketData;
}

/** What `subscribe()` resolves to. */
export interface Subscription {
  /** Messages sent from history (with `since`); 0 otherwise. */
  readonly replayed: number;
  /**
   * True when, with `since`, the history no longer reached back to it: messages after it
   * were trimmed (or it is not an offset of this topic). What was still there was sent.
   */
  readonly truncated: boolean;
  /**
   * Where the subscription stands: every message after this offset is sent to the socket
   * (the last one replayed, or the topic's position when it went live). A client told this
   * offset can resume from it after a drop even if no message came in between. Undefined with
   * a relaying adapter.
   */
  readonly offset: string | undefined;
}

/**
 * What a server socket's topic methods delegate to: the pub/sub hub of the server that
 * accepted it (`src/server/pubsub.ts`). Declared here so the socket layer does not import
 * the server layer.
 */
export interface SocketTopics {
  subscribe(socket: WebSocket, topic: string, options?: SubscribeOptions): Promise<Subscription>;
  unsubscribe(socket: WebSocket, topic: string): boolean;
  isSubscribed(socket: WebSocket, topic: string): boolean;
  topicsOf(socket: WebSocket): string[];
  publish(topic: string, data: WebSocketData, options: PublishOptions | undefined, except: WebSocket | null): number;
  publishConfirmed(topic: string, data: WebSocketData, options: PublishOptions | undefined, except: WebSocket | null): Promise<string>;
  /** The socket closed (or was dropped): forget its subscriptions. */
  socketClosed(socket: WebSocket): void;
}
