import type { Buffer } from "node:buffer";
import { CloseCode } from "../protocol/close.js";
import type { CodecError, MessageCodec } from "../protocol/codec.js";
import type { Connection } from "../protocol/connection.js";
import { WebSocketOpcode } from "../protocol/opcodes.js";
import { isValidUtf8 } from "../protocol/utf8.js";
import { appended, sharedEmpty, withoutHead } from "../protocol/empty.js";
import type { TransportListener } from "./types.js";

type DataOpcode = typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary;

type Pending =
  | { kind: "message"; opcode: DataOpcode; data: Buffer; compressed: boolean }
  | { kind: "ping" | "pong"; data: Buffer }
  | { kind: "close"; code: number; reason: string };

/** The transport, as the queue needs it. */
export interface DeliveryQueueOwner {
  readonly connection: Connection;
  /** True once the connection is over: nothing more is delivered. */
  readonly finished: boolean;
  /** Stops reading from the socket while decompressing (true), resumes (false). */
  pauseForInflate(paused: boolean): void;
  /** Everything queued was delivered or dropped. */
  deliveryDrained(): void;
}

/**
 * Delivers what the peer sent in arrival order when a compressed message must first be
 * inflated: a small one at once, a large one on the thread pool while pings, pongs, the close
 * frame and later messages wait behind it. A transport makes one at its first compressed
 * message.
 */
export class DeliveryQueue {
  private entries: Pending[] = sharedEmpty();
  private draining = false;

  constructor(
    private readonly codec: MessageCodec,
    /** The largest message, inflated; the transport changes it with its limit. */
    public maxMessageBytes: number,
    private readonly listener: TransportListener,
    private readonly owner: DeliveryQueueOwner,
    /** Check inflated text for UTF-8 (false only for trusted peers). */
    private readonly validateUtf8 = true,
  ) {}

  /** True while queued events are being delivered (a message may be inflating). */
  get delivering(): boolean {
    return this.draining;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  message(opcode: DataOpcode, data: Buffer, compressed: boolean): void {
    if (compressed && this.entries.length === 0 && this.inflateAtOnce(opcode, data)) return;
    this.push({ kind: "message", opcode, data, compressed });
  }

  control(kind: "ping" | "pong", data: Buffer): void {
    this.push({ kind, data });
  }

  closeReceived(code: number, reason: string): void {
    this.push({ kind: "close", code, reason });
  }

  /**
   * Inflates and delivers a small compressed message on the spot when the codec can (no
   * thread-pool round trip, no waiting); false when it must be queued.
   */
  private inflateAtOnce(opcode: DataOpcode, data: Buffer): boolean {
    let inflated: Buffer | undefined;
    try {
      inflated = this.codec.decompressSync?.(data, this.maxMessageBytes);
    } catch (error) {
      this.failWith(error as CodecError);
      return true;
    }
    if (inflated === undefined) return false;
    this.deliverInflated(opcode, inflated);
    return true;
  }

  /** Drops what waits (the connection failed or ended). */
  abandon(): void {
    this.entries = sharedEmpty();
  }

  private push(entry: Pending): void {
    this.entries = appended(this.entries, entry);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    // Stop reading while we catch up, so a peer cannot pile up work (backpressure).
    this.owner.pauseForInflate(true);
    while (this.entries.length > 0 && !this.owner.finished) {
      const entry = this.entries[0]!;
      if (entry.kind === "message" && entry.compressed) {
        if (!(await this.inflateHead(entry))) break;
      } else {
        this.entries = withoutHead(this.entries);
        this.deliver(entry);
      }
    }
    this.draining = false;
    this.owner.pauseForInflate(false);
    this.owner.deliveryDrained();
  }

  /** Inflates and delivers the head; false when the connection failed or ended meanwhile. */
  private async inflateHead(entry: Pending & { kind: "message" }): Promise<boolean> {
    let data: Buffer;
    try {
      data = await this.codec.decompress(entry.data, this.maxMessageBytes);
    } catch (error) {
      this.failWith(error as CodecError);
      return false;
    }
    if (this.owner.finished || this.entries[0] !== entry) return false;
    this.entries = withoutHead(this.entries);
    return this.deliverInflated(entry.opcode, data);
  }

  /** Hands on an inflated message, or fails the connection (1007) if text is not UTF-8. */
  private deliverInflated(opcode: DataOpcode, data: Buffer): boolean {
    const connection = this.owner.connection;
    if (opcode === WebSocketOpcode.text && this.validateUtf8 && !isValidUtf8(data)) {
      connection.fail(CloseCode.invalidPayload, "text message is not valid UTF-8", "invalid-utf8");
      return false;
    }
    this.listener.message(opcode, data);
    // The core held everything behind this message until now (RFC 7692 section 6.2).
    connection.resumeReceiving();
    return true;
  }

  private failWith(error: CodecError): void {
    const code = error.closeCode ?? CloseCode.invalidPayload;
    const violation = code === CloseCode.messageTooBig ? "message-too-big" : code === CloseCode.invalidPayload ? "invalid-compressed-data" : "internal";
    this.owner.connection.fail(code, error.message, violation);
  }

  private deliver(entry: Pending): void {
    switch (entry.kind) {
      case "message":
        this.listener.message(entry.opcode, entry.data);
        break;
      case "ping":
        this.listener.ping(entry.data);
        break;
      case "pong":
        this.listener.pong(entry.data);
        break;
      case "close":
        this.listener.closeReceived(entry.code, entry.reason);
        break;
    }
  }
}
