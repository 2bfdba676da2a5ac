import type { Buffer } from "node:buffer";
import type { OrderedPubSubAdapter, RemoteDelivery, TopicHistory } from "./pubsub-adapter.js";
import { PubSubAdapterEvents } from "./pubsub-events.js";
import { checkHistoryLimits, compareOffsetIds, DEFAULT_HISTORY_LIMITS, DEFAULT_MAX_HISTORY_BYTES, HistoryStore, type HistoryLimits } from "./pubsub-log.js";

export interface MemoryBusOptions {
  /** How much of each topic's history to keep. Default: 1,000 messages, 5 minutes. */
  history?: HistoryLimits;
  /** Payload bytes of history kept over all topics; past it the oldest messages go. Default 64 MiB. */
  maxHistoryBytes?: number;
}

/**
 * Joins in-memory adapters: adapters made with the same bus share topics, their order and
 * their history, like processes sharing a Redis, but inside one process (several servers in
 * one process, or tests of the adapter contract). An adapter made without a bus has its own.
 */
export class MemoryBus {
  /** @internal */
  readonly members = new Set<MemoryAdapter>();
  /** @internal */
  readonly history: HistoryStore;

  constructor(options: MemoryBusOptions = {}) {
    const limits = checkHistoryLimits(options.history ?? {}, DEFAULT_HISTORY_LIMITS);
    this.history = new HistoryStore(limits, options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES);
  }
}

/**
 * The default adapter, ordered: each publish is appended to its topic's history on the bus
 * (offsets "EPOCH-SEQ"), then delivered synchronously to every server on the bus subscribed
 * to the topic, the publisher's included. Without a bus it serves one server, with history.
 */
export class MemoryAdapter extends PubSubAdapterEvents implements OrderedPubSubAdapter {
  readonly ordered = true;
  private deliver: RemoteDelivery | null = null;
  private readonly interest = new Set<string>();
  private readonly bus: MemoryBus;
  private closed = false;

  /** `options` apply to the adapter's own bus, when it is made without one. */
  constructor(bus: MemoryBus | null = null, options: MemoryBusOptions = {}) {
    super();
    this.bus = bus ?? new MemoryBus(options);
  }

  get connected(): boolean {
    return !this.closed;
  }

  attach(deliver: RemoteDelivery): void {
    if (this.deliver) throw new Error("This adapter already serves a server: give each server its own adapter.");
    this.deliver = deliver;
    this.bus.members.add(this);
  }

  publish(topic: string, payload: Buffer, binary: boolean): void {
    this.append(topic, payload, binary, undefined);
  }

  append(topic: string, payload: Buffer, binary: boolean, origin: unknown): string {
    const offset = this.bus.history.append(topic, payload, binary);
    for (const member of this.bus.members) {
      if (member.interest.has(topic)) member.deliver!(topic, payload, binary, offset, member === this ? origin : undefined);
    }
    return offset;
  }

  history(topic: string, since: string): TopicHistory {
    return this.bus.history.after(topic, since);
  }

  compareOffsets(a: string, b: string): number {
    return compareOffsetIds(a, b);
  }

  position(topic: string): string | undefined {
    // Delivery is synchronous: every message after the latest of the bus is still to come.
    return this.interest.has(topic) ? this.bus.history.latest : undefined;
  }

  subscribe(topic: string): Promise<void> {
    this.interest.add(topic);
    return Promise.resolve();
  }

  unsubscribe(topic: string): void {
    this.interest.delete(topic);
  }

  close(): Promise<void> {
    this.closed = true;
    this.bus.members.delete(this);
    return Promise.resolve();
  }
}
