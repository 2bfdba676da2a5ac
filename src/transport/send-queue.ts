import { Buffer } from "node:buffer";
import { encodeFrame } from "../protocol/frame.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { WebSocketOpcode } from "../protocol/opcodes.js";
import type { PreparedMessage } from "./prepared-message.js";
import { appended, sharedEmpty, withoutHead } from "../protocol/empty.js";
import type { WriteCallback } from "./write-batcher.js";

type DataOpcode = typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary;

type Outgoing =
  | { kind: "data"; opcode: number; payload: Buffer | string; length: number; compressed: Promise<Buffer> | null }
  | { kind: "prepared"; message: PreparedMessage; shared: Promise<Buffer[] | null> | null }
  | { kind: "fragment"; opcode: number; payload: Buffer; length: number; fin: boolean; rsv1: boolean; compressed: Promise<Buffer> | null }
  | { kind: "written"; callback: WriteCallback }
  | { kind: "close"; code: number | undefined; reason: string };

/** What `settled` gives for a compression that failed. */
const FAILED = Symbol("compression failed");

/** Where the queue's head goes once it is ready: the transport. */
export interface SendQueueSink {
  /** Frames one message (already compressed when `compressed` is given) and writes it. */
  writeData(opcode: number, payload: Buffer | string, compressed: Buffer | null): void;
  /** Writes a prepared message's frames as they are. */
  writeFrames(frames: Buffer[]): void;
  /** Frames one fragment of a message (its payload compressed already when `rsv1` says so). */
  writeFragment(opcode: number, payload: Buffer, fin: boolean, rsv1: boolean): void;
  /** Calls `callback` once the frames written so far are on the socket. */
  afterFramesWritten(callback: WriteCallback): void;
  sendClose(code: number | undefined, reason: string): void;
  /** Our own side broke (compression failed): fail the connection. */
  failLocally(error: Error): void;
  /** True once the connection is over: queued entries are then dropped. */
  readonly finished: boolean;
}

/** The bytes a payload takes on the wire before framing. */
export function payloadLength(payload: Buffer | string): number {
  return typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
}

/**
 * Keeps messages in send order when some must wait: a message being compressed (which takes
 * a thread-pool round trip) holds back everything sent after it, including the close frame
 * (RFC 6455 section 7.1.2: nothing may follow it). A transport makes one only when a message
 * first has to wait, so connections that never compress do not carry it.
 */
export class SendQueue {
  private entries: Outgoing[] = sharedEmpty();
  /** Payload bytes waiting here, for `bufferedAmount`. */
  bytes = 0;

  constructor(
    private readonly codec: MessageCodec | null,
    private readonly sink: SendQueueSink,
  ) {}

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** True when a close frame is queued: nothing more may be sent. */
  get closing(): boolean {
    const count = this.entries.length;
    return count > 0 && this.entries[count - 1]!.kind === "close";
  }

  /** Queues a message of `length` bytes (see `payloadLength`); compressed first when the codec wants it. */
  send(opcode: DataOpcode, payload: Buffer | string, length: number): void {
    const codec = this.codec;
    if (codec && length >= codec.threshold) {
      const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
      this.push({ kind: "data", opcode, payload: bytes, length, compressed: this.startCompression(codec.compress(bytes)) }, length);
    } else {
      this.push({ kind: "data", opcode, payload, length, compressed: null }, length);
    }
  }

  /** Queues a message encoded once for many connections; `shared` is its compressed form. */
  sendPrepared(message: PreparedMessage, shared: Promise<Buffer[] | null> | null): void {
    this.push({ kind: "prepared", message, shared }, message.payload.length);
  }

  /**
   * Queues one fragment of a message (see `SocketTransport.sendFragment`); with `compress`, it
   * goes through the codec's stream for fragments, and RSV1 marks the message's first frame.
   */
  sendFragment(opcode: number, payload: Buffer, fin: boolean, compress: boolean): void {
    const codec = this.codec;
    const compressed = compress && codec?.compressFragment ? this.startCompression(codec.compressFragment(payload, fin)) : null;
    const rsv1 = compressed !== null && opcode !== 0;
    this.push({ kind: "fragment", opcode, payload, length: payload.length, fin, rsv1, compressed }, payload.length);
  }

  /** Queues a callback for when everything queued before it has been written. */
  afterWrite(callback: WriteCallback): void {
    this.push({ kind: "written", callback }, 0);
  }

  /** Queues the close frame behind everything sent so far. */
  close(code: number | undefined, reason: string): void {
    this.push({ kind: "close", code, reason }, 0);
  }

  /**
   * Drops everything queued (the connection is gone); callbacks waiting for dropped data are
   * told, in order, before this returns.
   */
  abandon(): void {
    const entries = this.entries;
    this.entries = sharedEmpty();
    this.bytes = 0;
    let error: Error | null = null;
    for (const entry of entries) {
      if (entry.kind !== "written") continue;
      error ??= new Error("The connection closed before the data could be written.");
      entry.callback(error);
    }
  }

  private startCompression(compressed: Promise<Buffer>): Promise<Buffer> {
    // Rejections are handled when this entry reaches the head of the queue.
    compressed.catch(() => undefined);
    return compressed;
  }

  private push(entry: Outgoing, length: number): void {
    this.entries = appended(this.entries, entry);
    this.bytes += length;
    if (this.entries.length === 1) void this.flush();
  }

  /** Removes the head after it was awaited; false when the queue was abandoned meanwhile. */
  private shift(head: Outgoing, length: number): boolean {
    if (this.entries[0] !== head) return false;
    this.entries = withoutHead(this.entries);
    this.bytes -= length;
    return !this.sink.finished;
  }

  private async flush(): Promise<void> {
    while (this.entries.length > 0) {
      const entry = this.entries[0]!;
      if (entry.kind === "close") {
        this.abandon();
        this.sink.sendClose(entry.code, entry.reason);
        return;
      }
      if (entry.kind === "prepared") {
        const frames = await this.preparedFrames(entry.message, entry.shared);
        if (frames === null || !this.shift(entry, entry.message.payload.length)) return;
        this.sink.writeFrames(frames);
        continue;
      }
      if (entry.kind === "written") {
        if (!this.shift(entry, 0)) return;
        this.sink.afterFramesWritten(entry.callback);
        continue;
      }
      const compressed = entry.compressed ? await this.settled(entry.compressed) : null;
      if (compressed === FAILED || !this.shift(entry, entry.length)) return;
      if (entry.kind === "fragment") this.sink.writeFragment(entry.opcode, compressed ?? entry.payload, entry.fin, entry.rsv1);
      else this.sink.writeData(entry.opcode, entry.payload, compressed);
    }
  }

  /** A compression's result, or FAILED once the failure has failed the connection. */
  private async settled(compressed: Promise<Buffer>): Promise<Buffer | typeof FAILED> {
    try {
      return await compressed;
    } catch (error) {
      this.fail(error as Error);
      return FAILED;
    }
  }

  /** A prepared message's frames, compressed here when the shared compression failed. */
  private async preparedFrames(message: PreparedMessage, shared: Promise<Buffer[] | null> | null): Promise<Buffer[] | null> {
    const frames = shared ? await shared : message.frames;
    if (frames !== null) return frames;
    // The shared compression failed on another connection: compress here instead.
    try {
      return encodeFrame(message.opcode, await this.codec!.compress(message.payload), true, true, null);
    } catch (error) {
      this.fail(error as Error);
      return null;
    }
  }

  private fail(error: Error): void {
    this.abandon();
    this.sink.failLocally(error);
  }
}
