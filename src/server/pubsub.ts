import { Buffer } from "node:buffer";
import { CloseCode } from "../protocol/close.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import { PreparedMessage } from "../transport/prepared-message.js";
import type { PublishOptions, SocketTopics } from "../websocket/topics.js";
import type { WebSocket, WebSocketData } from "../websocket/websocket.js";
import { bytesOf, requireUtf8 } from "../websocket/message-data.js";
import { MemoryAdapter, type PubSubAdapter } from "./pubsub-adapter.js";

export interface PubSubOptions {
  /**
   * Relays publishes to and from other processes (e.g. `RedisAdapter` from "hawser/redis").
   * Default: an in-memory adapter, which keeps topics within this server. The server owns
   * the adapter: `HawserServer.close()` closes it (with a `HandlerHost` on a server of your
   * own, call `host.pubsub.close()`).
   */
  pubsubAdapter?: PubSubAdapter;
  /**
   * The slow-subscriber limit. A published message is queued for a subscriber only while its
   * `bufferedAmount` (bytes sent but not yet taken by the network) stays within this many
   * bytes; a subscriber that would go past it (or past its own `maxSendBufferBytes`) is
   * dropped: closed with 1008 and unsubscribed from everything. A message larger than the
   * limit still goes to a subscriber with nothing buffered. Default 4 MiB.
   */
  maxPublishBufferBytes?: number;
}

export const DEFAULT_MAX_PUBLISH_BUFFER_BYTES = 4 * 1024 * 1024;

/** The close reason a dropped slow subscriber gets, with close code 1008 (policy violation). */
export const SLOW_SUBSCRIBER_REASON = "too slow: publish buffer limit reached";

/** A message as a server-side listener (`PubSub.listen`) receives it. */
export interface PubSubMessage {
  readonly topic: string;
  readonly data: Buffer;
  readonly binary: boolean;
}

export type TopicListener = (message: PubSubMessage) => void;

interface Topic {
  readonly name: string;
  readonly sockets: Set<WebSocket>;
  readonly listeners: Set<TopicListener>;
  /** Resolves once the adapter brings in this topic's publishes from other processes. */
  readonly ready: Promise<void>;
}

/**
 * A server's topics: which local sockets (and listeners) are subscribed to what, delivery of
 * publishes to them, and the adapter that connects this server to other processes.
 *
 * Delivery: a publish is encoded once into a `PreparedMessage` whose frame buffers every
 * subscriber's connection writes as they are (compressed once per deflate parameter set when
 * the codecs allow sharing). Local subscribers get it synchronously, in publish order;
 * subscribers on other processes get it through the adapter, in the order this process
 * published. Slow subscribers are handled by `maxPublishBufferBytes` (see `PubSubOptions`).
 */
export class PubSub implements SocketTopics {
  readonly adapter: PubSubAdapter;
  readonly maxPublishBufferBytes: number;
  private readonly byName = new Map<string, Topic>();
  private readonly memberships = new Map<WebSocket, Set<string>>();
  private droppedCount = 0;
  private closing: Promise<void> | null = null;

  constructor(options: PubSubOptions = {}) {
    const limit = options.maxPublishBufferBytes ?? DEFAULT_MAX_PUBLISH_BUFFER_BYTES;
    if (!Number.isFinite(limit) || limit <= 0) {
      throw new RangeError(`maxPublishBufferBytes must be a positive number, got ${limit}.`);
    }
    this.maxPublishBufferBytes = limit;
    this.adapter = options.pubsubAdapter ?? new MemoryAdapter();
    this.adapter.attach(this.receive);
  }

  /** Subscribers dropped so far for going past `maxPublishBufferBytes`. */
  get droppedSubscribers(): number {
    return this.droppedCount;
  }

  /** Topics with at least one subscriber (socket or listener) on this server. */
  get topics(): string[] {
    return [...this.byName.keys()];
  }

  /** Sockets on this server subscribed to `topic` (other processes are not counted). */
  subscriberCount(topic: string): number {
    return this.byName.get(topic)?.sockets.size ?? 0;
  }

  subscribe(socket: WebSocket, topic: string): Promise<void> {
    checkTopic(topic);
    // A socket that is already closing would never be told to forget the subscription.
    if (socket.readyState !== ReadyState.OPEN) return Promise.resolve();
    let mine = this.memberships.get(socket);
    if (!mine) this.memberships.set(socket, (mine = new Set()));
    const entry = this.topic(topic);
    mine.add(topic);
    entry.sockets.add(socket);
    return entry.ready;
  }

  unsubscribe(socket: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const mine = this.memberships.get(socket);
    if (!mine || !mine.delete(topic)) return false;
    if (mine.size === 0) this.memberships.delete(socket);
    const entry = this.byName.get(topic);
    if (entry) {
      entry.sockets.delete(socket);
      this.releaseIfUnused(entry);
    }
    return true;
  }

  isSubscribed(socket: WebSocket, topic: string): boolean {
    return this.memberships.get(socket)?.has(topic) ?? false;
  }

