import type { Buffer } from "node:buffer";
import type { PubSubAdapterEvent } from "./pubsub-events.js";

export { PubSubAdapterEvents, type PubSubAdapterEvent } from "./pubsub-events.js";
export { MemoryAdapter, MemoryBus, type MemoryBusOptions } from "./pubsub-memory.js";
export { DEFAULT_HISTORY_LIMITS, type HistoryLimits } from "./pubsub-log.js";

/**
 * Where an adapter hands messages to its hub. `offset` is the message's place in its topic
 * (ordered adapters only); `origin` is what the hub passed to `append` when the message was
 * published by this hub (ordered adapters only), so the hub knows which socket published it.
 */
export type RemoteDelivery = (topic: string, payload: Buffer, binary: boolean, offset?: string, origin?: unknown) => void;

/**
 * Carries publishes between processes (or machines). It learns which topics have subscribers
 * here through `subscribe`/`unsubscribe`, so it can ask only for those.
 *
 * Two kinds exist. A relaying adapter (`ordered` absent or false; `RedisAdapter`) is
 * fire-and-forget: the hub delivers each publish to its own subscribers at once and calls
 * `publish` to relay it; the adapter brings in other processes' publishes. An ordered adapter
 * (`OrderedPubSubAdapter`: `MemoryAdapter`, `RedisStreamsAdapter`) puts every publish of a
 * topic, from every process, in one order, gives each an offset and keeps a bounded history.
 *
 * Contract of both: a publish reaches every process attached to the same backend and
 * subscribed to its topic at most once (exactly once for an ordered adapter), and the
 * publishes of one process arrive in the order it made them. A relaying adapter never hands a
 * process its own publishes back. Nothing here throws or rejects because the backend is
 * unreachable: the adapter reports it (events "down", "up", "error") and keeps trying.
 */
export interface PubSubAdapter {
  /** True for an `OrderedPubSubAdapter`. */
  readonly ordered?: boolean;
  /** Called once, by the hub that owns this adapter, before anything else. */
  attach(deliver: RemoteDelivery): void;
  /** Relays a publish made here to the other processes (an ordered adapter appends it). */
  publish(topic: string, payload: Buffer, binary: boolean): void;
  /**
   * The first local subscriber of `topic` appeared: bring in publishes of it from now on.
   * Resolves once they will arrive (at once for a backend that is down: the subscription is
   * made when it is back). Never rejects.
   */
  subscribe(topic: string): Promise<void>;
  /** The last local subscriber of `topic` left. */
  unsubscribe(topic: string): void;
  /** True while publishes reach the other processes. */
  readonly connected: boolean;
  /** Stops relaying and releases connections. */
  close(): Promise<void>;
  on(event: "up", listener: () => void): this;
  on(event: "down" | "error", listener: (error: Error) => void): this;
  off(event: PubSubAdapterEvent, listener: (error: Error) => void): this;
}

/** One message of a topic's history. */
export interface TopicMessage {
  /** Its place in the topic: opaque, the same on every process. */
  readonly offset: string;
  readonly payload: Buffer;
  readonly binary: boolean;
}

/** What a topic's history still holds after an offset. */
export interface TopicHistory {
  /** The messages after the offset asked for, oldest first. */
  readonly messages: TopicMessage[];
  /**
   * True when the history no longer reaches back to that offset: messages after it were
   * trimmed (by count or age), or the offset is not one this topic ever had (another
   * process's memory, a Redis that lost its data). `messages` is what is still there.
   */
  readonly truncated: boolean;
}

/**
 * An adapter that orders each topic: every publish, from any process, is appended to its
 * topic, gets an offset (ordered within the topic, the same on every process) and stays in a
 * bounded history. Each hub gets every message of its topics, its own publishes included, in
 * offset order, from `deliver`.
 */
export interface OrderedPubSubAdapter extends PubSubAdapter {
  readonly ordered: true;
  /**
   * Appends a publish to `topic` and delivers it, in order, to every hub subscribed to the
   * topic, this one included (passing `origin` back to this one). Returns the offset, or a
   * promise of it when the backend answers later. Throws a `PublishRefusedError` when the
   * publish cannot be taken now (e.g. a full outage queue); the promise rejects with one when
   * the publish is refused later. Nothing is dropped without one of these.
   */
  append(topic: string, payload: Buffer, binary: boolean, origin: unknown): string | Promise<string>;
  /**
   * The messages of `topic` after `since`, oldest first, and whether the history still
   * reaches back to it. An adapter whose backend is away waits for it; rejects only once closed.
   */
  history(topic: string, since: string): TopicHistory | Promise<TopicHistory>;
  /** Orders two offsets of one topic: negative when `a` comes first, 0 when equal. */
  compareOffsets(a: string, b: string): number;
  /**
   * Where this process stands in `topic` (subscribed here): an offset such that every message
   * after it is, or will be, delivered here. A subscriber that keeps it can resume from it
   * (`since`) before it has received any message. Undefined when the topic is not read here.
   */
  position(topic: string): string | undefined;
}

export function isOrdered(adapter: PubSubAdapter): adapter is OrderedPubSubAdapter {
  return adapter.ordered === true;
}

/**
 * A publish an ordered adapter would not take: its backend is away and its outage queue is
 * full, or the backend refused the message. The message reached no one.
 */
export class PublishRefusedError extends Error {
  override readonly name = "PublishRefusedError";
}
