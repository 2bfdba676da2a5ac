import type { Duplex } from "node:stream";
import type { RateLimit } from "../protocol/rate-budget.js";

/** The reasons reading can be paused for, one bit each. */
export const PausedFor = {
  /** A compressed message is being inflated: nothing behind it is read meanwhile. */
  inflating: 1,
  /** The receiver's buffer is full (`recv()` has not caught up). */
  receiver: 2,
  /** The peer outran its rate limit; the budget is refilling. */
  rateLimit: 4,
} as const;

/** What a read pause needs of its transport. */
export interface ReadPauseOwner {
  readonly socket: Duplex;
  /** The end was reported: the socket is left as it is. */
  readonly finished: boolean;
  /** Parses the input held for the rate limit, if the budget allows now; false once the socket has closed. */
  parseAfterRateLimit(): boolean;
}

/**
 * Why reading from a socket is paused, and the timer that ends a pause for the rate limit:
 * the socket reads while no reason is left, so the peer is slowed down by TCP rather than
 * buffered for. A transport makes one at its first pause.
 */
export class ReadPause {
  /** PausedFor bits. */
  private reasons = 0;
  /** Resumes reading once the rate budget has refilled (see `rateLimited`). */
  private rateTimer: NodeJS.Timeout | null = null;

  constructor(private readonly owner: ReadPauseOwner) {}

  set(reason: number, paused: boolean): void {
    const before = this.reasons;
    this.reasons = paused ? before | reason : before & ~reason;
    if (this.owner.finished) return;
    if (before === 0 && this.reasons !== 0) this.owner.socket.pause();
    else if (before !== 0 && this.reasons === 0) this.owner.socket.resume();
  }

  /**
   * The peer outran the rate limit: stop reading until the budget has refilled ("pause"), or
   * for good ("close": the 1008 is on its way, and reading the rest of a flood only to drop it
   * would cost what the limit saves; the close timer cuts the connection).
   */
  rateLimited(action: RateLimit["action"], waitMs: number): void {
    this.set(PausedFor.rateLimit, true);
    if (action === "pause") {
      if (this.rateTimer) clearTimeout(this.rateTimer);
      this.rateTimer = setTimeout(budgetRefilled, waitMs, this);
      this.rateTimer.unref();
    }
  }

  /** @internal */
  rateTimerFired(): void {
    this.rateTimer = null;
    if (!this.owner.parseAfterRateLimit()) return;
    // Parsing the input held meanwhile may have run out of budget again (a new timer).
    if (this.rateTimer === null) this.set(PausedFor.rateLimit, false);
  }

  /** The socket has closed: the rate pause never ends. */
  stop(): void {
    if (this.rateTimer) clearTimeout(this.rateTimer);
  }
}

/** One timer callback for every transport (no closure per pause). */
function budgetRefilled(pause: ReadPause): void {
  pause.rateTimerFired();
}
