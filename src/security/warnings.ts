/**
 * Warnings about something that may happen thousands of times a second (refused connections,
 * throttled sockets): each kind is written at most once per interval, with a count of the
 * ones left out since.
 */
export class RateLimitedWarnings {
  private readonly lastWritten = new Map<string, number>();
  private readonly leftOut = new Map<string, number>();

  constructor(
    private readonly write: (message: string) => void,
    private readonly intervalMs = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Writes `message()` unless a warning of this `kind` was written within the interval. */
  warn(kind: string, message: () => string): void {
    const now = this.clock();
    const last = this.lastWritten.get(kind);
    if (last !== undefined && now - last < this.intervalMs) {
      this.leftOut.set(kind, (this.leftOut.get(kind) ?? 0) + 1);
      return;
    }
    const skipped = this.leftOut.get(kind) ?? 0;
    this.leftOut.delete(kind);
    this.lastWritten.set(kind, now);
    this.write(`hawser: ${message()}${skipped > 0 ? ` (${skipped} more like it since the last one were not logged)` : ""}`);
  }
}
