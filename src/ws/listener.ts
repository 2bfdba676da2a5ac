import { Buffer } from "node:buffer";
import { WebSocketOpcode } from "../protocol/opcodes.js";
import type { TransportListener } from "../transport/types.js";
import { EMPTY_BUFFER } from "./data.js";
import { toWsError } from "./errors.js";
import type { WebSocket } from "./websocket.js";

/**
 * What the transport reports to for a face socket: each report becomes the socket's event,
 * emitted at once. One small object per socket, its methods on the prototype.
 */
export class FaceListener implements TransportListener {
  constructor(protected readonly socket: WebSocket) {}

  /** True while events wait to be emitted (reading is paused meanwhile). */
  get holding(): boolean {
    return false;
  }

  message(opcode: number, data: Buffer): void {
    const socket = this.socket;
    if (socket._binaryType === "nodebuffer") socket.emit("message", data, opcode === WebSocketOpcode.binary);
    else socket._emitConverted(opcode, data);
  }

  ping(data: Buffer): void {
    this.socket.emit("ping", data);
  }

  pong(data: Buffer): void {
    this.socket.emit("pong", data);
  }

  closeReceived(code: number, reason: string): void {
    const socket = this.socket;
    socket._closeCode = code;
    socket._closeReason = reason === "" ? EMPTY_BUFFER : Buffer.from(reason);
  }

  /** A violation is reported as soon as it is found, as `ws` does, not when the connection is gone. */
  failedNow(error: Error): void {
    this.socket._emitError(toWsError(error));
  }

  error(error: Error, fromSocket: boolean): void {
    // A reset or the like ends in `close` (1006) alone, as with `ws`; what the peer got
    // wrong is reported as `ws` would report it (once: failedNow came first).
    if (!fromSocket) this.socket._emitError(toWsError(error));
  }

  // --- what `ws` programs read (and set) on `ws._receiver` -------------------------------------

  /** This connection's message limit (0: none); setting it applies from the next frame on. */
  get _maxPayload(): number {
    const limit = this.socket._transport!.maxMessageBytes;
    return Number.isFinite(limit) ? limit : 0;
  }
  set _maxPayload(bytes: number) {
    const limit = bytes | 0;
    this.socket._transport!.setMaxMessageBytes(limit > 0 ? limit : Number.POSITIVE_INFINITY);
  }

  get _maxFragments(): number {
    return this.socket._settings!.maxFragments;
  }

  get _maxBufferedChunks(): number {
    return this.socket._settings!.maxBufferedChunks;
  }

  /** The agreed extensions by name, each with the message limit it inflates to. */
  get _extensions(): Record<string, { readonly _maxPayload: number }> {
    return this.socket._codec === null ? {} : { "permessage-deflate": { _maxPayload: this._maxPayload } };
  }

  closed(code: number, _reason: string, wasClean: boolean): void {
    const socket = this.socket;
    socket._emitClose(code, wasClean ? socket._closeReason : EMPTY_BUFFER, wasClean);
  }

  drain(): void {}
}

/**
 * With `allowSynchronousEvents: false`: message, ping and pong events are emitted one per turn
 * of the event loop (each in its own setImmediate), and reading waits while any are held;
 * the end waits behind them, so the order never changes.
 */
class OnePerTurnListener extends FaceListener {
  private readonly held: Array<() => void> = [];

  override get holding(): boolean {
    return this.held.length > 0;
  }

  override message(opcode: number, data: Buffer): void {
    this.hold(() => super.message(opcode, data));
  }

  override ping(data: Buffer): void {
    this.hold(() => super.ping(data));
  }

  override pong(data: Buffer): void {
    this.hold(() => super.pong(data));
  }

  override failedNow(error: Error): void {
    if (this.held.length === 0) super.failedNow(error);
    else this.held.push(() => super.failedNow(error));
  }

  override error(error: Error, fromSocket: boolean): void {
    if (this.held.length === 0) super.error(error, fromSocket);
    else this.held.push(() => super.error(error, fromSocket));
  }

  override closed(code: number, reason: string, wasClean: boolean): void {
    if (this.held.length === 0) super.closed(code, reason, wasClean);
    else this.held.push(() => super.closed(code, reason, wasClean));
  }

  private hold(emit: () => void): void {
    this.held.push(emit);
    if (this.held.length === 1) {
      this.socket._applyPause();
      setImmediate(emitNext, this.held, this.socket);
    }
  }
}

function emitNext(held: Array<() => void>, socket: WebSocket): void {
  held.shift()!();
  if (held.length > 0) setImmediate(emitNext, held, socket);
  else socket._applyPause();
}

export function listenerFor(socket: WebSocket, allowSynchronousEvents: boolean): FaceListener {
  return allowSynchronousEvents ? new FaceListener(socket) : new OnePerTurnListener(socket);
}
