// The Redis Streams adapter ("hawser/redis"): durable, ordered topics shared by every hawser
// process on one Redis (or Redis Cluster). One stream per topic holds its bounded history; the
// stream entry ID is the message's offset.
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { OrderedPubSubAdapter, RemoteDelivery, TopicHistory, TopicMessage } from "../server/pubsub-adapter.js";
import { PubSubAdapterEvents } from "../server/pubsub-events.js";
import { checkHistoryLimits, compareOffsetIds, isOffsetId, type HistoryLimits } from "../server/pubsub-log.js";
import { createBackend, type StreamsBackend } from "./streams-backend.js";
import { infoField, parseEntries, PRODUCER_ID_BYTES, PUBLISH_SCRIPT, type EntryMeta, type StoredEntry } from "./streams-codec.js";
import { Feeds } from "./streams-feeds.js";
import { Outbox } from "./streams-outbox.js";
import { loadRedis } from "./redis-load.js";

const redis = await loadRedis();

export interface RedisStreamsAdapterOptions {
  /** Where Redis is, e.g. "redis://127.0.0.1:6379" (the default) or "rediss://user:pass@host:6380/0". */
  url?: string;
  /**
   * A Redis Cluster instead: the URLs of one or more of its nodes (the others are discovered).
   * Topics spread over the cluster's nodes by their stream's key. Needs Redis 7 (sharded pub/sub).
   */
  clusterNodes?: readonly string[];
  /**
   * Prefix of the Redis keys (one stream per topic: prefix + "{" + topic + "}", the braces
   * keeping a stream and its channel on one cluster node). Processes sharing topics use the
   * same prefix. Default "hawser:stream:".
   */
  keyPrefix?: string;
  /**
   * How much of each topic's history Redis keeps: `maxMessages` (default 1,000; trimmed with
   * MAXLEN ~, so Redis may keep up to a hundred or so more) and `maxAgeMs` (default: no age
   * limit; trimmed with MINID ~ as messages are published).
   */
  history?: HistoryLimits;
  /**
   * Publishes waiting for Redis (during an outage, or unanswered), past which `publish()`
   * throws and `publishConfirmed()` rejects with a PublishRefusedError. Default 10,000.
   */
  maxQueuedPublishes?: number;
  /** The same bound in payload bytes. Default 16 MiB. */
  maxQueuedBytes?: number;
  /** Longest pause between attempts to reach a lost Redis (they start at 50 ms and double). Default 2000. */
  maxReconnectDelayMs?: number;
  /** Where outage lines go; default `console.warn`, false for none. */
  log?: ((line: string) => void) | false;
}

/** The streams adapter's history: 1,000 messages per topic, no age limit. */
const STREAM_HISTORY_DEFAULTS = Object.freeze({ maxMessages: 1000, maxAgeMs: Infinity });
const HISTORY_PAGE = 1000;

type State = "connecting" | "up" | "down" | "closed";

/**
 * Ordered, durable topics on Redis Streams. Every publish runs a small script that appends it
 * to its topic's stream (XADD, with the history bound) and pushes it on the topic's channel,
 * atomically; the entry ID is the message's offset, the same for every process, and gives one
 * total order per topic across all publishers. A process subscribes only to its subscribers'
 * topics and keeps the last ID it delivered for each: a push that does not continue from it
 * (after a dropped connection, a Redis restart or failover) makes the topic read what it
 * missed from the stream. Local subscribers get their own process's publishes from the same
 * feed, in stream order: one Redis round trip later than with `RedisAdapter`.
 *
 * While Redis is unreachable, publishes queue here (bounded by `maxQueuedPublishes` and
 * `maxQueuedBytes`) and go out in order when it is back; past the bound a publish is refused
 * with a `PublishRefusedError`, never dropped silently. A publish whose connection died with
 * it in flight is looked for in its stream before it is sent again.
 */
