import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { CloseCode, encodeClosePayload } from "../protocol/close.js";
import { Connection, type ConnectionEvents } from "../protocol/connection.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { ProtocolViolation } from "../protocol/violations.js";
import type { PreparedMessage } from "./prepared-message.js";
import { PeerLiveness, type LivenessOwner } from "./peer-liveness.js";
import { listenToSocket, type SocketEventTarget } from "./socket-events.js";
import type { TransportListener, TransportOptions } from "./types.js";
import { connectionLimits, connectionOptions, WebSocketProtocolError } from "./types.js";
import { WriteBatcher, type WriteCallback } from "./write-batcher.js";
import { payloadLength, SendQueue, type SendQueueSink } from "./send-queue.js";
import { DeliveryQueue, type DeliveryQueueOwner } from "./delivery-queue.js";

export { WebSocketProtocolError, type TransportLimits, type TransportListener, type TransportOptions } from "./types.js";
export type { WriteCallback } from "./write-batcher.js";

const DEFAULT_SEND_BUFFER_BYTES = 16 * 1024 * 1024;

const PAUSED_INFLATING = 1;
const PAUSED_RECEIVER = 2;
const PAUSED_RATE = 4;

/**
 * Binds a protocol `Connection` to a TCP (or TLS) socket: reading, batched writing, message
 * order around asynchronous compression, the closing handshake's TCP teardown (RFC 6455
 * section 7.1.1), close and keepalive timers, and backpressure figures.
 */
export class SocketTransport implements ConnectionEvents, LivenessOwner, SocketEventTarget, SendQueueSink, DeliveryQueueOwner {
  readonly connection: Connection;
  private readonly batcher: WriteBatcher;
  private readonly codec: MessageCodec | null;
  /** Received events waiting behind a message being decompressed; made at the first one. */
  private delivery: DeliveryQueue | null = null;
  /** Messages waiting behind one being compressed; made when a message first has to wait. */
  private sendQueue: SendQueue | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Keepalive pings and the dead-peer check; null when keepalive is off. */
  private readonly liveness: PeerLiveness | null;
  /** @internal Set on every read, for the keepalive check. */
  receivedSinceTick = true;
  /** Resumes reading once the rate budget has refilled (see `rateLimitExceeded`). */
  private rateTimer: NodeJS.Timeout | null = null;
  /** @internal The end was reported to the listener. */
  finished = false;
  /** The TCP connection has ended; `finished` follows once queued messages are delivered. */
  private socketClosed = false;
  private lastError: Error | null = null;
  /** `lastError` came from the socket (a reset, say), not from the protocol. */
  private lastErrorFromSocket = false;
  /**
   * Why reading is paused: bit 1 while decompressing, bit 2 while the receiver's buffer is
   * full, bit 4 while the rate budget refills.
   */
  private pauseReasons = 0;
  private readonly sendBufferLimit: number;
  /** The largest message accepted (inflated); see `setMaxMessageBytes`. */
  private messageLimit: number;

  constructor(
    /** A TCP or TLS socket, or any duplex byte stream (an HTTP/2 stream, RFC 8441). */
    readonly socket: Duplex,
    private readonly options: TransportOptions,
    private readonly listener: TransportListener,
  ) {
    this.codec = options.codec ?? null;
    this.sendBufferLimit = options.maxSendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES;
    this.messageLimit = options.maxMessageBytes;
    this.connection = new Connection(connectionOptions(options), this);
    this.batcher = new WriteBatcher(socket);
    // Frames are already batched per tick; Nagle's algorithm would only add latency.
    if (typeof (socket as Socket).setNoDelay === "function") (socket as Socket).setNoDelay(true);
    listenToSocket(socket, this);
    this.liveness = options.pingIntervalMs > 0 ? new PeerLiveness(this, options.pingIntervalMs, options.pongTimeoutMs) : null;
  }

  /** Feeds bytes that arrived with the upgrade request, before the socket was handed over. */
  start(head: Buffer | undefined): void {
    if (head && head.length > 0) this.onData(head);
    // The peer may have gone between its handshake and ours (a server handler that accepts
    // late): 'end' or 'close' then fired before our listeners, and would never reach us.
    if (this.socket.destroyed) process.nextTick(() => this.onSocketClose());
    else if (this.socket.readableEnded) this.onEnd();
  }

  get readyState(): ReadyState {
    return this.finished ? ReadyState.CLOSED : this.connection.readyState;
  }

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

  /** The timer that cuts the connection if the closing handshake does not finish; null when none runs. @internal */
  get closeTimerHandle(): NodeJS.Timeout | null {
    return this.closeTimer;
  }

