import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { appended, sharedEmpty } from "../protocol/empty.js";

/**
 * Batches up to this many bytes of small frames are copied into one buffer and written with
 * one `write`: the copy costs less than the stream's bookkeeping for each chunk of a writev.
 * Larger batches go out as a writev of the frames as they are.
 */
export const COALESCE_BYTES = 16 * 1024;

/** Told once bytes have been written to the socket, or with an error when they never will be. */
export type WriteCallback = (error?: Error | null) => void;

const NOTHING = Buffer.alloc(0);

/**
 * Coalesces the frames written during one turn of the event loop (or during one read, see
 * `hold`) into a single system call: a burst of small messages costs one write instead of
 * one per frame.
 */
export class WriteBatcher {
  /** Frames waiting for the end of the read or of the tick. */
  private chunks: Buffer[] = sharedEmpty();
  /** Their total size, counted in `bufferedAmount`. */
  bytes = 0;
  private flushScheduled = false;
  /** Between `hold()` and `release()`: writes wait for the release instead of the next tick. */
  private holding = false;
  /** Callbacks waiting for what is batched now to be written (see `afterWrite`); made on first use. */
  private callbacks: WriteCallback[] | null = null;

  constructor(private readonly socket: Duplex) {}

  write(chunks: Buffer[]): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      this.chunks = appended(this.chunks, chunk);
      this.bytes += chunk.length;
    }
    if (!this.holding && !this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushBatcher, this);
    }
  }

  /**
   * Calls `callback` once everything written so far has been written to the socket (its write
   * callback fired), or with an error when the socket is gone before that. The callbacks ride
   * on the batch's last socket write: nothing is added to batches without them.
   */
  afterWrite(callback: WriteCallback): void {
    (this.callbacks ??= []).push(callback);
    if (!this.holding && !this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushBatcher, this);
    }
  }

  /**
   * Holds writes until `release()`: the transport holds them while it handles one read, so
   * the replies to every message in the read go out in one write, without waiting a tick.
   * Returns false when already holding (the caller then must not release).
   */
  hold(): boolean {
    if (this.holding) return false;
    this.holding = true;
    return true;
  }

  release(): void {
    this.holding = false;
    this.flush();
  }

  /** Hands everything written so far to the socket now. */
  flush(): void {
    this.flushScheduled = false;
    const chunks = this.chunks;
    const count = chunks.length;
    const callbacks = this.callbacks;
    if (count === 0 && callbacks === null) return;
    const total = this.bytes;
    this.chunks = sharedEmpty();
    this.bytes = 0;
    const socket = this.socket;
    let done: WriteCallback | undefined;
    if (callbacks !== null) {
      this.callbacks = null;
      done = callAll(callbacks);
    }
    // Nothing can be sent once the socket is destroyed or ended (the transport flushes
    // before it ends the socket).
    if (socket.destroyed || socket.writableEnded) {
      done?.(new Error("The connection closed before the data could be written."));
      return;
    }
    if (count === 1) {
      socket.write(chunks[0]!, done);
    } else if (count === 0) {
      // Only callbacks: an empty write completes after everything the socket already holds.
      socket.write(NOTHING, done);
    } else if (total <= COALESCE_BYTES) {
      socket.write(Buffer.concat(chunks, total), done);
    } else {
      socket.cork();
      for (let i = 0; i < count - 1; i++) socket.write(chunks[i]!);
      socket.write(chunks[count - 1]!, done);
      socket.uncork();
    }
  }
}

/** One write callback for several, called in order with the write's outcome. */
function callAll(callbacks: WriteCallback[]): WriteCallback {
  if (callbacks.length === 1) return callbacks[0]!;
  return (error) => {
    for (const callback of callbacks) callback(error);
  };
}

/** One function for every batcher (no closure per connection). */
function flushBatcher(batcher: WriteBatcher): void {
  batcher.flush();
}
