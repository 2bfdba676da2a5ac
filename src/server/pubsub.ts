import type { Buffer } from "node:buffer";
import { CloseCode } from "../protocol/close.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import { PreparedMessage } from "../transport/prepared-message.js";
import type { PubSubMessage, PublishOptions, SocketTopics, SubscribeOptions, Subscription } from "../websocket/topics.js";
import type { WebSocket, WebSocketData } from "../websocket/websocket.js";
import { isOrdered, type OrderedPubSubAdapter, type PubSubAdapter } from "./pubsub-adapter.js";
import { MemoryAdapter } from "./pubsub-memory.js";
import { prepare, Resumer, type MessageFormat, type SubscriberState } from "./pubsub-resume.js";

export type { PubSubMessage, SubscribeOptions, Subscription } from "../websocket/topics.js";

export interface PubSubOptions {
  /**
   * Carries topics to and from other processes: `RedisStreamsAdapter` (ordered, with history)
   * or `RedisAdapter` (fire-and-forget) from "hawser/redis". Default: an in-memory adapter,
   * ordered and with history, which keeps topics within this server. The server owns the
   * adapter: `HawserServer.close()` closes it (with a `HandlerHost` on a server of your own,
   * call `host.pubsub.close()`).
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

export type TopicListener = (message: PubSubMessage) => void;

interface Topic {
  readonly name: string;
  readonly sockets: Set<WebSocket>;
  /** Sockets subscribed with a `format`, or still receiving history; null while there are none. */
  extras: Map<WebSocket, SubscriberState> | null;
  readonly listeners: Set<TopicListener>;
  /** Resolves once the adapter brings in this topic's publishes from other processes. */
  readonly ready: Promise<void>;
}

/** What the hub hands an ordered adapter with a publish, and gets back with its delivery. */
interface Origin {
  readonly except: WebSocket | null;
  /** Sockets here it was queued for, once delivered (-1 before). */
  queued: number;
}

/**
 * A server's topics: which local sockets (and listeners) are subscribed to what, delivery of
 * publishes to them, and the adapter that connects this server to other processes.
 *
 * Delivery: a publish is encoded once into a `PreparedMessage` whose frame buffers every
 * subscriber's connection writes as they are (compressed once per deflate parameter set when
 * the codecs allow sharing). With a relaying adapter, local subscribers get it synchronously
 * and other processes through the adapter. With an ordered adapter every subscriber, here or
 * elsewhere, gets the topic's messages in the topic's one order, when the adapter delivers
 * them (synchronously for the in-memory adapter; once Redis has it for Redis Streams).
 * Slow subscribers are handled by `maxPublishBufferBytes` (see `PubSubOptions`).
 */
export class PubSub implements SocketTopics {
  readonly adapter: PubSubAdapter;
  readonly maxPublishBufferBytes: number;
  private readonly ordered: OrderedPubSubAdapter | null;
  private readonly resumer: Resumer;
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
    this.ordered = isOrdered(this.adapter) ? this.adapter : null;
    this.resumer = new Resumer(
      limit,
      (socket) => this.dropSlow(socket),
      (socket) => this.socketClosed(socket),
    );
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