  /** Bytes framed but not yet taken by the operating system: in the socket or the batcher. */
  private get writeBacklog(): number {
    return this.socket.writableLength + this.batcher.bytes;
  }

  /** The largest message accepted, inflated; over it the peer gets 1009. */
  get maxMessageBytes(): number {
    return this.messageLimit;
  }

  /**
   * Changes the largest message (and frame) accepted from the next frame on, say to allow a
   * client more once it has authenticated (the `ws` face's `_receiver._maxPayload`).
   */
  setMaxMessageBytes(maxMessageBytes: number, maxFrameBytes = maxMessageBytes): void {
    this.messageLimit = maxMessageBytes;
    this.connection.setLimits(connectionLimits(maxMessageBytes, maxFrameBytes, this.codec !== null));
    if (this.delivery !== null) this.delivery.maxMessageBytes = maxMessageBytes;
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
   */
  sendPrepared(message: PreparedMessage): boolean {
    const codec = this.codec;
    // The common case, kept short: it runs once per subscriber per publish.
    if (codec === null && this.nothingWaiting()) {
      if (!this.connection.canSend || this.writeBacklog >= this.sendBufferLimit) return false;
      this.batcher.write(message.frames);
      return true;
    }
    if (!this.connection.canSend || this.closingQueued() || this.bufferedAmount >= this.sendBufferLimit) return false;
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

  sendPing(data?: Uint8Array): boolean {
    this.liveness?.pingSent();
    return this.connection.ping(data);
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

  /** Cuts the connection at once, without a closing handshake (the peer sees a reset). */
  terminate(): void {
    this.socket.destroy();
  }

  /** Pauses reading while the receiver cannot keep up; resumes when it can. */
  setReceiverPaused(paused: boolean): void {
    this.setReadPaused(PAUSED_RECEIVER, paused);
  }

  private setReadPaused(reason: number, paused: boolean): void {
    const before = this.pauseReasons;
    this.pauseReasons = paused ? before | reason : before & ~reason;
    if (this.finished) return;
    if (before === 0 && this.pauseReasons !== 0) this.socket.pause();
    else if (before !== 0 && this.pauseReasons === 0) this.socket.resume();
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

  /** @internal A failure on our side (compression broke): fail the connection with 1011. */
  failLocally(error: Error): void {
    this.lastError = error;
    this.lastErrorFromSocket = false;
    this.connection.fail(CloseCode.internalError, error.message, "internal");
  }

  // --- ConnectionEvents --------------------------------------------------------------------

  write(chunks: Buffer[]): void {
    this.batcher.write(chunks);
  }

  writeFrame(opcode: number, payload: Uint8Array | string, fin: boolean, rsv1: boolean, mask: Uint8Array | null): void {
    this.batcher.writeFrame(opcode, payload, fin, rsv1, mask);
  }

  /**
   * True when the peer is not reading what we send: the core then skips answering further
   * pings (RFC 6455 section 5.5.3 allows answering only the latest), so a ping flood from a
   * peer that never reads cannot grow our send buffer.
   */
  isWriteBacklogged(): boolean {
    return this.writeBacklog > this.sendBufferLimit;
  }

  message(opcode: typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary, data: Buffer, compressed: boolean): void {
    const delivery = this.delivery;
    if (delivery === null || delivery.isEmpty) {
      if (!compressed) {
        this.listener.message(opcode, data);
        return;
      }
      // Only a connection with a codec receives compressed messages (the core checks RSV1).
      this.delivery ??= new DeliveryQueue(this.codec!, this.messageLimit, this.listener, this, this.options.validateUtf8 !== false);
      this.delivery.message(opcode, data, true);
      return;
    }
    delivery.message(opcode, data, compressed);
  }

  ping(data: Buffer): void {
    if (this.delivery !== null && !this.delivery.isEmpty) this.delivery.control("ping", data);
    else this.listener.ping(data);
  }

  pong(data: Buffer): void {
    this.liveness?.pongReceived();
    if (this.delivery !== null && !this.delivery.isEmpty) this.delivery.control("pong", data);
    else this.listener.pong(data);
  }

  /** Messages still being compressed go out before the reply to the peer's close frame. */
  holdCloseReply(code: number | undefined, reason: string): boolean {
    if (this.nothingWaiting()) return false;
    // A close of ours already waiting in the queue will be the reply.
    if (!this.closingQueued()) this.sendQueue!.close(code, reason);
    this.armCloseTimer();
    return true;
  }

  closeReceived(code: number, reason: string): void {
    if (this.delivery !== null && !this.delivery.isEmpty) this.delivery.closeReceived(code, reason);
    else this.listener.closeReceived(code, reason);
  }

  closeHandshakeComplete(): void {
    this.clearCloseTimer();
    if (this.options.role === "server") {
      // The server closes the TCP connection first (section 7.1.1) ...
      this.endAfterFlush();
    } else {
      // ... and the client waits for it, for a while (section 7.1.1).
      this.armCloseTimer();
    }
  }

  /**
   * The peer outran the rate limit: stop reading until the budget has refilled ("pause"), or
   * for good ("close": the 1008 is on its way, and reading the rest of a flood only to drop it
   * would cost what the limit saves; the close timer cuts the connection).
   */
  rateLimitExceeded(action: "pause" | "close", waitMs: number): void {
    this.setReadPaused(PAUSED_RATE, true);
    if (action === "pause") {
      if (this.rateTimer) clearTimeout(this.rateTimer);
      this.rateTimer = setTimeout(resumeAfterRateLimit, waitMs, this);
      this.rateTimer.unref();
    }
    this.options.onRateLimited?.(action);
  }

  /** @internal */
  rateBudgetRefilled(): void {
    this.rateTimer = null;
    if (this.socketClosed) return;
    const held = this.batcher.hold();
    try {
      this.connection.resumeAfterRateLimit();
    } finally {
      if (held) this.batcher.release();
    }
    // Parsing the input held meanwhile may have run out of budget again (a new timer).
    if (this.rateTimer === null) this.setReadPaused(PAUSED_RATE, false);
  }

  failed(code: number, message: string, violation: ProtocolViolation, value?: number): void {
    if (this.lastError === null) {
      this.lastError = new WebSocketProtocolError(`Connection failed with ${code}: ${message}`, code, violation, value);
    }
    this.listener.failedNow?.(this.lastError);
    this.delivery?.abandon();
    this.endAfterFlush();
  }

  // --- receiving ---------------------------------------------------------------------------

  /** @internal */
  pauseForInflate(paused: boolean): void {
    this.setReadPaused(PAUSED_INFLATING, paused);
  }

  /** @internal */
  deliveryDrained(): void {
    if (this.socketClosed) this.finish();
  }

  /** @internal */
  onData(chunk: Buffer): void {
    this.receivedSinceTick = true;
    const held = this.batcher.hold();
    try {
      this.connection.receive(chunk);
    } finally {
      if (held) this.batcher.release();
    }
  }

  /** @internal */
  onEnd(): void {
    // The peer closed its sending side. After the closing handshake this is the expected end;
    // otherwise the connection is simply gone (1006 will be reported on close). What was
    // written before goes out first.
    this.batcher.flush();
    this.socket.end();
  }

  /** @internal */
  onSocketError(error: Error): void {
    if (this.lastError !== null) return;
    this.lastError = error;
    this.lastErrorFromSocket = true;
  }

  /** @internal */
  onDrain(): void {
    if (this.bufferedAmount === 0) this.listener.drain();
  }

  /** @internal */
  onSocketClose(): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    this.clearCloseTimer();
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.liveness?.stop();
    this.connection.transportClosed();
    // Write callbacks learn that their data is lost, in send order, before the end is reported.
    this.batcher.flush();
    this.sendQueue?.abandon();
    // Messages that arrived before the end may still be inflating (the peer's close frame and
    // FIN often come in the same read): deliver them first; the delivery queue then finishes.
    if (this.delivery === null || !this.delivery.delivering) this.finish();
  }

  /** Reports the end to the listener, once every message received before it was delivered. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.codec?.close();
    this.delivery?.abandon();
    const connection = this.connection;
    if (this.lastError) this.listener.error(this.lastError, this.lastErrorFromSocket);
    const peer = connection.receivedClose;
    if (connection.closedCleanly && peer) {
      this.listener.closed(peer.code, peer.reason, true);
    } else {
      // RFC 6455 section 7.1.5: without a close frame the close code is 1006.
      this.listener.closed(CloseCode.abnormalClosure, "", false);
    }
  }

  // --- TCP teardown and timers -------------------------------------------------------------

  /** Sends FIN once queued bytes are out, and cuts the connection if the peer lingers. */
  private endAfterFlush(): void {
    this.batcher.flush();
    this.socket.end();
    this.armCloseTimer();
  }

  private armCloseTimer(): void {
    if (this.closeTimer || this.socketClosed) return;
    this.closeTimer = setTimeout(() => {
      this.closeTimer = null;
      this.socket.destroy();
    }, this.options.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private clearCloseTimer(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
  }

  /** @internal The keepalive check found the peer gone. */
  declareDead(error: Error): void {
    if (this.lastError === null) this.lastError = error;
    this.socket.destroy();
  }
}

/** One timer callback for every transport (no closure per pause). */
function resumeAfterRateLimit(transport: SocketTransport): void {
  transport.rateBudgetRefilled();
}
