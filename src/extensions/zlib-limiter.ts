// A FIFO concurrency limiter for zlib work shared by all connections.
//
// Why: node:zlib runs each job on libuv's thread pool and allocates its buffers
// natively. Thousands of connections compressing at once would queue thousands
// of native jobs and their memory at the same time (the memory fragmentation
// problem `ws` documents); bounding the jobs in flight bounds that memory, and
// FIFO keeps one busy connection from starving the others.

/** Thrown (as the rejection) when a waiter's AbortSignal fires before it got a slot. */
export class ZlibLimiterAbortError extends Error {
  constructor() {
    super("zlib job cancelled before it started (its connection closed)");
    this.name = "ZlibLimiterAbortError";
  }
}

interface Waiter {
  grant: (release: () => void) => void;
  cancelled: boolean;
}

export class ZlibLimiter {
  #max: number;
  #running = 0;
  // FIFO as an array with a moving head: O(1) amortized, compacted when half is dead space.
  #queue: Waiter[] = [];
  #head = 0;
  #waiting = 0;

  /** @param maxConcurrent zlib jobs allowed to run at once (>= 1). */
  constructor(maxConcurrent = 10) {
    this.#max = ZlibLimiter.#check(maxConcurrent);
  }

  static #check(n: number): number {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`maxConcurrent must be an integer >= 1, got ${String(n)}`);
    }
    return n;
  }

  get maxConcurrent(): number {
    return this.#max;
  }

  /** Changing the cap applies to the next grants; raising it starts waiters at once. */
  set maxConcurrent(n: number) {
    this.#max = ZlibLimiter.#check(n);
    this.#pump();
  }

  /** Jobs holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#waiting;
  }

  /**
   * Waits for a slot; resolves with a release function (calling it more than once
   * is harmless). If `signal` aborts while waiting, the waiter leaves the queue and
   * the promise rejects with ZlibLimiterAbortError.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new ZlibLimiterAbortError());
    if (this.#running < this.#max && this.#waiting === 0) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        cancelled: false,
        grant: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      const onAbort = (): void => {
        if (waiter.cancelled) return;
        waiter.cancelled = true; // left in place, skipped by #pump
        this.#waiting--;
        reject(new ZlibLimiterAbortError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
      this.#waiting++;
    });
  }

  /** Runs `job` when a slot is free and releases the slot when it settles. */
  async run<T>(job: () => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await job();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#pump();
    };
  }

  // Iterative, and grants resolve promises (run later as microtasks), so a long
  // queue never recurses.
  #pump(): void {
    while (this.#running < this.#max && this.#head < this.#queue.length) {
      const waiter = this.#queue[this.#head]!;
      this.#head++;
      if (waiter.cancelled) continue;
      waiter.cancelled = true; // an abort after the grant must not count twice
      this.#waiting--;
      this.#running++;
      waiter.grant(this.#releaser());
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** The limiter connections share unless given another. Tune with `defaultZlibLimiter.maxConcurrent = n`. */
export const defaultZlibLimiter = new ZlibLimiter(10);

/**
 * Sets how many zlib jobs (compress or decompress calls) may run at once across every
 * connection of the process (default 10). Each running job holds zlib buffers and a libuv
 * thread (there are 4 unless UV_THREADPOOL_SIZE says otherwise); the rest wait in order, so
 * a burst of compressing connections cannot fragment memory without bound.
 */
export function setZlibConcurrency(maxConcurrent: number): void {
  defaultZlibLimiter.maxConcurrent = maxConcurrent;
}
