// How a process reads the topics its subscribers need, with no blocking read per topic: each
// topic's channel pushes every new stream entry (the publish script announces it with the ID
// of the entry before it), and the process keeps, per topic, the ID of the last entry it
// delivered. A push whose "previous" is that ID continues the topic; any other means pushes
// were missed (a dropped connection, a Redis restart), and the topic catches up with XRANGE
// from its last ID, holding new pushes meanwhile. A process with thousands of topics costs
// Redis one subscription each and reads nothing while nothing is published.
import type { Buffer } from "node:buffer";
import { setTimeout as sleep } from "node:timers/promises";
import { compareOffsetIds } from "../server/pubsub-log.js";
import type { ChannelListener } from "./streams-backend.js";
import { decodeLive, type EntryMeta, type LiveEntry, type StoredEntry } from "./streams-codec.js";

/** What the feeds need from the adapter. */
export interface FeedHost {
  keyOf(topic: string): string;
  subscribe(key: string, listener: ChannelListener): Promise<void>;
  unsubscribe(key: string, listener: ChannelListener): void;
  /** Stream entries after `start` ("(ID"), oldest first, at most `count`. */
  entriesAfter(key: string, start: string, count: number): Promise<StoredEntry[]>;
  /** The ID of the newest entry of a stream, "0-0" when it is empty or missing. */
  newestId(key: string): Promise<string>;
  /** Hands an entry to the hub, in stream order. */
  deliver(topic: string, id: string, meta: EntryMeta, payload: Buffer): void;
  isUp(): boolean;
  waitUp(): Promise<void>;
  retryDelay(attempt: number): number;
  report(error: Error): void;
}

/** Pushes held while a topic catches up; past this the topic reads them back from the stream. */
const MAX_HELD_PUSHES = 10_000;
const CATCH_UP_PAGE = 500;

interface Feed {
  readonly topic: string;
  readonly key: string;
  readonly listener: ChannelListener;
  /** The last entry delivered (or the stream's newest when the subscription began). */
  position: string | null;
  /** Holding pushes until a catch-up ends. */
  catching: boolean;
  held: LiveEntry[];
  heldOverflow: boolean;
  running: boolean;
  again: boolean;
  readonly started: Promise<void>;
  markStarted(): void;
}

