import type { Buffer } from "node:buffer";

/** Where an adapter hands messages published by other processes. */
export type RemoteDelivery = (topic: string, payload: Buffer, binary: boolean) => void;

/**
 * Carries publishes between processes (or machines). A server's pub/sub hub delivers every
 * publish to its own subscribers itself; the adapter only relays it to the other processes
 * and brings theirs in. It learns which topics have subscribers here through
 * `subscribe`/`unsubscribe`, so it can ask only for those.
 *
 * Contract: a publish relayed by `publish` reaches every other process attached to the same
 * backend at most once, and the publishes of one process arrive in the order it made them;
 * the adapter never hands a process its own publishes back. Nothing here throws or rejects
 * because the backend is unreachable: the adapter reports it (events "down", "up", "error")
 * and keeps trying, and local delivery is unaffected.
 */
export interface PubSubAdapter {
  /** Called once, by the hub that owns this adapter, before anything else. */
  attach(deliver: RemoteDelivery): void;
  /** Relays a publish made here to the other processes. */
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

/**
 * "down": the backend was lost (publishes are no longer relayed); "up": it is reachable again
 * (also after the first connection); "error": anything else worth knowing that did not stop
 * relaying, e.g. a publish the backend refused.
 */
export type PubSubAdapterEvent = "up" | "down" | "error";

type Listener = (error: Error) => void;

/**
 * The event half of an adapter. Unlike node:events, an "error" nobody listens to is not
 * thrown: losing a backend must never take the server down.
 */
export class PubSubAdapterEvents {
  private readonly listeners = new Map<PubSubAdapterEvent, Set<Listener>>();

  on(event: "up", listener: () => void): this;
  on(event: "down" | "error", listener: (error: Error) => void): this;
  on(event: PubSubAdapterEvent, listener: Listener): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off(event: PubSubAdapterEvent, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  protected emit(event: PubSubAdapterEvent, error?: Error): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(error as Error);
      } catch (thrown) {
        console.error(`hawser: a pub/sub adapter "${event}" listener threw:`, thrown);
      }
    }
  }
}

/**
 * Joins in-memory adapters: adapters made with the same bus relay publishes to each other,
 * like processes sharing a Redis, but inside one process (several servers in one process,
 * or tests of the adapter contract).
 */
export class MemoryBus {
  /** @internal */
  readonly members = new Set<MemoryAdapter>();
}

/**
 * The default adapter. Without a bus it relays nothing (a single process needs no relay);
 * with a `MemoryBus` shared between servers, each publish reaches the others synchronously.
 */
export class MemoryAdapter extends PubSubAdapterEvents implements PubSubAdapter {
  private deliver: RemoteDelivery | null = null;
  private readonly interest = new Set<string>();
  private closed = false;

  constructor(private readonly bus: MemoryBus | null = null) {
    super();
  }

  get connected(): boolean {
    return !this.closed;
  }

  attach(deliver: RemoteDelivery): void {
    if (this.deliver) throw new Error("This adapter already serves a server: give each server its own adapter.");
    this.deliver = deliver;
    this.bus?.members.add(this);
  }

  publish(topic: string, payload: Buffer, binary: boolean): void {
    if (!this.bus || this.closed) return;
    for (const other of this.bus.members) {
      if (other !== this && other.interest.has(topic)) other.deliver!(topic, payload, binary);
    }
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
    this.bus?.members.delete(this);
    return Promise.resolve();
  }
}
