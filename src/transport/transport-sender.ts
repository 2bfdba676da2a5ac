import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { encodeClosePayload } from "../protocol/close.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { Connection } from "../protocol/connection.js";
import type { WebSocketOpcode } from "../protocol/opcodes.js";
import type { PreparedMessage } from "./prepared-message.js";
import { payloadLength, SendQueue, type SendQueueSink } from "./send-queue.js";
import type { TransportOptions } from "./types.js";
import { WriteBatcher, type WriteCallback } from "./write-batcher.js";

const DEFAULT_SEND_BUFFER_BYTES = 16 * 1024 * 1024;

/**
 * The sending half of a `SocketTransport`: messages, messages prepared for many connections
 * and fragments go to the connection to be framed into the write batcher, in send order even
 * while compression makes some wait (`SendQueue`); the send buffer's limit refuses more once a
 * peer stops reading; the close frame goes after everything sent before it. `SocketTransport`
 * extends it with reading and the connection's end: one object, so a send reaches the batcher
 * with no added call.
 */
export abstract class TransportSender implements SendQueueSink {
  abstract readonly connection: Connection;
  abstract readonly finished: boolean;
  protected readonly batcher: WriteBatcher;
  protected readonly codec: MessageCodec | null;
  /** Messages waiting behind one being compressed; made when a message first has to wait. */
  private sendQueue: SendQueue | null = null;
  private readonly sendBufferLimit: number;

  constructor(
    /** A TCP or TLS socket, or any duplex byte stream (an HTTP/2 stream, RFC 8441). */
    readonly socket: Duplex,
    options: TransportOptions,
  ) {
    this.codec = options.codec ?? null;
    this.sendBufferLimit = options.maxSendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES;
    this.batcher = new WriteBatcher(socket);
  }

  /** Our closing handshake has begun: cut the connection if it does not finish in time. */
  protected abstract armCloseTimer(): void;

  /** A failure on our side (compression broke): fail the connection with 1011. */
  abstract failLocally(error: Error): void;

  /** Bytes accepted by send() but not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.writeBacklog + (this.sendQueue === null ? 0 : this.sendQueue.bytes);
  }

  /**
   * Hands the frames batched in this turn of the event loop to the socket now, so that
   * `bufferedAmount` counts only what the socket could not write at once (the `ws` face's
   * reading of it).
   */
  flushWrites(): void {
    this.batcher.flush();
  }

  /** Bytes framed but not yet taken by the operating system: in the socket or the batcher. */
  private get writeBacklog(): number {
    return this.batcher.backlog;
  }

  /** The send buffer's high-water mark, from the socket. */
  get writableHighWaterMark(): number {
    return this.socket.writableHighWaterMark;
  }

  // --- sending -----------------------------------------------------------------------------

  /**
   * Queues a message. Returns false when the connection is closing or closed (nothing is
   * sent). Order is kept even when compression makes some messages wait.
   */
  send(opcode: typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary, payload: Buffer | string): boolean {
    if (!this.connection.canSend || this.closingQueued()) return false;
    // A peer that does not keep up gets no more than this buffered for it (plus one message).
    if (this.bufferedAmount >= this.sendBufferLimit) return false;
    // The common case first: nothing waiting, nothing to compress: frame and write at once.
    const codec = this.codec;
    if (codec === null && this.nothingWaiting()) {
      this.writeData(opcode, payload, null);
      return true;
    }
    // Counted once, for the threshold and for the queue's figures.
    const length = payloadLength(payload);
    if (codec !== null && length < codec.threshold && this.nothingWaiting()) {
      this.writeData(opcode, payload, null);
      return true;
    }
    this.queue().send(opcode, payload, length);
    return true;
  }

  /**
   * Queues a message encoded once for many connections (pub/sub): its frame buffers are
   * written as they are, in order with `send()`. With compression, connections whose codecs
   * share a parameter set share one compressed copy; any other compresses the payload itself.
   * False when the connection is closing or closed, past its send buffer limit, or already
   * holding bytes to which this message would add past `publishLimit` (the publisher's
   * `maxPublishBufferBytes`).
   */
  sendPrepared(message: PreparedMessage, publishLimit = Infinity): boolean {
    const codec = this.codec;
    // The common case, kept short: it runs once per subscriber per publish, and reads the
    // socket's backlog once for both limits (with ten thousand subscribers, each read of
    // another connection's state is a cache miss).
    if (codec === null && this.nothingWaiting()) {
      const backlog = this.writeBacklog;
      if (!this.connection.canSend || backlog >= this.sendBufferLimit || overPublishLimit(backlog, message, publishLimit)) return false;
      this.batcher.write(message.frames);
      return true;
    }
    const buffered = this.bufferedAmount;
    if (!this.connection.canSend || this.closingQueued() || buffered >= this.sendBufferLimit || overPublishLimit(buffered, message, publishLimit)) return false;
    if (codec && message.payload.length >= codec.threshold) {
      const shared = message.compressedFrames(codec);
      if (shared === null) return this.send(message.opcode, message.payload);
      this.queue().sendPrepared(message, shared);
    } else if (this.nothingWaiting()) {
      this.batcher.write(message.frames);
    } else {
      this.queue().sendPrepared(message, null);
    }
    return true;
  }

