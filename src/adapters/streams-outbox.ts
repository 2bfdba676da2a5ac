// Publishes on their way into Redis: sent at once while Redis answers, queued (bounded) while
// it does not, and sent again in order once it is back. A publish whose outcome is unknown
// (its connection died with the command in flight) is looked for in its topic's stream before
// it is sent again, so it is neither lost nor appended twice.
import type { Buffer } from "node:buffer";
import { setTimeout as sleep } from "node:timers/promises";
import { PublishRefusedError } from "../server/pubsub-adapter.js";
import { encodeMeta, MAX_SEQ, type StoredEntry } from "./streams-codec.js";

/** What the outbox needs from the adapter. */
export interface OutboxHost {
  readonly producer: Buffer;
  /** Runs the publish script for one message; resolves with the new entry's ID. */
  append(key: string, meta: Buffer, payload: Buffer): Promise<string>;
  /** Makes sure the publish script is loaded on every Redis master (e.g. after SCRIPT FLUSH). */
  loadScript(): Promise<void>;
  /** Entries of a stream, newest first, up to `end` ("+", or "(ID" to continue), at most `count`. */
  newestEntries(key: string, end: string, count: number): Promise<StoredEntry[]>;
  isUp(): boolean;
  /** Resolves once Redis is reachable again (or the adapter closed). */
  waitUp(): Promise<void>;
  retryDelay(attempt: number): number;
  /** A publish Redis refused, or trouble worth an "error" event. */
  report(error: Error): void;
}

export interface OutboxLimits {
  maxQueuedPublishes: number;
  maxQueuedBytes: number;
  /** How far back (entries) to look for a publish whose outcome is unknown. */
  maxScanEntries: number;
}

/** One publish not yet confirmed by Redis. */
export interface Outgoing {
  readonly seq: number;
  readonly topic: string;
  readonly key: string;
  readonly meta: Buffer;
  readonly payload: Buffer;
  /** queued: not sent (or known not run); sent: awaiting the reply; uncertain: may have run. */
  state: "queued" | "sent" | "uncertain";
  readonly promise: Promise<string>;
  resolve(offset: string): void;
  reject(error: Error): void;
}

/** Redis replies meaning the command did not run and may simply be sent again. */
const NOT_RUN = /^(NOSCRIPT|LOADING|TRYAGAIN|CLUSTERDOWN|READONLY|MASTERDOWN|BUSY)\b/;

export class Outbox {
  /** Unconfirmed publishes, in publish order. */
  private readonly pending = new Map<number, Outgoing>();
  private bytes = 0;
  private seq = 0;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private recovering = false;
  private closed = false;
  /** Sends that failed so far (a round with failures waits before the next). */
  private failures = 0;

  constructor(
    private readonly host: OutboxHost,
    private readonly limits: OutboxLimits,
    private readonly isReplyError: (error: Error) => boolean,
    private readonly isNotSent: (error: Error) => boolean,
  ) {}

  /** Publishes Redis has not confirmed yet (queued, or awaiting its reply). */
  get size(): number {
    return this.pending.size;
  }

  /** Takes a publish, or throws a PublishRefusedError when the queue is full. */
  add(topic: string, key: string, payload: Buffer, binary: boolean): Outgoing {
    if (this.closed) throw new PublishRefusedError("The Redis Streams adapter is closed: the publish went nowhere.");
    if (this.pending.size >= this.limits.maxQueuedPublishes || this.bytes + payload.length > this.limits.maxQueuedBytes) {
      throw new PublishRefusedError(
        `Not published: ${this.pending.size} publishes (${this.bytes} bytes) wait for Redis already, the limit ` +
          `(maxQueuedPublishes ${this.limits.maxQueuedPublishes}, maxQueuedBytes ${this.limits.maxQueuedBytes}). Try again once Redis is back.`,
      );
    }
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
    let resolve!: (offset: string) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const outgoing: Outgoing = {
      seq: this.seq,
      topic,
      key,
      meta: encodeMeta(this.host.producer, this.seq, binary),
      payload,
      state: "queued",
      promise,
      resolve,
      reject,
    };
    this.pending.set(outgoing.seq, outgoing);
    this.bytes += payload.length;
    if (!this.recovering && this.host.isUp()) this.send(outgoing);
    else void this.recover();
    return outgoing;
  }

  /** Redis has the publish `seq` as `offset` (from its reply, or seen in the stream). */
  confirm(seq: number, offset: string): void {
    const outgoing = this.pending.get(seq);
    if (outgoing === undefined) return;
    this.settle(outgoing);
    outgoing.resolve(offset);
  }