export class RedisStreamsAdapter extends PubSubAdapterEvents implements OrderedPubSubAdapter {
  readonly ordered = true;
  /** This process's id in stream entries. */
  readonly producer: Buffer = randomBytes(PRODUCER_ID_BYTES);
  readonly keyPrefix: string;
  private readonly backend: StreamsBackend;
  private readonly outbox: Outbox;
  private readonly feeds: Feeds;
  private readonly maxMessages: string;
  private readonly maxAge: string;
  private readonly publishCommand: string;
  private readonly scriptSha = createHash("sha1").update(PUBLISH_SCRIPT).digest("hex");
  private readonly log: (line: string) => void;
  private readonly reconnectDelay: (retries: number) => number;
  private deliver: RemoteDelivery | null = null;
  private state: State = "connecting";
  /** Redis answers, though the script may not be loaded yet (`state` is "up" once it is). */
  private backendUp = false;
  private downSince = 0;
  private upWaiters: Array<() => void> = [];
  /** What the hub passed with each of its publishes, until the feed delivers them, by topic. */
  private readonly origins = new Map<string, Map<number, unknown>>();

  constructor(options: RedisStreamsAdapterOptions = {}) {
    super();
    this.keyPrefix = options.keyPrefix ?? "hawser:stream:";
    if (this.keyPrefix.includes("{")) throw new TypeError("keyPrefix must not contain '{': the braces after it choose a topic's cluster slot.");
    const limits = checkHistoryLimits(options.history ?? {}, STREAM_HISTORY_DEFAULTS);
    if (limits.maxMessages === 0) throw new RangeError("history.maxMessages must be at least 1 with Redis Streams.");
    this.maxMessages = Number.isFinite(limits.maxMessages) ? String(limits.maxMessages) : "";
    this.maxAge = Number.isFinite(limits.maxAgeMs) ? String(Math.ceil(limits.maxAgeMs)) : "";
    const maxDelay = options.maxReconnectDelayMs ?? 2000;
    this.reconnectDelay = (retries) => Math.min(50 * 2 ** Math.min(retries, 16), maxDelay);
    const log = options.log ?? ((line: string) => console.warn(line));
    this.log = log === false ? () => undefined : log;
    const cluster = options.clusterNodes !== undefined;
    this.publishCommand = cluster ? "SPUBLISH" : "PUBLISH";
    this.backend = createBackend(
      redis,
      { urls: cluster ? options.clusterNodes! : [options.url ?? "redis://127.0.0.1:6379"], cluster, reconnectDelay: this.reconnectDelay },
      {
        up: () => void this.onBackendUp(),
        down: (error) => this.onDown(error),
        subscriptionsBack: () => {
          this.feeds.catchUpAll();
          // A cluster node that came back (or a new master) may not have the script.
          if (this.backend.cluster) this.loadScript().catch((error: Error) => this.emit("error", error));
        },
        error: (error) => this.emit("error", error),
      },
    );
    const report = (error: Error): void => this.emit("error", error);
    this.outbox = new Outbox(
      {
        producer: this.producer,
        append: (key, meta, payload) => this.runScript(key, meta, payload),
        loadScript: () => this.loadScript(),
        newestEntries: async (key, end, count) => parseEntries(await this.backend.command(key, ["XREVRANGE", key, end, "-", "COUNT", String(count)], true)),
        isUp: () => this.state === "up",
        waitUp: () => this.waitUp(),
        retryDelay: this.reconnectDelay,
        report,
      },
      {
        maxQueuedPublishes: positive(options.maxQueuedPublishes ?? 10_000, "maxQueuedPublishes"),
        maxQueuedBytes: positive(options.maxQueuedBytes ?? 16 * 1024 * 1024, "maxQueuedBytes"),
        maxScanEntries: Number.isFinite(limits.maxMessages) ? limits.maxMessages * 2 + 200 : 10_000,
      },
      (error) => error instanceof redis.ErrorReply,
      (error) => error instanceof redis.ClientOfflineError,
    );
    this.feeds = new Feeds({
      keyOf: (topic) => this.keyOf(topic),
      subscribe: (key, listener) => this.backend.subscribe(key, listener),
      unsubscribe: (key, listener) => this.backend.unsubscribe(key, listener),
      entriesAfter: async (key, start, count) => parseEntries(await this.backend.command(key, ["XRANGE", key, start, "+", "COUNT", String(count)], true)),
      newestId: async (key) => parseEntries(await this.backend.command(key, ["XREVRANGE", key, "+", "-", "COUNT", "1"], true))[0]?.id ?? "0-0",
      deliver: (topic, id, meta, payload) => this.onEntry(topic, id, meta, payload),
      isUp: () => this.state === "up",
      waitUp: () => this.waitUp(),
      retryDelay: this.reconnectDelay,
      report,
    });
  }

