import type { Buffer } from "node:buffer";
import { CloseCode, decodeClosePayload, encodeClosePayload, fitCloseReason } from "./close.js";
import { encodeFrame, encodeTextFrame, MAX_CONTROL_PAYLOAD, type FrameHeader } from "./frame.js";
import type { ConnectionEvents, ConnectionOptions } from "./connection-types.js";
import type { MaskSource } from "./mask.js";
import { MessageReceiver } from "./message-receiver.js";
import { ReadyState, WebSocketOpcode } from "./opcodes.js";
import type { ProtocolViolation } from "./violations.js";

export type { ConnectionEvents, ConnectionLimits, ConnectionOptions, Role } from "./connection-types.js";

/**
 * The RFC 6455 state machine, without I/O: bytes in through `receive`, events and bytes out
 * through `ConnectionEvents`. Server and client differ only in who masks (section 5.3). Data
 * frames become messages in `MessageReceiver`; here are the control frames, the closing
 * handshake, failing the connection, and sending.
 */
export class Connection extends MessageReceiver {
  private state: ReadyState = ReadyState.OPEN;
  private readonly maskSource: MaskSource | null;
  private readonly autoPong: boolean;
  /** The layer below encodes frames itself (`ConnectionEvents.writeFrame`). */
  private readonly framesToEvents: boolean;

  private closeFrameSent = false;
  private closeFrameReceived = false;
  private failure: { code: number; message: string; violation: ProtocolViolation } | null = null;
  private peerClose: { code: number; reason: string } | null = null;

  constructor(options: ConnectionOptions, events: ConnectionEvents) {
    if (options.role === "client" && !options.maskSource) {
      throw new TypeError("A client connection needs a maskSource: clients must mask every frame (RFC 6455 section 5.3).");
    }
    super(options, events);
    this.autoPong = options.autoPong ?? true;
    this.maskSource = options.role === "client" ? options.maskSource! : null;
    this.framesToEvents = typeof events.writeFrame === "function";
  }

  get readyState(): ReadyState {
    return this.state;
  }

  /** The peer's close code and reason, once its close frame has arrived. */
  get receivedClose(): { code: number; reason: string } | null {
    return this.peerClose;
  }

  /** The violation we failed the connection for, if any. */
  get failureReason(): { code: number; message: string; violation: ProtocolViolation } | null {
    return this.failure;
  }

  /** True when close frames went both ways and nothing was failed. */
  get closedCleanly(): boolean {
    return this.closeFrameSent && this.closeFrameReceived && this.failure === null;
  }

  // --- control frames ----------------------------------------------------------------------

  controlFrame(header: FrameHeader, payload: Buffer): boolean {
    if (header.rsv2 || header.rsv3) return this.failFromPeer(CloseCode.protocolError, "reserved bit set on a control frame", "reserved-bits");
    // RFC 7692 section 6: RSV1 has no meaning on control frames either.
    if (header.rsv1) return this.failFromPeer(CloseCode.protocolError, "RSV1 set on a control frame", "unexpected-rsv1");
    // Pings and pongs spend the rate budget like data frames; the close frame ends things anyway.
    if (this.budget !== null && header.opcode !== WebSocketOpcode.close && !this.spend(this.budget, payload.length)) return false;
    switch (header.opcode) {
      case WebSocketOpcode.ping:
        // Once our close frame is out we send nothing more (section 5.5.1), pongs included.
        // Section 5.5.3 allows answering only the latest of several pings, so a peer that
        // floods pings while not reading our pongs gets no more of them.
        if (this.autoPong && !this.closeFrameSent && !this.events.isWriteBacklogged?.()) this.writeFrame(WebSocketOpcode.pong, payload);
        this.events.ping(payload);
        return !this.parser.stopped;
      case WebSocketOpcode.pong:
        this.events.pong(payload);
        return !this.parser.stopped;
      default:
        return this.onCloseFrame(payload);
    }
  }

  private onCloseFrame(payload: Buffer): boolean {
    const decoded = decodeClosePayload(payload);
    if (!decoded.ok) return this.failFromPeer(decoded.failCode, decoded.message, decoded.violation, decoded.value);
    this.closeFrameReceived = true;
    this.peerClose = { code: decoded.code, reason: decoded.reason };
    // Nothing the peer sends after its close frame counts (section 5.5.1).
    this.stopReceiving();
    if (!this.closeFrameSent) {
      // Echo the status code we received (section 5.5.1), and its reason as browsers, ws and
      // python-websockets do; an empty close is answered with an empty one.
      const code = decoded.code === CloseCode.noStatusReceived ? undefined : decoded.code;
      const reason = code === undefined ? "" : decoded.reason;
      if (this.events.holdCloseReply?.(code, reason)) {
        // No new messages from here on; those already accepted go out before the reply.
        this.state = ReadyState.CLOSING;
        this.events.closeReceived(decoded.code, decoded.reason);
        return false;
      }
      this.writeClose(code, reason);
    }
    this.state = ReadyState.CLOSED;
    this.events.closeReceived(decoded.code, decoded.reason);
    this.events.closeHandshakeComplete();
    return false;
  }