  /**
   * Subscribes `socket` to `topic` (see `SubscribeOptions` for `since` and `format`). A socket
   * already subscribed keeps its subscription as it is. Resolves once publishes from other
   * processes arrive too and, with `since`, once the history has been sent; never rejects.
   */
  subscribe(socket: WebSocket, topic: string, options?: SubscribeOptions): Promise<Subscription> {
    checkTopic(topic);
    const since = options?.since;
    const format = options?.format ?? null;
    if (since !== undefined && typeof since !== "string") throw new TypeError("subscribe(topic, { since }): since is an offset string.");
    if (format !== null && typeof format !== "function") throw new TypeError("subscribe(topic, { format }): format is a function.");
    const ordered = this.ordered;
    if (since !== undefined && ordered === null) {
      throw new Error(
        "subscribe(topic, { since }) needs an adapter that keeps history: the default in-memory adapter or RedisStreamsAdapter " +
          "(RedisAdapter relays without offsets).",
      );
    }
    // A socket that is already closing would never be told to forget the subscription.
    if (socket.readyState !== ReadyState.OPEN) return Promise.resolve({ replayed: 0, truncated: false, offset: undefined });
    let mine = this.memberships.get(socket);
    if (!mine) this.memberships.set(socket, (mine = new Set()));
    const entry = this.topic(topic);
    const live = (): Subscription => ({ replayed: 0, truncated: false, offset: ordered?.position(topic) });
    if (mine.has(topic)) return entry.ready.then(live);
    mine.add(topic);
    entry.sockets.add(socket);
    if (format === null && since === undefined) return entry.ready.then(live);
    const state: SubscriberState = { format, waiting: since === undefined ? null : [], waitingBytes: 0, ownOffsets: null, skipThrough: null };
    (entry.extras ??= new Map()).set(socket, state);
    if (since === undefined) return entry.ready.then(live);
    return entry.ready.then(() =>
      this.resumer.resume(
        ordered!,
        topic,
        socket,
        state,
        since,
        () => entry.extras?.get(socket) === state,
        () => this.settle(entry, socket, state),
      ),
    );
  }