  /** True while publishes reach Redis. */
  get connected(): boolean {
    return this.state === "up";
  }

  /** Publishes Redis has not confirmed yet: queued during an outage, or awaiting its reply. */
  get queuedPublishes(): number {
    return this.outbox.size;
  }

  /** The stream (and channel) name of a topic. */
  keyOf(topic: string): string {
    return `${this.keyPrefix}{${topic}}`;
  }

  /** Resolves once Redis is reachable (at once if it is). */
  ready(): Promise<void> {
    return this.waitUp();
  }

  attach(deliver: RemoteDelivery): void {
    if (this.deliver) throw new Error("This RedisStreamsAdapter already serves a server: give each server its own adapter.");
    this.deliver = deliver;
    this.backend.start();
  }

  /** `append` without an answer (the hub uses `append`): a refusal becomes an "error" event. */
  publish(topic: string, payload: Buffer, binary: boolean): void {
    try {
      this.append(topic, payload, binary, undefined).catch(() => undefined);
    } catch (error) {
      this.emit("error", error as Error);
    }
  }

  append(topic: string, payload: Buffer, binary: boolean, origin: unknown): Promise<string> {
    const outgoing = this.outbox.add(topic, this.keyOf(topic), payload, binary);
    // The hub learns which of its sockets published a message when the feed delivers it.
    if (this.feeds.has(topic)) {
      let mine = this.origins.get(topic);
      if (!mine) this.origins.set(topic, (mine = new Map<number, unknown>()));
      mine.set(outgoing.seq, origin);
      outgoing.promise.catch(() => mine.delete(outgoing.seq));
    }
    return outgoing.promise;
  }

  async history(topic: string, since: string): Promise<TopicHistory> {
    for (let attempt = 0; ; attempt++) {
      if (this.state === "closed") throw new Error("The Redis Streams adapter is closed.");
      if (this.state !== "up") {
        await this.waitUp();
        continue;
      }
      try {
        return await this.readHistory(topic, since);
      } catch (error) {
        if (error instanceof redis.ErrorReply) {
          this.emit("error", error);
          return { messages: [], truncated: true };
        }
        await sleep(this.reconnectDelay(attempt));
      }
    }
  }

  compareOffsets(a: string, b: string): number {
    return compareOffsetIds(a, b);
  }

  position(topic: string): string | undefined {
    return this.feeds.positionOf(topic);
  }

  subscribe(topic: string): Promise<void> {
    if (this.state === "closed") return Promise.resolve();
    const started = this.feeds.subscribe(topic);
    // While Redis is away the topic starts when it is back; the caller need not wait. While
    // still connecting, it waits: a subscriber must get what is published once it is told so.
    return this.state === "down" ? Promise.resolve() : started;
  }

  unsubscribe(topic: string): void {
    this.feeds.unsubscribe(topic);
    this.origins.delete(topic);
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    const wasUp = this.state === "up";
    this.state = "closed";
    const refused = this.outbox.close();
    if (refused > 0) this.log(`hawser: closing with ${refused} publishes Redis never took; their publishers were told (PublishRefusedError).`);
    this.feeds.stop();
    this.origins.clear();
    for (const resolve of this.upWaiters.splice(0)) resolve();
    await this.backend.close(wasUp);
  }

  private onEntry(topic: string, id: string, meta: EntryMeta, payload: Buffer): void {
    let origin: unknown;
    if (meta.producer.equals(this.producer)) {
      const mine = this.origins.get(topic);
      origin = mine?.get(meta.seq);
      mine?.delete(meta.seq);
      this.outbox.confirm(meta.seq, id);
    }
    this.deliver?.(topic, payload, meta.binary, id, origin);
  }

