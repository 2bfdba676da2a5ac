import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { appended, sharedEmpty } from "../protocol/empty.js";

/**
 * Batches up to this many bytes of small frames are copied into one buffer and written with
 * one `write`: the copy costs less than the stream's bookkeeping for each chunk of a writev.
 * Larger batches go out as a writev of the frames as they are.
 */
export const COALESCE_BYTES = 16 * 1024;

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
    if (count === 0) return;
    const total = this.bytes;
    this.chunks = sharedEmpty();
    this.bytes = 0;
    const socket = this.socket;
    // Nothing can be sent once the socket is destroyed or ended (the transport flushes
    // before it ends the socket).
    if (socket.destroyed || socket.writableEnded) return;
    if (count === 1) {
      socket.write(chunks[0]!);
    } else if (total <= COALESCE_BYTES) {
      socket.write(Buffer.concat(chunks, total));
    } else {
      socket.cork();
      for (let i = 0; i < count; i++) socket.write(chunks[i]!);
      socket.uncork();
    }
  }
}

/** One function for every batcher (no closure per connection). */
function flushBatcher(batcher: WriteBatcher): void {
  batcher.flush();
}
