import { appended, sharedEmpty } from "../protocol/empty.js";
import type { WebSocketFrame } from "./frame.js";

interface FlowControl {
  pause(): void;
  resume(): void;
}

/**
 * The messages waiting for `recv()`, bounded in bytes: above `maxBufferedBytes` the peer is
 * paused (TCP backpressure) until the reader catches up. After the end, the final close frame
 * is returned to every taker.
 */
export class ReceiveQueue {
  private items: Array<WebSocketFrame | undefined> = sharedEmpty();
  private head = 0;
  private bytes = 0;
  private paused = false;
  /** The usual case, one recv() waiting, without an array; further concurrent takers queue behind. */
  private waiter: ((frame: WebSocketFrame) => void) | null = null;
  private moreWaiters: Array<(frame: WebSocketFrame) => void> | null = null;
  private final: WebSocketFrame | null = null;

  constructor(
    private readonly maxBufferedBytes: number,
    private readonly flow: FlowControl,
  ) {}

  get hasMessages(): boolean {
    return this.head < this.items.length;
  }

  /** A message or the end is waiting: `take()` resolves at once. */
  get hasItem(): boolean {
    return this.hasMessages || this.final !== null;
  }

  push(frame: WebSocketFrame, size: number): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = this.moreWaiters?.shift() ?? null;
      waiter(frame);
      return;
    }
    this.items = appended(this.items, frame);
    this.bytes += size;
    if (!this.paused && this.bytes > this.maxBufferedBytes) {
      this.paused = true;
      this.flow.pause();
    }
  }

  take(): Promise<WebSocketFrame> {
    if (this.hasMessages) return Promise.resolve(this.shift());
    if (this.final) return Promise.resolve(this.final);
    return new Promise((resolve) => {
      if (this.waiter === null) this.waiter = resolve;
      else (this.moreWaiters ??= []).push(resolve);
    });
  }

  /** Removes and returns every buffered message. */
  takeMessages(): WebSocketFrame[] {
    const out: WebSocketFrame[] = [];
    while (this.hasMessages) out.push(this.shift());
    return out;
  }

  /** No more messages will come: waiters and later takers get `frame`. */
  end(frame: WebSocketFrame): void {
    this.final = frame;
    const first = this.waiter;
    const more = this.moreWaiters ?? [];
    this.waiter = null;
    this.moreWaiters = null;
    first?.(frame);
    for (const waiter of more) waiter(frame);
  }

  private shift(): WebSocketFrame {
    const frame = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.bytes -= frame.data.length;
    if (this.head === this.items.length) {
      this.items = sharedEmpty();
      this.head = 0;
    }
    if (this.paused && this.bytes <= this.maxBufferedBytes / 2) {
      this.paused = false;
      this.flow.resume();
    }
    return frame;
  }
}