  /**
   * Queues one frame of a message sent in pieces (the `ws` face's `fin: false`), or a whole
   * message with its own compression choice: `opcode` is the message's for its first frame
   * and continuation (0) after, `fin` marks the last. With `compress` (and a codec that can
   * compress fragments) the message's frames share one compression stream and its first frame
   * carries RSV1 (RFC 7692 section 6); the caller keeps one choice for all of a message's
   * frames. Returns false when the connection is closing or closed.
   */
  sendFragment(opcode: number, payload: Buffer, fin: boolean, compress: boolean): boolean {
    if (!this.connection.canSend || this.closingQueued()) return false;
    if (this.bufferedAmount >= this.sendBufferLimit) return false;
    if (!compress && this.nothingWaiting()) {
      this.connection.sendFrame(opcode, payload, fin, false);
      return true;
    }
    this.queue().sendFragment(opcode, payload, fin, compress);
    return true;
  }

  /**
   * Calls `callback` once everything sent so far (messages still being compressed included)
   * has been written to the socket, or with an error if the connection ends first.
   */
  afterWrite(callback: WriteCallback): void {
    if (this.nothingWaiting()) this.batcher.afterWrite(callback);
    else this.sendQueue!.afterWrite(callback);
  }

  sendPong(data?: Uint8Array): boolean {
    return this.connection.pong(data);
  }

  /** Starts the closing handshake after every message already sent (section 7.1.2). */
  close(code: number | undefined, reason: string): void {
    if (this.finished || this.closingQueued()) return;
    if (!this.nothingWaiting()) {
      // Validate now, so a bad code throws to the caller even when the close must wait.
      encodeClosePayload(code, reason);
      this.sendQueue!.close(code, reason);
      return;
    }
    this.sendClose(code, reason);
  }

  /** Messages still being compressed go out before the reply to the peer's close frame. */
  holdCloseReply(code: number | undefined, reason: string): boolean {
    if (this.nothingWaiting()) return false;
    // A close of ours already waiting in the queue will be the reply.
    if (!this.closingQueued()) this.sendQueue!.close(code, reason);
    this.armCloseTimer();
    return true;
  }

  /**
   * True when the peer is not reading what we send: the core then skips answering further
   * pings (RFC 6455 section 5.5.3 allows answering only the latest), so a ping flood from a
   * peer that never reads cannot grow our send buffer.
   */
  isWriteBacklogged(): boolean {
    return this.writeBacklog > this.sendBufferLimit;
  }

  /** The connection is gone: what waits in the send queue is dropped, its callbacks told. */
  protected abandonQueuedSends(): void {
    this.sendQueue?.abandon();
  }

  private closingQueued(): boolean {
    return this.sendQueue !== null && this.sendQueue.closing;
  }

  private nothingWaiting(): boolean {
    return this.sendQueue === null || this.sendQueue.isEmpty;
  }

  private queue(): SendQueue {
    return (this.sendQueue ??= new SendQueue(this.codec, this));
  }

  // --- frames out: from the send queue (SendQueueSink) and the connection (ConnectionEvents) -

  /** @internal */
  writeData(opcode: number, payload: Buffer | string, compressed: Buffer | null): void {
    if (compressed) this.connection.sendFrame(opcode, compressed, true, true);
    else if (typeof payload === "string") this.connection.sendText(payload);
    else this.connection.sendFrame(opcode, payload, true, false);
  }

  /** @internal */
  writeFrames(frames: Buffer[]): void {
    if (this.connection.writable) this.batcher.write(frames);
  }

  /** @internal */
  afterFramesWritten(callback: WriteCallback): void {
    this.batcher.afterWrite(callback);
  }

  /** @internal */
  writeFragment(opcode: number, payload: Buffer, fin: boolean, rsv1: boolean): void {
    this.connection.sendFrame(opcode, payload, fin, rsv1);
  }

  /** @internal */
  sendClose(code: number | undefined, reason: string): void {
    const wasOpen = this.connection.canSend;
    this.connection.close(code, reason);
    if (wasOpen) this.armCloseTimer();
  }

  write(chunks: Buffer[]): void {
    this.batcher.write(chunks);
  }

  writeFrame(opcode: number, payload: Uint8Array | string, fin: boolean, rsv1: boolean, mask: Uint8Array | null): void {
    this.batcher.writeFrame(opcode, payload, fin, rsv1, mask);
  }
}

/** A subscriber that has bytes waiting and would get past the publisher's limit with this message. */
function overPublishLimit(buffered: number, message: PreparedMessage, publishLimit: number): boolean {
  return buffered > 0 && buffered + message.payload.length > publishLimit;
}
