// "hawser/redis": the Redis adapters, built on node-redis ("redis" on npm), an optional peer
// dependency that only these modules load. Here the pub/sub adapter, which relays publishes
// (fire-and-forget) between every hawser process connected to the same Redis; the Redis
// Streams adapter (durable, ordered topics) is in redis-streams.ts and exported from here too.
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { PubSubAdapterEvents, type PubSubAdapter, type RemoteDelivery } from "../server/pubsub-adapter.js";
import { redactUrl } from "./streams-backend.js";
import { loadRedis } from "./redis-load.js";

export { RedisStreamsAdapter, type RedisStreamsAdapterOptions } from "./redis-streams.js";

/** The few node-redis client members used here (node-redis 5 and later have them). */
interface RedisConnection {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<number>;
  subscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
}
type ChannelListener = (message: Buffer, channel: Buffer) => void;

const redis = await loadRedis();

export interface RedisAdapterOptions {
  /** Where Redis is, e.g. "redis://127.0.0.1:6379" (the default) or "rediss://user:pass@host:6380/0". */
  url?: string;
  /**
   * Prefix of the Redis channel names (one channel per topic: prefix + topic). Processes meant
   * to share topics must use the same prefix; different prefixes keep applications apart on
   * one Redis. Default "hawser:".
   */
  channelPrefix?: string;
  /** Longest pause between attempts to reach a lost Redis (they start at 50 ms and double). Default 2000. */
  maxReconnectDelayMs?: number;
  /**
   * Publishes sent to Redis and not yet answered, past which further publishes are not relayed
   * (they still reach local subscribers): a stalled Redis must not grow memory without bound.
   * Default 10000.
   */
  maxPendingPublishes?: number;
  /** Where outage lines go; default `console.warn`, false for none. */
  log?: ((line: string) => void) | false;
}

/** Wire format of a relayed message: flags, the publishing process's id, the payload. */
const FORMAT_VERSION = 0x10;
const FLAG_BINARY = 0x01;
const ID_BYTES = 8;
const HEADER_BYTES = 1 + ID_BYTES;

type State = "connecting" | "up" | "down" | "closed";

/**
 * Relays publishes through Redis pub/sub, one Redis channel per topic: each process
 * SUBSCRIBEs only to topics it has subscribers for, so Redis sends a process only what it
 * needs. Each message carries the publishing process's random id, so a process skips its own
 * publishes when Redis echoes them back (its local subscribers already have them).
 *
 * Why per-topic channels rather than one channel with the topic inside each message (measured
 * on this project's 2-core machine against a local Redis, receiving process CPU time): for one
 * hot topic the two cost the same within 10% (180 vs 200 ms per 100k messages, per-topic
 * ahead: no topic to parse); when a process wants 10 of 1,000 busy topics, per-topic costs it
 * 30 ms against 150-180 ms for 100k publishes, as Redis drops the rest; and 1,000 pipelined
 * SUBSCRIBEs took 12 ms, so subscribing is no reason to prefer one channel.
 *
 * Guarantees: every publish made while Redis is reachable reaches each other subscribed
 * process once, and one process's publishes arrive in the order it made them (one publishing
 * connection, and Redis delivers in order). While Redis is unreachable, publishes reach local
 * subscribers only; they are counted, not queued, so nothing stale or duplicated arrives
 * after the outage. The outage is reported by a "down" event and a log line, the adapter
 * reconnects and resubscribes on its own, and reports "up" when relaying again.
 */
export class RedisAdapter extends PubSubAdapterEvents implements PubSubAdapter {
  /** This process's id in relayed messages. */
  readonly id: Buffer = randomBytes(ID_BYTES);
  readonly channelPrefix: string;
  private readonly url: string;
  private readonly publisher: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly maxPending: number;
  private readonly log: (line: string) => void;
  private deliver: RemoteDelivery | null = null;
  /** Topics with local subscribers, and their channel listeners. */
  private readonly wanted = new Map<string, ChannelListener>();
  /** Topics whose SUBSCRIBE Redis has confirmed. */
  private readonly confirmed = new Set<string>();
  private state: State = "connecting";
  private pending = 0;
  private downSince = 0;
  private unrelayed = 0;
  private unrelayedBeforeOutage = 0;
  private upWaiters: Array<() => void> = [];
  /** Callers of subscribe() waiting for Redis's confirmation; released if Redis is lost. */
  private readonly subscribeWaiters = new Set<() => void>();

