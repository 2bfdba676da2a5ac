import type { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { CloseCode } from "../protocol/close.js";
import { Connection, type ConnectionEvents } from "../protocol/connection.js";
import { ReadyState, type WebSocketOpcode } from "../protocol/opcodes.js";
import type { ProtocolViolation } from "../protocol/violations.js";
import { DeliveryQueue, type DeliveryQueueOwner } from "./delivery-queue.js";
import { PeerLiveness, type LivenessOwner } from "./peer-liveness.js";
import { PausedFor, ReadPause, type ReadPauseOwner } from "./read-pause.js";
import { listenToSocket, type SocketEventTarget } from "./socket-events.js";
import { TransportSender } from "./transport-sender.js";
import type { TransportListener, TransportOptions } from "./types.js";
import { connectionLimits, connectionOptions, WebSocketProtocolError } from "./types.js";

export { WebSocketProtocolError, type TransportLimits, type TransportListener, type TransportOptions } from "./types.js";
export type { WriteCallback } from "./write-batcher.js";

/**
 * Binds a protocol `Connection` to a TCP (or TLS) socket: reading, received events in order
 * around asynchronous decompression, pausing reads (backpressure, the rate limit), the closing
 * handshake's TCP teardown (RFC 6455 section 7.1.1), close and keepalive timers, and the end's
 * report. Sending, batched writing and the send buffer's figures are `TransportSender`'s.
 */
export class SocketTransport extends TransportSender implements ConnectionEvents, LivenessOwner, SocketEventTarget, DeliveryQueueOwner, ReadPauseOwner {
  readonly connection: Connection;
  /** Received events waiting behind a message being decompressed; made at the first one. */
  private delivery: DeliveryQueue | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Keepalive pings and the dead-peer check; null when keepalive is off. */
  private readonly liveness: PeerLiveness | null;
  /** @internal Set on every read, for the keepalive check. */
  receivedSinceTick = true;
  /** @internal The end was reported to the listener. */
  finished = false;
  /** The TCP connection has ended; `finished` follows once queued messages are delivered. */
  private socketClosed = false;
  private lastError: Error | null = null;
  /** `lastError` came from the socket (a reset, say), not from the protocol. */
  private lastErrorFromSocket = false;
  /** Why reading is paused, if it ever was (see `ReadPause`). */
  private readPause: ReadPause | null = null;
  /** The largest message accepted (inflated); see `setMaxMessageBytes`. */
  private messageLimit: number;

  constructor(
    socket: Duplex,
    private readonly options: TransportOptions,
    private readonly listener: TransportListener,
  ) {
    super(socket, options);
    this.messageLimit = options.maxMessageBytes;
    this.connection = new Connection(connectionOptions(options), this);
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

  /** The timer that cuts the connection if the closing handshake does not finish; null when none runs. @internal */
  get closeTimerHandle(): NodeJS.Timeout | null {
    return this.closeTimer;
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

  sendPing(data?: Uint8Array): boolean {
    this.liveness?.pingSent();
    return this.connection.ping(data);
  }

  /** Cuts the connection at once, without a closing handshake (the peer sees a reset). */
  terminate(): void {
    this.socket.destroy();
  }

  /** Pauses reading while the receiver cannot keep up; resumes when it can. */
  setReceiverPaused(paused: boolean): void {
    this.setReadPaused(PausedFor.receiver, paused);
  }

  private setReadPaused(reason: number, paused: boolean): void {
    // Nothing to resume from before the first pause.
    if (paused || this.readPause !== null) this.pauses().set(reason, paused);
  }

  private pauses(): ReadPause {
    return (this.readPause ??= new ReadPause(this));
  }

  /** @internal A failure on our side (compression broke): fail the connection with 1011. */
  failLocally(error: Error): void {
    this.lastError = error;
    this.lastErrorFromSocket = false;
    this.connection.fail(CloseCode.internalError, error.message, "internal");
  }

  // --- ConnectionEvents: what the peer sent ------------------------------------------------

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

  /** The peer outran the rate limit: reading pauses (see `ReadPause.rateLimited`). */
  rateLimitExceeded(action: "pause" | "close", waitMs: number): void {
    this.pauses().rateLimited(action, waitMs);
    this.options.onRateLimited?.(action);
  }

  /** @internal */
  parseAfterRateLimit(): boolean {
    if (this.socketClosed) return false;
    const held = this.batcher.hold();
    try {
      this.connection.resumeAfterRateLimit();
    } finally {
      if (held) this.batcher.release();
    }
    return true;
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
    this.setReadPaused(PausedFor.inflating, paused);
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
    this.readPause?.stop();
    this.liveness?.stop();
    this.connection.transportClosed();
    // Write callbacks learn that their data is lost, in send order, before the end is reported.
    this.batcher.flush();
    this.abandonQueuedSends();
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

  protected armCloseTimer(): void {
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