  unsubscribe(socket: WebSocket, topic: string): boolean {
    checkTopic(topic);
    const mine = this.memberships.get(socket);
    if (!mine || !mine.delete(topic)) return false;
    if (mine.size === 0) this.memberships.delete(socket);
    const entry = this.byName.get(topic);
    if (entry) this.leave(entry, socket);
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
      if (entry) this.leave(entry, socket);
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
   * Sends `data` to every subscriber of `topic` except `except`: on this server and on other
   * processes. Text for a string, binary for bytes, unless `options.binary` says otherwise.
   * Returns the number of sockets here it was queued for; with an adapter that orders topics
   * through a backend (Redis Streams), delivery waits for the backend, and the number is of
   * the sockets here subscribed now, which it will be queued for. Throws a
   * `PublishRefusedError` when the adapter cannot take it (its outage queue is full).
   */
  publish(topic: string, data: WebSocketData, options?: PublishOptions, except: WebSocket | null = null): number {
    checkTopic(topic);
    const message = prepare(data, options?.binary);
    const binary = message.opcode === WebSocketOpcode.binary;
    const ordered = this.ordered;
    if (ordered !== null && this.closing === null) {
      const origin: Origin = { except, queued: -1 };
      const offset = ordered.append(topic, message.payload, binary, origin);
      if (typeof offset === "string") return Math.max(origin.queued, 0);
      // Refusals and failures are the adapter's to report ("error" event, counters).
      offset.catch(() => undefined);
      const sockets = this.byName.get(topic)?.sockets;
      return sockets ? sockets.size - (except !== null && sockets.has(except) ? 1 : 0) : 0;
    }
    if (this.closing === null) this.adapter.publish(topic, message.payload, binary);
    const entry = this.byName.get(topic);
    return entry ? this.deliver(entry, message, except, undefined) : 0;
  }

  /**
   * Like `publish`, but resolves with the message's offset once it is in the topic's history
   * (for Redis Streams: once Redis has it), or rejects with a `PublishRefusedError` when it
   * was not taken. Needs an ordered adapter (the default in-memory one, `RedisStreamsAdapter`).
   */
  publishConfirmed(topic: string, data: WebSocketData, options?: PublishOptions, except: WebSocket | null = null): Promise<string> {
    try {
      checkTopic(topic);
      const ordered = this.ordered;
      if (ordered === null) {
        throw new Error(
          "publishConfirmed() needs an adapter that gives offsets: the default in-memory adapter or RedisStreamsAdapter; use publish() with RedisAdapter.",
        );
      }
      if (this.closing !== null) throw new Error("publishConfirmed() after the server's pub/sub was closed.");
      const message = prepare(data, options?.binary);
      const origin: Origin = { except, queued: -1 };
      return Promise.resolve(ordered.append(topic, message.payload, message.opcode === WebSocketOpcode.binary, origin));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Closes the adapter; publishes after this reach local subscribers only. */
  close(): Promise<void> {
    this.closing ??= this.adapter.close();
    return this.closing;
  }

  /** A message the adapter hands over: another process's, or (ordered adapters) any. */
  private readonly receive = (topic: string, payload: Buffer, binary: boolean, offset?: string, origin?: unknown): void => {
    const own = origin as Origin | undefined;
    const entry = this.byName.get(topic);
    if (!entry) {
      if (own) own.queued = 0;
      return;
    }
    const message = new PreparedMessage(binary ? WebSocketOpcode.binary : WebSocketOpcode.text, payload);
    const queued = this.deliver(entry, message, own?.except ?? null, offset);
    if (own) own.queued = queued;
  };

  private deliver(entry: Topic, message: PreparedMessage, except: WebSocket | null, offset: string | undefined): number {
    const limit = this.maxPublishBufferBytes;
    const extras = entry.extras;
    let formatted: Map<MessageFormat, PreparedMessage | null> | null = null;
    let view: PubSubMessage | null = null;
    let sent = 0;
    for (const socket of entry.sockets) {
      let out = message;
      if (extras !== null) {
        const state = extras.get(socket);
        if (state !== undefined) {
          if (state.waiting !== null) {
            this.resumer.hold(socket, state, message, offset, socket === except);
            continue;
          }
          if (socket === except) continue;
          if (state.skipThrough !== null) {
            if (this.resumer.sendLive(this.ordered!, entry.name, socket, state, message, offset) === "sent") sent++;
            if (state.skipThrough === null) this.settle(entry, socket, state);
            continue;
          }
          if (state.format !== null) {
            formatted ??= new Map();
            let shared = formatted.get(state.format);
            if (shared === undefined) {
              view ??= messageView(entry.name, message, offset);
              shared = this.resumer.formatted(state.format, view);
              formatted.set(state.format, shared);
            }
            if (shared === null) {
              this.resumer.formatFailed(socket);
              continue;
            }
            out = shared;
          }
        }
      }
      if (socket === except) continue;
      if (socket.sendPrepared(out, limit)) sent++;
      // Refused while open: past maxPublishBufferBytes or the socket's own maxSendBufferBytes.
      else if (socket.readyState === ReadyState.OPEN) this.dropSlow(socket);
    }
    if (entry.listeners.size > 0) {
      view ??= messageView(entry.name, message, offset);
      for (const listener of [...entry.listeners]) {
        try {
          listener(view);
        } catch (error) {
          console.error(`hawser: a listener of topic '${entry.name}' threw:`, error);
        }
      }
    }
    return sent;
  }

  /** A resumed subscription is live: it needs no extras entry unless it formats or skips. */
  private settle(entry: Topic, socket: WebSocket, state: SubscriberState): void {
    if (state.format === null && state.skipThrough === null && entry.extras?.get(socket) === state) this.dropExtras(entry, socket);
  }

  private leave(entry: Topic, socket: WebSocket): void {
    entry.sockets.delete(socket);
    this.dropExtras(entry, socket);
    this.releaseIfUnused(entry);
  }

  private dropExtras(entry: Topic, socket: WebSocket): void {
    if (entry.extras === null || !entry.extras.delete(socket)) return;
    if (entry.extras.size === 0) entry.extras = null;
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
      entry = { name, sockets: new Set(), extras: null, listeners: new Set(), ready };
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

function messageView(topic: string, message: PreparedMessage, offset: string | undefined): PubSubMessage {
  return { topic, data: message.payload, binary: message.opcode === WebSocketOpcode.binary, offset };
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new TypeError(`A topic is a non-empty string, got ${typeof topic === "string" ? "''" : typeof topic}.`);
  }
}