  private async runScript(key: string, meta: Buffer, payload: Buffer): Promise<string> {
    const reply = await this.backend.command(
      key,
      ["EVALSHA", this.scriptSha, "1", key, this.maxMessages, meta, payload, this.maxAge, this.publishCommand],
      false,
    );
    return String(reply);
  }

  private async loadScript(): Promise<void> {
    await this.backend.commandEverywhere(["SCRIPT", "LOAD", PUBLISH_SCRIPT]);
  }

  /**
   * Redis answers (again): load the publish script everywhere before any publish goes out.
   * Publishes rely on it being there: a publish refused with NOSCRIPT while later ones went
   * through (another process loaded it meanwhile) would land out of order.
   */
  private async onBackendUp(): Promise<void> {
    this.backendUp = true;
    for (let attempt = 0; this.backendUp && this.state !== "closed"; attempt++) {
      try {
        await this.loadScript();
        if (this.backendUp) this.onUp();
        return;
      } catch (error) {
        if (!this.backendUp) return;
        this.emit("error", error instanceof Error ? error : new Error(String(error)));
        await sleep(this.reconnectDelay(attempt));
      }
    }
  }

  /**
   * The history after `since`: XRANGE from `since` itself, to see whether it is still there.
   * If it is, nothing after it was trimmed (streams are trimmed from the front). If not, it
   * was trimmed too, and Redis 7's max-deleted-entry-id says whether anything after it was.
   */
  private async readHistory(topic: string, since: string): Promise<TopicHistory> {
    const key = this.keyOf(topic);
    const valid = isOffsetId(since);
    const messages: TopicMessage[] = [];
    let start = valid ? since : "-";
    let present = false;
    for (let first = true; ; first = false) {
      const entries = parseEntries(await this.backend.command(key, ["XRANGE", key, start, "+", "COUNT", String(HISTORY_PAGE)], true));
      for (const entry of entries) {
        if (first && entry.id === since) present = true;
        else if (entry.meta !== null) messages.push(toMessage(entry));
      }
      if (entries.length < HISTORY_PAGE) break;
      start = `(${entries.at(-1)!.id}`;
    }
    if (present) return { messages, truncated: false };
    if (!valid) return { messages, truncated: true };
    let maxDeleted: string | undefined;
    try {
      maxDeleted = infoField(await this.backend.command(key, ["XINFO", "STREAM", key], true), "max-deleted-entry-id");
    } catch (error) {
      if (!(error instanceof redis.ErrorReply)) throw error;
      // No such stream: nothing was ever published, if `since` is from before everything.
      maxDeleted = "0-0";
    }
    return { messages, truncated: maxDeleted !== since };
  }

  private waitUp(): Promise<void> {
    if (this.state === "up" || this.state === "closed") return Promise.resolve();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  private onUp(): void {
    if (this.state === "closed" || this.state === "up") return;
    const wasDown = this.state === "down";
    this.state = "up";
    if (wasDown) {
      const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
      this.log(
        `hawser: Redis at ${this.backend.description} is back after ${seconds} s; sending ${this.outbox.size} queued publishes, ` +
          `catching up on ${this.feeds.size} topics.`,
      );
    }
    for (const resolve of this.upWaiters.splice(0)) resolve();
    this.emit("up");
  }

  private onDown(error: Error): void {
    this.backendUp = false;
    if (this.state === "closed" || this.state === "down") return;
    const starting = this.state === "connecting";
    this.state = "down";
    this.downSince = Date.now();
    this.feeds.releaseWaiting();
    this.log(
      starting
        ? `hawser: cannot reach Redis at ${this.backend.description} (${error.message}); publishes queue here until it answers, retrying.`
        : `hawser: lost Redis at ${this.backend.description} (${error.message}); publishes queue here until it is back, reconnecting.`,
    );
    this.emit("down", error);
  }
}

function toMessage(entry: StoredEntry): TopicMessage {
  return { offset: entry.id, payload: entry.payload, binary: entry.meta!.binary };
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}.`);
  return value;
}