  // --- sending -----------------------------------------------------------------------------

  /** True while messages may be sent: open, and no close frame sent yet. */
  get canSend(): boolean {
    return !this.closeFrameSent && this.state === ReadyState.OPEN;
  }

  /**
   * True while frames of messages already accepted may still be written: until our close frame
   * is out. It differs from `canSend` only while a reply to the peer's close waits for them.
   */
  get writable(): boolean {
    return !this.closeFrameSent && this.state !== ReadyState.CLOSED;
  }

  /** Sends a whole text message as one frame. Returns false once our close frame is out. */
  sendText(text: string): boolean {
    if (!this.writable) return false;
    this.emitFrame(WebSocketOpcode.text, text, true, false);
    return true;
  }

  /** Sends a whole binary message as one frame. */
  sendBinary(data: Uint8Array): boolean {
    return this.sendFrame(WebSocketOpcode.binary, data, true, false);
  }

  /**
   * Sends one data frame: the caller fragments a message with `fin` false on all frames but
   * the last and opcode `continuation` after the first, and sets `rsv1` on the first frame of
   * a compressed message.
   */
  sendFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean): boolean {
    if (!this.writable) return false;
    this.emitFrame(opcode, payload, fin, rsv1);
    return true;
  }

  ping(data: Uint8Array = EMPTY): boolean {
    return this.sendControl(WebSocketOpcode.ping, data);
  }

  pong(data: Uint8Array = EMPTY): boolean {
    return this.sendControl(WebSocketOpcode.pong, data);
  }

  private sendControl(opcode: number, data: Uint8Array): boolean {
    if (data.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(`Control frame payload is ${data.length} bytes; at most 125 are allowed (RFC 6455 section 5.5).`);
    }
    if (!this.canSend) return false;
    this.writeFrame(opcode, data);
    return true;
  }

  // --- closing -----------------------------------------------------------------------------

  /**
   * Starts the closing handshake (section 7.1.2). Throws on a code or reason that cannot be
   * sent; does nothing once a close frame has gone out.
   */
  close(code?: number, reason = ""): void {
    const payload = encodeClosePayload(code, reason);
    if (this.closeFrameSent || this.state === ReadyState.CLOSED) return;
    this.writeFrame(WebSocketOpcode.close, payload);
    this.closeFrameSent = true;
    this.state = ReadyState.CLOSING;
    if (this.closeFrameReceived) {
      // This was the held reply to the peer's close (see `holdCloseReply`).
      this.state = ReadyState.CLOSED;
      this.events.closeHandshakeComplete();
    }
  }

  /**
   * Fails the connection (section 7.1.7): sends a close frame with `code` unless one went out
   * already, stops reading, and tells the layer above to close the transport. Used for
   * violations found here and by the layers above (bad compressed data, limits).
   */
  fail(code: number, message: string, violation: ProtocolViolation, value?: number): void {
    if (this.failure || this.state === ReadyState.CLOSED) return;
    this.failure = { code, message, violation };
    this.stopReceiving();
    if (!this.closeFrameSent) this.writeClose(code, fitCloseReason(message));
    this.state = ReadyState.CLOSING;
    this.events.failed(code, message, violation, value);
  }

  /** The transport has closed: nothing more can be sent or received. */
  transportClosed(): void {
    this.state = ReadyState.CLOSED;
    this.inputEnded();
  }

  private writeClose(code: number | undefined, reason: string): void {
    this.writeFrame(WebSocketOpcode.close, encodeClosePayload(code, reason));
    this.closeFrameSent = true;
  }

  // --- frames out --------------------------------------------------------------------------

  private writeFrame(opcode: number, payload: Uint8Array): void {
    this.emitFrame(opcode, payload, true, false);
  }

  private emitFrame(opcode: number, payload: Uint8Array | string, fin: boolean, rsv1: boolean): void {
    const mask = this.nextMask();
    if (this.framesToEvents) this.events.writeFrame!(opcode, payload, fin, rsv1, mask);
    else this.events.write(typeof payload === "string" ? encodeTextFrame(payload, fin, mask) : encodeFrame(opcode, payload, fin, rsv1, mask));
  }

  private nextMask(): Uint8Array | null {
    return this.maskSource ? this.maskSource() : null;
  }
}

const EMPTY = new Uint8Array(0);