  topicsOf(socket: WebSocket): string[] {
    const mine = this.memberships.get(socket);
    return mine ? [...mine] : [];
  }

  /** A socket closed or was dropped: forgets its subscriptions. @internal */
  socketClosed(socket: WebSocket): void {
    const mine = this.memberships.get(socket);
    if (!mine) return;
    this.memberships.delete(socket);
    for (const name of mine) {
      const entry = this.byName.get(name);
      if (!entry) continue;
      entry.sockets.delete(socket);
      this.releaseIfUnused(entry);
    }
  }

  /**
   * Calls `listener` for every message published to `topic`, here or on another process,
   * as a subscriber would get it. Resolves, once publishes from other processes arrive too,
   * to a function that stops listening.
   */
  async listen(topic: string, listener: TopicListener): Promise<() => void> {
    checkTopic(topic);
    const entry = this.topic(topic);
    // A set holds a function once: wrap it so the same function may listen twice.
    const own: TopicListener = (message) => listener(message);
    entry.listeners.add(own);
    await entry.ready;
    return () => {
      if (entry.listeners.delete(own)) this.releaseIfUnused(entry);
    };
  }

  /**
   * Sends `data` to every subscriber of `topic` except `except`: on this server now, and on
   * other processes through the adapter. Text for a string, binary for bytes, unless
   * `options.binary` says otherwise. Returns the number of sockets here it was queued for.
   */
  publish(topic: string, data: WebSocketData, options?: PublishOptions, except: WebSocket | null = null): number {
    checkTopic(topic);
    const message = prepare(data, options?.binary);
    const binary = message.opcode === WebSocketOpcode.binary;
    if (this.closing === null) this.adapter.publish(topic, message.payload, binary);
    const entry = this.byName.get(topic);
    return entry ? this.deliver(entry, message, except) : 0;
  }

  /** Closes the adapter; publishes after this reach local subscribers only. */
  close(): Promise<void> {
    this.closing ??= this.adapter.close();
    return this.closing;
  }

  /** A publish from another process, as the adapter hands it over. */
  private readonly receive = (topic: string, payload: Buffer, binary: boolean): void => {
    const entry = this.byName.get(topic);
    if (!entry) return;
    this.deliver(entry, new PreparedMessage(binary ? WebSocketOpcode.binary : WebSocketOpcode.text, payload), null);
  };

  private deliver(entry: Topic, message: PreparedMessage, except: WebSocket | null): number {
    const limit = this.maxPublishBufferBytes;
    const size = message.payload.length;
    let sent = 0;
    for (const socket of entry.sockets) {
      if (socket === except) continue;
      const buffered = socket.bufferedAmount;
      if (buffered > 0 && buffered + size > limit) {
        this.dropSlow(socket);
        continue;
      }
      if (socket.sendPrepared(message)) sent++;
      // Refused while open: past the socket's own send buffer limit (maxSendBufferBytes).
      else if (socket.readyState === ReadyState.OPEN) this.dropSlow(socket);
    }
    if (entry.listeners.size > 0) {
      const event: PubSubMessage = { topic: entry.name, data: message.payload, binary: message.opcode === WebSocketOpcode.binary };
      for (const listener of [...entry.listeners]) {
        try {
          listener(event);
        } catch (error) {
          console.error(`hawser: a listener of topic '${entry.name}' threw:`, error);
        }
      }
    }
    return sent;
  }

  /**
   * The slow-subscriber policy: buffering more would grow memory without bound, so the
   * subscriber is unsubscribed at once and closed with 1008 (policy violation, RFC 6455
   * section 7.4.1). Nothing more is queued for it; its close timeout cuts the connection if
   * it never reads its way to the close frame.
   */
  private dropSlow(socket: WebSocket): void {
    this.droppedCount++;
    this.socketClosed(socket);
    socket.close(CloseCode.policyViolation, SLOW_SUBSCRIBER_REASON);
  }

  private topic(name: string): Topic {
    let entry = this.byName.get(name);
    if (!entry) {
      const ready = this.adapter.subscribe(name).catch(() => undefined);
      entry = { name, sockets: new Set(), listeners: new Set(), ready };
      this.byName.set(name, entry);
    }
    return entry;
  }

  private releaseIfUnused(entry: Topic): void {
    if (entry.sockets.size > 0 || entry.listeners.size > 0) return;
    if (this.byName.get(entry.name) !== entry) return;
    this.byName.delete(entry.name);
    this.adapter.unsubscribe(entry.name);
  }
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new TypeError(`A topic is a non-empty string, got ${typeof topic === "string" ? "''" : typeof topic}.`);
  }
}

function prepare(data: WebSocketData, binary: boolean | undefined): PreparedMessage {
  if (typeof data === "string" && binary !== true) return new PreparedMessage(WebSocketOpcode.text, Buffer.from(data));
  const bytes = bytesOf(data, "publish");
  if (binary === false) return new PreparedMessage(WebSocketOpcode.text, requireUtf8(bytes, "publish"));
  return new PreparedMessage(WebSocketOpcode.binary, bytes);
}