  constructor(options: RedisAdapterOptions = {}) {
    super();
    this.url = options.url ?? "redis://127.0.0.1:6379";
    this.channelPrefix = options.channelPrefix ?? "hawser:";
    this.maxPending = options.maxPendingPublishes ?? 10_000;
    const maxDelay = options.maxReconnectDelayMs ?? 2000;
    const log = options.log ?? ((line: string) => console.warn(line));
    this.log = log === false ? () => undefined : log;
    const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** Math.min(retries, 16), maxDelay);
    this.publisher = redis.createClient({
      url: this.url,
      // A publish that cannot go now is dropped (counted), never replayed late.
      disableOfflineQueue: true,
      socket: { reconnectStrategy },
    }) as unknown as RedisConnection;
    // SUBSCRIBEs made while Redis is away wait for it; node-redis resubscribes on reconnect.
    this.subscriber = redis.createClient({ url: this.url, socket: { reconnectStrategy } }) as unknown as RedisConnection;
    for (const client of [this.publisher, this.subscriber]) {
      client.on("error", (error) => this.onClientError(client, error));
      client.on("ready", () => this.onClientReady());
    }
  }

  /** True while publishes are relayed. */
  get connected(): boolean {
    return this.state === "up";
  }

  /** Publishes that did not reach Redis since the adapter started (outages, overload). */
  get unrelayedPublishes(): number {
    return this.unrelayed;
  }

  /** Resolves once both connections to Redis are ready (at once if they are). */
  ready(): Promise<void> {
    if (this.state === "up") return Promise.resolve();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  attach(deliver: RemoteDelivery): void {
    if (this.deliver) throw new Error("This RedisAdapter already serves a server: give each server its own adapter.");
    this.deliver = deliver;
    // connect() settles only once connected (or closed); failures arrive as "error" events.
    void this.publisher.connect().catch(() => undefined);
    void this.subscriber.connect().catch(() => undefined);
  }

  publish(topic: string, payload: Buffer, binary: boolean): void {
    if (this.state !== "up" || !this.publisher.isReady || this.pending >= this.maxPending) {
      this.unrelayed++;
      return;
    }
    const message = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    message[0] = FORMAT_VERSION | (binary ? FLAG_BINARY : 0);
    this.id.copy(message, 1);
    payload.copy(message, HEADER_BYTES);
    this.pending++;
    this.publisher.publish(this.channelPrefix + topic, message).then(this.published, this.publishFailed);
  }

  subscribe(topic: string): Promise<void> {
    if (this.wanted.has(topic) || this.state === "closed") return Promise.resolve();
    // Only the topic's current listener delivers, so a stale one node-redis still holds (after
    // a quick unsubscribe and subscribe) cannot deliver a message twice.
    const listener: ChannelListener = (message) => {
      if (this.wanted.get(topic) === listener) this.onRedisMessage(topic, message);
    };
    this.wanted.set(topic, listener);
    const done = this.sendSubscribe(topic, listener);
    // While Redis is away the SUBSCRIBE waits for it; the caller need not.
    if (this.state === "down") return Promise.resolve();
    return new Promise((resolve) => {
      this.subscribeWaiters.add(resolve);
      void done.then(() => {
        this.subscribeWaiters.delete(resolve);
        resolve();
      });
    });
  }

  unsubscribe(topic: string): void {
    const listener = this.wanted.get(topic);
    if (!listener) return;
    this.wanted.delete(topic);
    this.confirmed.delete(topic);
    if (this.state !== "closed") this.subscriber.unsubscribe(this.channelPrefix + topic, listener, true).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    const wasUp = this.state === "up";
    this.state = "closed";
    this.wanted.clear();
    this.confirmed.clear();
    for (const resolve of this.upWaiters.splice(0)) resolve();
    this.releaseSubscribeWaiters();
    for (const client of [this.publisher, this.subscriber]) {
      // close() waits for replies, which a lost Redis never sends.
      if (wasUp && client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    }
  }

  private releaseSubscribeWaiters(): void {
    for (const resolve of this.subscribeWaiters) resolve();
    this.subscribeWaiters.clear();
  }

  private sendSubscribe(topic: string, listener: ChannelListener): Promise<void> {
    return this.subscriber.subscribe(this.channelPrefix + topic, listener, true).then(
      () => {
        if (this.wanted.get(topic) === listener) this.confirmed.add(topic);
      },
      // Lost with its connection: onClientReady subscribes again.
      () => undefined,
    );
  }

  private onRedisMessage(topic: string, message: Buffer): void {
    if (message.length < HEADER_BYTES || (message[0]! & 0xf0) !== FORMAT_VERSION) {
      this.emit("error", new Error(`Ignored a message on Redis channel '${this.channelPrefix}${topic}' that no hawser process sent.`));
      return;
    }
    // Our own publish, echoed by Redis: local subscribers already have it.
    if (message.compare(this.id, 0, ID_BYTES, 1, HEADER_BYTES) === 0) return;
    if (!this.deliver) return;
    this.deliver(topic, message.subarray(HEADER_BYTES), (message[0]! & FLAG_BINARY) !== 0);
  }

  private readonly published = (): void => {
    this.pending--;
  };

  private readonly publishFailed = (error: Error): void => {
    this.pending--;
    this.unrelayed++;
    // A lost connection is reported once, as "down"; anything else is worth an event.
    if (this.state === "up" && this.publisher.isReady) this.emit("error", error);
  };

  private onClientError(client: RedisConnection, error: Error): void {
    if (this.state === "closed") return;
    if (client.isReady) {
      this.emit("error", error);
      return;
    }
    if (this.state === "down") return;
    const starting = this.state === "connecting";
    this.state = "down";
    this.downSince = Date.now();
    this.unrelayedBeforeOutage = this.unrelayed;
    this.releaseSubscribeWaiters();
    this.log(
      starting
        ? `hawser: cannot reach Redis at ${redactUrl(this.url)} (${error.message}); publishes stay on this process until it answers, retrying.`
        : `hawser: lost Redis at ${redactUrl(this.url)} (${error.message}); publishes stay on this process until it is back, reconnecting.`,
    );
    this.emit("down", error);
  }

  private onClientReady(): void {
    if (this.state === "closed" || this.state === "up") return;
    if (!this.publisher.isReady || !this.subscriber.isReady) return;
    const wasDown = this.state === "down";
    this.state = "up";
    // SUBSCRIBEs lost with the old connection (node-redis resubscribes only confirmed ones).
    for (const [topic, listener] of this.wanted) {
      if (!this.confirmed.has(topic)) void this.sendSubscribe(topic, listener);
    }
    if (wasDown) {
      const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
      this.log(
        `hawser: Redis at ${redactUrl(this.url)} is back after ${seconds} s; ${this.unrelayed - this.unrelayedBeforeOutage} publishes during the outage reached this process only.`,
      );
    }
    for (const resolve of this.upWaiters.splice(0)) resolve();
    this.emit("up");
  }
}