export class Feeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly host: FeedHost) {}

  has(topic: string): boolean {
    return this.feeds.has(topic);
  }

  get size(): number {
    return this.feeds.size;
  }

  /** The last entry delivered for `topic` (or the newest when it started); undefined while it starts. */
  positionOf(topic: string): string | undefined {
    return this.feeds.get(topic)?.position ?? undefined;
  }

  /** Starts reading `topic`; resolves once new entries will be delivered (or `releaseWaiting()` is called). */
  subscribe(topic: string): Promise<void> {
    const existing = this.feeds.get(topic);
    if (existing) return existing.started;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const feed: Feed = {
      topic,
      key: this.host.keyOf(topic),
      listener: (message) => {
        // Only the topic's current feed delivers (node-redis may still hold an older listener).
        if (this.feeds.get(topic) === feed) this.onPush(feed, message);
      },
      position: null,
      catching: true,
      held: [],
      heldOverflow: false,
      running: false,
      again: false,
      started,
      markStarted,
    };
    this.feeds.set(topic, feed);
    this.startSubscription(feed, 0);
    return started;
  }

  /**
   * Subscribes to the topic's channel, then reads from where it stands. A SUBSCRIBE that failed
   * (sent before the cluster client was connected, or lost with its connection) is sent again
   * once Redis answers; sending it twice is harmless (node-redis keeps one listener once).
   */
  private startSubscription(feed: Feed, attempt: number): void {
    this.host.subscribe(feed.key, feed.listener).then(
      () => this.catchUp(feed),
      async () => {
        if (this.feeds.get(feed.topic) !== feed) return;
        if (this.host.isUp()) await sleep(this.host.retryDelay(attempt));
        else await this.host.waitUp();
        if (this.feeds.get(feed.topic) === feed) this.startSubscription(feed, attempt + 1);
      },
    );
  }

  /** Redis is away: callers waiting for a topic to start need not wait for it to come back. */
  releaseWaiting(): void {
    for (const feed of this.feeds.values()) feed.markStarted();
  }

  unsubscribe(topic: string): void {
    const feed = this.feeds.get(topic);
    if (!feed) return;
    this.feeds.delete(topic);
    feed.markStarted();
    this.host.unsubscribe(feed.key, feed.listener);
  }

  /** Subscriptions were renewed after an outage: every topic reads what it missed. */
  catchUpAll(): void {
    for (const feed of this.feeds.values()) this.catchUp(feed);
  }

  stop(): void {
    for (const feed of this.feeds.values()) feed.markStarted();
    this.feeds.clear();
  }

  private onPush(feed: Feed, message: Buffer): void {
    const entry = decodeLive(message);
    if (entry === null) {
      this.host.report(new Error(`Ignored a message on Redis channel '${feed.key}' that no hawser process sent.`));
      return;
    }
    if (feed.catching) {
      if (feed.held.length < MAX_HELD_PUSHES) feed.held.push(entry);
      else feed.heldOverflow = true;
      return;
    }
    this.apply(feed, entry);
  }

  /** Delivers a push that continues the topic; starts a catch-up when one was missed. */
  private apply(feed: Feed, entry: LiveEntry): boolean {
    const position = feed.position!;
    if (compareOffsetIds(entry.id, position) <= 0) return true; // had it already
    if (entry.previous !== position && !(entry.previous === "" && position === "0-0")) {
      feed.catching = true;
      feed.held = [entry];
      this.catchUp(feed);
      return false;
    }
    feed.position = entry.id;
    this.host.deliver(feed.topic, entry.id, entry.meta, entry.payload);
    return true;
  }

  /** Reads what the topic missed, then what was held, until it is continuous again. */
  private catchUp(feed: Feed): void {
    feed.catching = true;
    if (feed.running) {
      feed.again = true;
      return;
    }
    feed.running = true;
    void this.runCatchUp(feed).finally(() => {
      feed.running = false;
    });
  }

  private async runCatchUp(feed: Feed): Promise<void> {
    let attempt = 0;
    while (this.feeds.get(feed.topic) === feed) {
      feed.again = false;
      try {
        if (feed.position === null) feed.position = await this.host.newestId(feed.key);
        else await this.readMissed(feed);
      } catch (error) {
        if (this.feeds.get(feed.topic) !== feed) return;
        if (!this.host.isUp()) await this.host.waitUp();
        else {
          this.host.report(error instanceof Error ? error : new Error(String(error)));
          await sleep(this.host.retryDelay(attempt++));
        }
        continue;
      }
      if (this.feeds.get(feed.topic) !== feed) return;
      if (feed.heldOverflow) {
        // Too many held to keep: read them from the stream instead.
        feed.held = [];
        feed.heldOverflow = false;
        continue;
      }
      const held = feed.held;
      feed.held = [];
      feed.catching = false;
      let continuous = true;
      for (const entry of held) {
        if (!this.apply(feed, entry)) {
          continuous = false;
          break;
        }
      }
      if (!continuous) {
        feed.catching = true;
        continue;
      }
      if (feed.again) {
        feed.catching = true;
        continue;
      }
      feed.markStarted();
      return;
    }
  }

  private async readMissed(feed: Feed): Promise<void> {
    for (;;) {
      const entries = await this.host.entriesAfter(feed.key, `(${feed.position!}`, CATCH_UP_PAGE);
      if (this.feeds.get(feed.topic) !== feed) return;
      for (const entry of entries) {
        feed.position = entry.id;
        // Entries no hawser process wrote are stepped over.
        if (entry.meta !== null) this.host.deliver(feed.topic, entry.id, entry.meta, entry.payload);
      }
      if (entries.length < CATCH_UP_PAGE) return;
    }
  }
}
