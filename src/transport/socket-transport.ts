import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { CloseCode, encodeClosePayload } from "../protocol/close.js";
import { Connection, type ConnectionEvents } from "../protocol/connection.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { PreparedMessage } from "./prepared-message.js";
import { joinKeepalive, leaveKeepalive, type KeepaliveMember } from "./keepalive-wheel.js";
import { listenToSocket, type SocketEventTarget } from "./socket-events.js";
import type { TransportListener, TransportOptions } from "./types.js";
import { connectionOptions, WebSocketProtocolError } from "./types.js";
import { WriteBatcher } from "./write-batcher.js";
import { payloadLength, SendQueue, type SendQueueSink } from "./send-queue.js";
import { DeliveryQueue, type DeliveryQueueOwner } from "./delivery-queue.js";

export { WebSocketProtocolError, type TransportLimits, type TransportListener, type TransportOptions } from "./types.js";

const DEFAULT_SEND_BUFFER_BYTES = 16 * 1024 * 1024;

const PAUSED_INFLATING = 1;
const PAUSED_RECEIVER = 2;
const PAUSED_RATE = 4;

/**
 * Binds a protocol `Connection` to a TCP (or TLS) socket: reading, batched writing, message
 * order around asynchronous compression, the closing handshake's TCP teardown (RFC 6455
 * section 7.1.1), close and keepalive timers, and backpressure figures.
 */
export class SocketTransport implements ConnectionEvents, KeepaliveMember, SocketEventTarget, SendQueueSink, DeliveryQueueOwner {
  readonly connection: Connection;
  private readonly batcher: WriteBatcher;
  private readonly codec: MessageCodec | null;
  /** Received events waiting behind a message being decompressed; made at the first one. */
  private delivery: DeliveryQueue | null = null;
  /** Messages waiting behind one being compressed; made when a message first has to wait. */
  private sendQueue: SendQueue | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Resumes reading once the rate budget has refilled (see `rateLimitExceeded`). */
  private rateTimer: NodeJS.Timeout | null = null;
  /** The keepalive wheel this transport ticks on (0: none). */
  private keepalivePeriod = 0;
  private receivedSinceTick = true;
  private pingOutstanding = false;
  private pingSentAt = 0;
  /** @internal The end was reported to the listener. */
  finished = false;
  /** The TCP connection has ended; `finished` follows once queued messages are delivered. */
  private socketClosed = false;
  private lastError: Error | null = null;
  /**
   * Why reading is paused: bit 1 while decompressing, bit 2 while the receiver's buffer is
   * full, bit 4 while the rate budget refills.
   */
  private pauseReasons = 0;
  private readonly sendBufferLimit: number;

  constructor(
    /** A TCP or TLS socket, or any duplex byte stream (an HTTP/2 stream, RFC 8441). */
    readonly socket: Duplex,
    private readonly options: TransportOptions,
    private readonly listener: TransportListener,
  ) {
    this.codec = options.codec ?? null;
    this.sendBufferLimit = options.maxSendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES;
    this.connection = new Connection(connectionOptions(options), this);
    this.batcher = new WriteBatcher(socket);
    // Frames are already batched per tick; Nagle's algorithm would only add latency.
    if (typeof (socket as Socket).setNoDelay === "function") (socket as Socket).setNoDelay(true);
    listenToSocket(socket, this);
    if (options.pingIntervalMs > 0) this.startKeepalive();
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

  /** Bytes framed but not yet taken by the operating system: in the socket or the batcher. */
  private get writeBacklog(): number {
    return this.socket.writableLength + this.batcher.bytes;
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

  sendPing(data?: Uint8Array): boolean {
    this.pingOutstanding = true;
    this.pingSentAt = Date.now();
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
    if (this.connection.canSend) this.batcher.write(frames);
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
    this.connection.fail(CloseCode.internalError, error.message);
  }

  // --- ConnectionEvents --------------------------------------------------------------------

  write(chunks: Buffer[]): void {
    this.batcher.write(chunks);
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
      (this.delivery ??= new DeliveryQueue(this.codec!, this.options.maxMessageBytes, this.listener, this)).message(opcode, data, true);
      return;
    }
    delivery.message(opcode, data, compressed);
  }

  ping(data: Buffer): void {
    if (this.delivery !== null && !this.delivery.isEmpty) this.delivery.control("ping", data);
    else this.listener.ping(data);
  }

  pong(data: Buffer): void {
    this.pingOutstanding = false;
    if (this.delivery !== null && !this.delivery.isEmpty) this.delivery.control("pong", data);
    else this.listener.pong(data);
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

  failed(code: number, message: string): void {
    this.lastError = this.lastError ?? new WebSocketProtocolError(`Connection failed with ${code}: ${message}`, code);
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
    this.lastError = this.lastError ?? error;
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
    this.stopKeepalive();
    this.connection.transportClosed();
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
    if (this.lastError) this.listener.error(this.lastError);
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

  private startKeepalive(): void {
    this.keepalivePeriod = Math.min(this.options.pingIntervalMs, this.options.pongTimeoutMs);
    joinKeepalive(this.keepalivePeriod, this);
  }

  private lastActivity = Date.now();

  /**
   * Sends a ping after `pingIntervalMs` without traffic from the peer, and declares the peer
   * dead when `pongTimeoutMs` pass after that ping with nothing received (a peer that vanished
   * without a FIN, RFC 6455 section 5.5.2's intended use of ping).
   * @internal
   */
  keepaliveTick(now: number): void {
    if (this.receivedSinceTick) {
      this.receivedSinceTick = false;
      this.lastActivity = now;
      this.pingOutstanding = false;
      return;
    }
    if (this.pingOutstanding) {
      if (now - this.pingSentAt >= this.options.pongTimeoutMs) {
        this.lastError = this.lastError ?? new Error(`No answer to a ping within ${this.options.pongTimeoutMs} ms: the peer is gone.`);
        this.socket.destroy();
      }
      return;
    }
    if (now - this.lastActivity >= this.options.pingIntervalMs && this.connection.canSend) {
      this.sendPing();
    }
  }

  private stopKeepalive(): void {
    if (this.keepalivePeriod > 0) leaveKeepalive(this.keepalivePeriod, this);
    this.keepalivePeriod = 0;
  }
}

/** One timer callback for every transport (no closure per pause). */
function resumeAfterRateLimit(transport: SocketTransport): void {
  transport.rateBudgetRefilled();
}
