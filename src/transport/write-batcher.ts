import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";

/**
 * Coalesces the frames written during one turn of the event loop into a single writev:
 * the socket is corked at the first write and uncorked on the next tick, so a burst of small
 * messages costs one system call instead of one per frame.
 */
export class WriteBatcher {
  private corked = false;
  /** Between `hold()` and `release()`: writes wait for the release instead of the next tick. */
  private batching = false;

  constructor(private readonly socket: Duplex) {}

  write(chunks: Buffer[]): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      if (!this.batching) process.nextTick(uncorkBatcher, this);
    }
    for (let i = 0; i < chunks.length; i++) socket.write(chunks[i]!);
  }

  /**
   * Holds writes until `release()`: the transport holds them while it handles one read, so
   * the replies to every message in the read go out in one writev, without waiting a tick.
   * Returns false when already holding (the caller then must not release).
   */
  hold(): boolean {
    if (this.batching) return false;
    this.batching = true;
    return true;
  }

  release(): void {
    this.batching = false;
    if (this.corked) this.uncork();
  }

  /** Hands everything written so far to the socket now. */
  flush(): void {
    if (this.corked) this.uncork();
  }

  /** @internal */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }
}

/** One function for every batcher (no closure per connection). */
function uncorkBatcher(batcher: WriteBatcher): void {
  batcher.uncork();
}
