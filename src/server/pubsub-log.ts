import { Buffer } from "node:buffer";
import type { TopicHistory, TopicMessage } from "./pubsub-adapter.js";

/** How much of each topic's history an ordered adapter keeps. */
export interface HistoryLimits {
  /** Most messages kept per topic; 0 keeps none (offsets are still given). */
  maxMessages?: number;
  /** Messages older than this many milliseconds are dropped; `Infinity` for no age limit. */
  maxAgeMs?: number;
}

/** The in-memory adapter's history: 1,000 messages per topic, for 5 minutes. */
export const DEFAULT_HISTORY_LIMITS: Readonly<Required<HistoryLimits>> = Object.freeze({ maxMessages: 1000, maxAgeMs: 5 * 60_000 });

/** The in-memory adapter's bound on all topics' history together, in payload bytes. */
export const DEFAULT_MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/**
 * Orders two offsets of the form "A-B" (two decimal numbers, as Redis stream IDs and the
 * in-memory adapter's offsets are): by A, then by B. Exact for numbers of any size.
 */
export function compareOffsetIds(a: string, b: string): number {
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  return compareDecimal(a.slice(0, dashA), b.slice(0, dashB)) || compareDecimal(a.slice(dashA + 1), b.slice(dashB + 1));
}

/** True for "A-B" with two decimal numbers without leading zeros: what compareOffsetIds orders. */
export function isOffsetId(text: string): boolean {
  return /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/.test(text);
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function checkHistoryLimits(limits: HistoryLimits, defaults: Readonly<Required<HistoryLimits>>): Required<HistoryLimits> {
  const maxMessages = limits.maxMessages ?? defaults.maxMessages;
  const maxAgeMs = limits.maxAgeMs ?? defaults.maxAgeMs;
  if (!Number.isInteger(maxMessages) || maxMessages < 0) {
    throw new RangeError(`history.maxMessages must be a whole number of messages (0 or more), got ${maxMessages}.`);
  }
  if (!(maxAgeMs > 0)) throw new RangeError(`history.maxAgeMs must be a positive number of milliseconds (or Infinity), got ${maxAgeMs}.`);
  return { maxMessages, maxAgeMs };
}

interface Entry extends TopicMessage {
  readonly seq: number;
  readonly at: number;
  readonly log: TopicLog;
  payload: Buffer;
  trimmed: boolean;
}

interface TopicLog {
  readonly topic: string;
  /** entries[head..] are kept; those before were trimmed. */
  entries: Entry[];
  head: number;
  /** Sequence number of the latest message trimmed away (-1: none). */
  trimmedThrough: number;
}

const RELEASED = Buffer.alloc(0);

/**
 * Topics' histories in one process (the in-memory adapter's bus): every message gets the next
 * sequence number of the store, and the offset "EPOCH-SEQ", where EPOCH is the store's
 * creation time: an offset from another store (an earlier process) is recognised as foreign.
 *
 * Bounds: `maxMessages` per topic, `maxAgeMs`, and `maxTotalBytes` over all topics (the oldest
 * messages go first). Trimming happens as messages are appended and history is read, so an
 * idle store keeps what it had (within the bounds) without a timer.
 */
export class HistoryStore {
  readonly epoch = String(Date.now());
  private seq = 0;
  private readonly logs = new Map<string, TopicLog>();
  /** Every kept entry in append order (some already trimmed by count: skipped, then compacted). */
  private order: Entry[] = [];
  private orderHead = 0;
  private trimmedInOrder = 0;
  private bytes = 0;
  /** The highest trimmed sequence number of topics whose log was dropped when it emptied. */
  private forgottenThrough = -1;

  constructor(
    private readonly limits: Required<HistoryLimits>,
    private readonly maxTotalBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(maxTotalBytes >= 0)) throw new RangeError(`maxHistoryBytes must be 0 or more, got ${maxTotalBytes}.`);
  }

  /** The offset of the latest message appended to any topic: everything after it is yet to come. */
  get latest(): string {
    return `${this.epoch}-${this.seq}`;
  }

  /** Payload bytes held now, over all topics. */
  get heldBytes(): number {
    return this.bytes;
  }

  append(topic: string, payload: Buffer, binary: boolean): string {
    const now = this.now();
    this.trimByAge(now);
    const seq = ++this.seq;
    const offset = `${this.epoch}-${seq}`;
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = { topic, entries: [], head: 0, trimmedThrough: this.forgottenThrough }));
    if (this.limits.maxMessages === 0 || payload.length > this.maxTotalBytes) {
      log.trimmedThrough = seq;
      return offset;
    }
    const entry: Entry = { offset, seq, at: now, log, payload, binary, trimmed: false };
    log.entries.push(entry);
    this.order.push(entry);
    this.bytes += payload.length;
    while (log.entries.length - log.head > this.limits.maxMessages) this.trimHead(log);
    while (this.bytes > this.maxTotalBytes) this.trimOldest();
    this.compact(log);
    return offset;
  }

  /** The messages of `topic` after `since`, and whether anything after it was trimmed. */
  after(topic: string, since: string): TopicHistory {
    this.trimByAge(this.now());
    const log = this.logs.get(topic);
    const kept = log ? log.entries.slice(log.head) : [];
    const sinceSeq = this.sequenceOf(since);
    // Not an offset of this store (another process's, or garbage): what is here, flagged.
    if (sinceSeq === null || sinceSeq > this.seq) return { messages: kept.map(message), truncated: true };
    const trimmedThrough = log ? log.trimmedThrough : this.forgottenThrough;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (kept[mid]!.seq <= sinceSeq) low = mid + 1;
      else high = mid;
    }
    return { messages: kept.slice(low).map(message), truncated: trimmedThrough > sinceSeq };
  }

  private sequenceOf(offset: string): number | null {
    if (!isOffsetId(offset)) return null;
    const dash = offset.indexOf("-");
    if (offset.slice(0, dash) !== this.epoch) return null;
    const seq = Number(offset.slice(dash + 1));
    return Number.isSafeInteger(seq) ? seq : null;
  }

  private trimByAge(now: number): void {
    const oldest = now - this.limits.maxAgeMs;
    for (;;) {
      this.skipTrimmed();
      const entry = this.order[this.orderHead];
      if (entry === undefined || entry.at >= oldest) break;
      this.trimOldest();
    }
  }

  /** Drops the oldest entry of all (it is the head of its topic's log). */
  private trimOldest(): void {
    this.skipTrimmed();
    const entry = this.order[this.orderHead];
    if (entry === undefined) return;
    this.orderHead++;
    this.trimHead(entry.log);
    this.trimmedInOrder--; // trimHead counted it; it has also left the order queue
    this.compact(entry.log);
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  /** Steps over entries at the front of the order queue that were trimmed by count already. */
  private skipTrimmed(): void {
    while (this.orderHead < this.order.length && this.order[this.orderHead]!.trimmed) {
      this.orderHead++;
      this.trimmedInOrder--;
    }
  }

  private trimHead(log: TopicLog): void {
    const entry = log.entries[log.head++]!;
    entry.trimmed = true;
    this.bytes -= entry.payload.length;
    entry.payload = RELEASED;
    log.trimmedThrough = entry.seq;
    this.trimmedInOrder++;
  }

  /** Frees the trimmed front of a log (and drops an empty log), and trimmed stubs in the order queue. */
  private compact(log: TopicLog): void {
    if (log.head === log.entries.length) {
      this.logs.delete(log.topic);
      this.forgottenThrough = Math.max(this.forgottenThrough, log.trimmedThrough);
      log.entries = [];
      log.head = 0;
    } else if (log.head > 64 && log.head * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
    const queued = this.order.length - this.orderHead;
    if (this.trimmedInOrder > 1024 && this.trimmedInOrder * 2 > queued) {
      this.order = this.order.slice(this.orderHead).filter((entry) => !entry.trimmed);
      this.orderHead = 0;
      this.trimmedInOrder = 0;
    }
  }
}

function message(entry: Entry): TopicMessage {
  return { offset: entry.offset, payload: entry.payload, binary: entry.binary };
}