  /** Refuses every publish still waiting (the adapter is closing); returns how many there were. */
  close(): number {
    this.closed = true;
    const left = [...this.pending.values()];
    for (const outgoing of left) {
      this.settle(outgoing);
      outgoing.reject(new PublishRefusedError("The Redis Streams adapter closed before Redis took this publish."));
    }
    return left.length;
  }

  private settle(outgoing: Outgoing): void {
    this.pending.delete(outgoing.seq);
    this.bytes -= outgoing.payload.length;
  }

  private send(outgoing: Outgoing): void {
    outgoing.state = "sent";
    this.inFlight++;
    this.host.append(outgoing.key, outgoing.meta, outgoing.payload).then(
      (offset) => {
        this.sent();
        this.confirm(outgoing.seq, offset);
      },
      (error: Error) => {
        this.sent();
        this.failed(outgoing, error);
      },
    );
  }

  private sent(): void {
    if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private failed(outgoing: Outgoing, error: Error): void {
    if (this.pending.get(outgoing.seq) !== outgoing) return; // confirmed meanwhile, or closed
    this.failures++;
    if (this.isReplyError(error) && !NOT_RUN.test(error.message)) {
      this.settle(outgoing);
      const refused = new PublishRefusedError(`Redis refused a publish to topic '${outgoing.topic}': ${error.message}`, { cause: error });
      this.host.report(refused);
      outgoing.reject(refused);
      return;
    }
    outgoing.state = this.isReplyError(error) || this.isNotSent(error) ? "queued" : "uncertain";
    void this.recover();
  }

  /** Resolves once no publish awaits a reply. */
  private idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Rounds until nothing is waiting: once every reply is in and Redis is reachable, load the
   * script, settle the uncertain publishes from the streams, send the rest in publish order.
   * While it runs, new publishes queue behind the old ones instead of overtaking them.
   */
  private async recover(): Promise<void> {
    if (this.recovering || this.closed) return;
    this.recovering = true;
    let attempt = 0;
    try {
      for (;;) {
        await this.idle();
        if (this.closed || this.pending.size === 0) return;
        if (!this.host.isUp()) {
          await this.host.waitUp();
          continue;
        }
        const failuresBefore = this.failures;
        try {
          await this.host.loadScript();
          await this.settleUncertain();
          for (const outgoing of [...this.pending.values()]) if (outgoing.state === "queued") this.send(outgoing);
          await this.idle();
          if (this.failures === failuresBefore) attempt = 0;
          else await sleep(this.host.retryDelay(attempt++));
        } catch (error) {
          if (!this.host.isUp()) continue;
          this.host.report(error instanceof Error ? error : new Error(String(error)));
          await sleep(this.host.retryDelay(attempt++));
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  /**
   * For each topic with publishes that may have run: look back through its stream for this
   * process's entries. One connection runs commands in order, so if publish n is there, every
   * earlier publish to that topic is too; the rest did not run and are sent again.
   */
  private async settleUncertain(): Promise<void> {
    const byKey = new Map<string, Outgoing[]>();
    for (const outgoing of this.pending.values()) {
      if (outgoing.state !== "uncertain") continue;
      const list = byKey.get(outgoing.key);
      if (list) list.push(outgoing);
      else byKey.set(outgoing.key, [outgoing]);
    }
    await Promise.all(
      [...byKey].map(async ([key, list]) => {
        const { found, newest } = await this.findOwn(key, list[0]!.seq);
        for (const outgoing of list) {
          const offset = found.get(outgoing.seq);
          if (offset !== undefined) this.confirm(outgoing.seq, offset);
          else if (newest !== null && outgoing.seq < newest) {
            // It ran (a later publish to the topic did), but the stream has trimmed it already.
            this.settle(outgoing);
            const error = new Error(`A publish to topic '${outgoing.topic}' reached Redis, but left its history before its offset could be read back.`);
            this.host.report(error);
            outgoing.reject(error);
          } else outgoing.state = "queued";
        }
      }),
    );
  }

  /** This process's entries in a stream with sequence numbers from `fromSeq`, newest first. */
  private async findOwn(key: string, fromSeq: number): Promise<{ found: Map<number, string>; newest: number | null }> {
    const found = new Map<number, string>();
    let newest: number | null = null;
    let end = "+";
    const page = 200;
    for (let scanned = 0; scanned < this.limits.maxScanEntries; scanned += page) {
      const entries = await this.host.newestEntries(key, end, page);
      for (const entry of entries) {
        if (entry.meta === null || !entry.meta.producer.equals(this.host.producer)) continue;
        if (entry.meta.seq < fromSeq) return { found, newest };
        found.set(entry.meta.seq, entry.id);
        newest ??= entry.meta.seq;
      }
      if (entries.length < page) break;
      end = `(${entries.at(-1)!.id}`;
    }
    return { found, newest };
  }
}
