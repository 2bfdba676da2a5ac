/**
 * How fast a peer may send, per connection: a token bucket for frames and one for payload
 * bytes. Resolved (every field set) by the layer that configures the connection.
 */
export interface RateLimit {
  /** Frames per second the peer may send on average: data frames (each fragment counts), pings and pongs. */
  messagesPerSecond: number;
  /** Payload bytes per second the peer may send on average (as received, before inflating). */
  bytesPerSecond: number;
  /** Frames the peer may send at once, above the rate, after a quiet spell (the bucket's size). */
  burstMessages: number;
  /** Payload bytes the peer may send at once, above the rate (the bucket's size). */
  burstBytes: number;
  /**
   * Past the budget: "pause" stops reading from the peer until the budget has refilled (TCP
   * then slows the peer down); "close" fails the connection with 1008 (policy violation).
   */
  action: "pause" | "close";
}

/**
 * A paused connection resumes once this much of a second's rate is back in the budget (or the
 * whole burst, if smaller): resuming at the first refilled frame would wake a throttled peer
 * once per frame.
 */
const RESUME_AFTER_MS = 50;

/** Largest balance kept as a small integer; a bucket larger than this counts as unlimited. */
const UNLIMITED = 0x3fffffff;

/**
 * The spending side of a `RateLimit`, Sans-I/O: the connection spends one message and the
 * payload's bytes per frame with integer arithmetic on the two public balances, and asks
 * `refill(now)` only when a balance runs out; only then is the clock read. A lazy refill grants
 * what an eager one would, and no more: over any span T at most `burst + rate × T`. Every field
 * is a small integer (times in whole milliseconds), so an idle connection's budget is 32 bytes.
 */
export class RateBudget {
  /** Frames that may still arrive before the budget must be refilled; below 0: overdrawn. */
  messagesLeft: number;
  /** Payload bytes that may still arrive; a frame is admitted while this is not negative. */
  bytesLeft: number;
  /** Up to when the time passed has been turned into messages or bytes (whole clock milliseconds). */
  private messagesCreditedTo: number;
  private bytesCreditedTo: number;

  constructor(
    readonly limit: RateLimit,
    /** The clock's reading now: milliseconds from any fixed point, monotonic. */
    now: number,
  ) {
    this.messagesLeft = bucketSize(limit.burstMessages, limit.messagesPerSecond);
    this.bytesLeft = bucketSize(limit.burstBytes, limit.bytesPerSecond);
    this.messagesCreditedTo = Math.floor(now);
    this.bytesCreditedTo = this.messagesCreditedTo;
  }

  /** True when neither balance is overdrawn. */
  get sufficient(): boolean {
    return this.messagesLeft >= 0 && this.bytesLeft >= 0;
  }

  /** Credits the time passed since the last refill up to `now`; returns `sufficient`. */
  refill(now: number): boolean {
    const at = Math.floor(now);
    const { messagesPerSecond, bytesPerSecond, burstMessages, burstBytes } = this.limit;
    const messageBucket = bucketSize(burstMessages, messagesPerSecond);
    const messages = earned(this.messagesCreditedTo, at, messagesPerSecond);
    if (this.messagesLeft + messages >= messageBucket) {
      this.messagesLeft = messageBucket;
      this.messagesCreditedTo = at;
    } else if (messages > 0) {
      this.messagesLeft += messages;
      this.messagesCreditedTo += creditedMs(messages, messagesPerSecond);
    }
    const byteBucket = bucketSize(burstBytes, bytesPerSecond);
    const bytes = earned(this.bytesCreditedTo, at, bytesPerSecond);
    if (this.bytesLeft + bytes >= byteBucket) {
      this.bytesLeft = byteBucket;
      this.bytesCreditedTo = at;
    } else if (bytes > 0) {
      this.bytesLeft += bytes;
      this.bytesCreditedTo += creditedMs(bytes, bytesPerSecond);
    }
    return this.sufficient;
  }

  /**
   * Milliseconds until both balances are back to `RESUME_AFTER_MS` worth of their rate (or
   * their whole burst): how long a paused connection waits before reading again; 0 when they are.
   */
  msUntilResume(): number {
    const { messagesPerSecond, bytesPerSecond, burstMessages, burstBytes } = this.limit;
    const wait = Math.max(
      waitFor(this.messagesLeft, resumeLevel(bucketSize(burstMessages, messagesPerSecond), messagesPerSecond), messagesPerSecond),
      waitFor(this.bytesLeft, resumeLevel(bucketSize(burstBytes, bytesPerSecond), bytesPerSecond), bytesPerSecond),
    );
    return Math.ceil(wait);
  }
}

function bucketSize(burst: number, rate: number): number {
  return rate === Infinity || burst >= UNLIMITED ? UNLIMITED : Math.max(1, Math.floor(burst));
}

/** Whole units earned from `creditedTo` to `now` at `perSecond` (an unlimited rate earns a whole bucket). */
function earned(creditedTo: number, now: number, perSecond: number): number {
  if (perSecond === Infinity) return UNLIMITED;
  const elapsed = now - creditedTo;
  return elapsed > 0 ? Math.floor((elapsed * perSecond) / 1000) : 0;
}

/**
 * The whole milliseconds that `units` stand for, rounded up: what a partial refill moves the
 * credit mark by. Never past the time that earned them; the fraction left over is forfeited.
 */
function creditedMs(units: number, perSecond: number): number {
  return Math.ceil((units * 1000) / perSecond);
}

function resumeLevel(burst: number, perSecond: number): number {
  return Math.max(1, Math.min(burst, Math.ceil((perSecond * RESUME_AFTER_MS) / 1000)));
}

function waitFor(balance: number, level: number, perSecond: number): number {
  if (balance >= level || perSecond === Infinity) return 0;
  return ((level - balance) * 1000) / perSecond;
}
