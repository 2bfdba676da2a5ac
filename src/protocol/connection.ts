import { Buffer } from "node:buffer";
import { CloseCode, decodeClosePayload, encodeClosePayload } from "./close.js";
import { encodeFrame, encodeTextFrame, MAX_CONTROL_PAYLOAD, type FrameHeader } from "./frame.js";
import type { MaskSource } from "./mask.js";
import { ReadyState, WebSocketOpcode } from "./opcodes.js";
import { FrameParser, type FrameSink } from "./parser.js";
import { MessageBuffer } from "./message-buffer.js";
import { RateBudget, type RateLimit } from "./rate-budget.js";
import { Utf8Validator } from "./utf8.js";

export type Role = "server" | "client";

export interface ConnectionOptions {
  role: Role;
  /** Largest message accepted, in bytes (compressed size for compressed messages). Over it: 1009. */
  maxMessageBytes: number;
  /** Largest single frame accepted; defaults to maxMessageBytes. */
  maxFrameBytes?: number;
  /** permessage-deflate was negotiated: RSV1 on a message's first frame marks it compressed (RFC 7692 section 6). */
  compression?: boolean;
  /**
   * Largest compressed message accepted (default maxMessageBytes). Incompressible data grows
   * a little when deflated, so the layer that inflates sets this a bit above maxMessageBytes
   * and enforces the real limit on the inflated size.
   */
  maxCompressedMessageBytes?: number;
  /** Where a client gets its masking keys; required for role "client". */
  maskSource?: MaskSource;
  /** How fast the peer may send (see `RateLimit`); none when absent. */
  rateLimit?: RateLimit;
  /** Monotonic milliseconds, read only when the rate budget runs out. Required with `rateLimit`. */
  clock?: () => number;
}

/** What the connection tells the layer above. Everything arrives synchronously from the call that caused it. */
export interface ConnectionEvents {
  /** Bytes to send, in order. */
  write(chunks: Buffer[]): void;
  /**
   * A complete message. Uncompressed text has been validated as UTF-8; a compressed message
   * (RFC 7692) is handed over as received, to be inflated and validated by the caller.
   */
  message(opcode: typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary, data: Buffer, compressed: boolean): void;
  /** A ping arrived; the pong with the same payload has already been written (section 5.5.2). */
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  /** The peer's close frame arrived (and our answer, if we owed one, has been written). */
  closeReceived(code: number, reason: string): void;
  /**
   * Both close frames have been exchanged (section 7.1.1): the TCP connection should now be
   * closed; the server closes it first (section 7.1.1), a client waits for the server to.
   */
  closeHandshakeComplete(): void;
  /** We failed the connection for a protocol violation: the close frame with `code` has been written. */
  failed(code: number, message: string): void;
  /** True while the peer is not reading what we send; pings are then not answered (section 5.5.3). */
  isWriteBacklogged?(): boolean;
  /**
   * The peer outran its `rateLimit`: with action "pause", parsing is held (call
   * `resumeAfterRateLimit()` in `waitMs`, and stop reading meanwhile); with "close", the
   * connection has been failed with 1008 and `failed` follows.
   */
  rateLimitExceeded?(action: RateLimit["action"], waitMs: number): void;
}

/** Why the parser holds its input: a compressed message inflating, the rate budget refilling. */
const HELD_FOR_INFLATE = 1;
const HELD_FOR_RATE = 2;

type DataOpcode = typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary;

/**
 * The RFC 6455 state machine, without I/O: bytes in through `receive`, events and bytes out
 * through `ConnectionEvents`. Server and client differ only in who masks (section 5.3).
 */
export class Connection implements FrameSink {
  private state: ReadyState = ReadyState.OPEN;
  private readonly parser: FrameParser;
  private readonly maxMessageBytes: number;
  private readonly maxCompressedMessageBytes: number;
  private readonly compression: boolean;
  private readonly maskSource: MaskSource | null;

  /** The message being reassembled: 0 when none is in progress. */
  private messageOpcode: 0 | DataOpcode = 0;
  private messageCompressed = false;
  private readonly messageData = new MessageBuffer();
  private frameFin = false;
  private readonly utf8 = new Utf8Validator();

  private closeFrameSent = false;
  private closeFrameReceived = false;
  private failure: { code: number; message: string } | null = null;
  private peerClose: { code: number; reason: string } | null = null;
  /** The transport closed while input was held: stop once it has been parsed. */
  private stopAfterHeldInput = false;
  /** HELD_FOR_* bits: the parser resumes when none is left. */
  private holds = 0;
  private readonly budget: RateBudget | null;
  private readonly clock: (() => number) | null;

  constructor(
    options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.maxMessageBytes = options.maxMessageBytes;
    this.maxCompressedMessageBytes = options.maxCompressedMessageBytes ?? options.maxMessageBytes;
    this.compression = options.compression ?? false;
    if (options.role === "client" && !options.maskSource) {
      throw new TypeError("A client connection needs a maskSource: clients must mask every frame (RFC 6455 section 5.3).");
    }
    this.maskSource = options.role === "client" ? options.maskSource! : null;
    if (options.rateLimit && !options.clock) throw new TypeError("A connection with a rateLimit needs a clock.");
    this.clock = options.clock ?? null;
    this.budget = options.rateLimit ? new RateBudget(options.rateLimit, options.clock!()) : null;
    this.parser = new FrameParser(this, {
      expectMasked: options.role === "server",
      maxFrameBytes: options.maxFrameBytes ?? options.maxMessageBytes,
    });
  }

  get readyState(): ReadyState {
    return this.state;
  }

  /** The peer's close code and reason, once its close frame has arrived. */
  get receivedClose(): { code: number; reason: string } | null {
    return this.peerClose;
  }

  /** The violation we failed the connection for, if any. */
  get failureReason(): { code: number; message: string } | null {
    return this.failure;
  }

  /** True when close frames went both ways and nothing was failed. */
  get closedCleanly(): boolean {
    return this.closeFrameSent && this.closeFrameReceived && this.failure === null;
  }

  /** True while a fragmented message is being received (bytes already held for it). */
  get bufferedMessageBytes(): number {
    return this.messageData.length;
  }

  // --- receiving ---------------------------------------------------------------------------

  /** Feeds bytes read from the transport. */
  receive(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  dataFrameStart(header: FrameHeader): boolean {
    if (header.rsv2 || header.rsv3) return this.failFromPeer(CloseCode.protocolError, "reserved bit RSV2 or RSV3 set without an extension");
    const opcode = header.opcode;
    if (opcode === WebSocketOpcode.continuation) {
      if (this.messageOpcode === 0) return this.failFromPeer(CloseCode.protocolError, "continuation frame without a message to continue");
      if (header.rsv1) return this.failFromPeer(CloseCode.protocolError, "RSV1 set on a continuation frame");
    } else {
      if (this.messageOpcode !== 0) return this.failFromPeer(CloseCode.protocolError, "new message started inside a fragmented message");
      if (header.rsv1 && !this.compression) return this.failFromPeer(CloseCode.protocolError, "reserved bit RSV1 set without an extension");
      this.messageOpcode = opcode as DataOpcode;
      this.messageCompressed = header.rsv1;
      this.messageData.clear();
      this.utf8.reset();
    }
    // Refuse as soon as the header shows the message will not fit, before its payload arrives.
    const limit = this.messageCompressed ? this.maxCompressedMessageBytes : this.maxMessageBytes;
    if (this.messageData.length + header.payloadLength > limit) {
      return this.failFromPeer(CloseCode.messageTooBig, `message exceeds the limit of ${limit} bytes`);
    }
    if (this.budget !== null && !this.spend(this.budget, header.payloadLength)) return false;
    this.frameFin = header.fin;
    return true;
  }

  dataPayload(chunk: Buffer): boolean {
    if (this.messageOpcode === WebSocketOpcode.text && !this.messageCompressed && !this.utf8.push(chunk)) {
      return this.failFromPeer(CloseCode.invalidPayload, "text message is not valid UTF-8");
    }
    this.messageData.append(chunk);
    return true;
  }

  dataFrameEnd(): boolean {
    if (!this.frameFin) return true;
    const opcode = this.messageOpcode as DataOpcode;
    const compressed = this.messageCompressed;
    if (opcode === WebSocketOpcode.text && !compressed && !this.utf8.complete) {
      return this.failFromPeer(CloseCode.invalidPayload, "text message ends inside a UTF-8 sequence");
    }
    const data = this.messageData.take();
    this.messageOpcode = 0;
    this.messageCompressed = false;
    // Nothing behind a compressed message is acted on until the layer above has inflated it
    // and calls resumeReceiving(): if it turns out corrupt, the connection fails right there.
    if (compressed) this.hold(HELD_FOR_INFLATE);
    this.events.message(opcode, data, compressed);
    return !this.parser.stopped;
  }

  controlFrame(header: FrameHeader, payload: Buffer): boolean {
    if (header.rsv1 || header.rsv2 || header.rsv3) {
      // RFC 7692 section 6: RSV1 has no meaning on control frames either.
      return this.failFromPeer(CloseCode.protocolError, "reserved bit set on a control frame");
    }
    // Pings and pongs spend the rate budget like data frames; the close frame ends things anyway.
    if (this.budget !== null && header.opcode !== WebSocketOpcode.close && !this.spend(this.budget, payload.length)) return false;
    switch (header.opcode) {
      case WebSocketOpcode.ping:
        // Once our close frame is out we send nothing more (section 5.5.1), pongs included.
        // Section 5.5.3 allows answering only the latest of several pings, so a peer that
        // floods pings while not reading our pongs gets no more of them.
        if (!this.closeFrameSent && !this.events.isWriteBacklogged?.()) this.writeFrame(WebSocketOpcode.pong, payload);
        this.events.ping(payload);
        return !this.parser.stopped;
      case WebSocketOpcode.pong:
        this.events.pong(payload);
        return !this.parser.stopped;
      default:
        return this.onCloseFrame(payload);
    }
  }

  parseError(closeCode: number, message: string): void {
    this.failFromPeer(closeCode, message);
  }

  private onCloseFrame(payload: Buffer): boolean {
    const decoded = decodeClosePayload(payload);
    if (!decoded.ok) return this.failFromPeer(decoded.failCode, decoded.message);
    this.closeFrameReceived = true;
    this.peerClose = { code: decoded.code, reason: decoded.reason };
    // Nothing the peer sends after its close frame counts (section 5.5.1).
    this.parser.stop();
    this.dropPartialMessage();
    if (!this.closeFrameSent) {
      // Echo the status code we received (section 5.5.1), and its reason as browsers, ws and
      // python-websockets do; an empty close is answered with an empty one.
      const code = decoded.code === CloseCode.noStatusReceived ? undefined : decoded.code;
      this.writeClose(code, code === undefined ? "" : decoded.reason);
    }
    this.state = ReadyState.CLOSED;
    this.events.closeReceived(decoded.code, decoded.reason);
    this.events.closeHandshakeComplete();
    return false;
  }

  private failFromPeer(code: number, message: string): false {
    this.fail(code, message);
    return false;
  }

  /** Spends a frame's message and bytes: integer arithmetic, the clock only when the budget runs out. */
  private spend(budget: RateBudget, bytes: number): boolean {
    if ((--budget.messagesLeft < 0 || budget.bytesLeft < 0) && !this.budgetExhausted(budget)) return false;
    budget.bytesLeft -= bytes;
    return true;
  }

  /** The budget ran out: refill it from the clock, and if that is not enough, act. False: stop. */
  private budgetExhausted(budget: RateBudget): boolean {
    if ((this.holds & HELD_FOR_RATE) !== 0 || budget.refill(this.clock!())) return true;
    const action = budget.limit.action;
    if (action === "close") {
      this.failFromPeer(CloseCode.policyViolation, "message rate limit exceeded");
      this.events.rateLimitExceeded?.(action, 0);
      return false;
    }
    // Nothing more is parsed (this frame's payload included) until the budget has refilled.
    this.hold(HELD_FOR_RATE);
    this.events.rateLimitExceeded?.(action, budget.msUntilResume());
    return true;
  }

  /**
   * Continues after a pause for the rate limit, if the budget has refilled enough by now;
   * otherwise reports `rateLimitExceeded` again with the time left.
   */
  resumeAfterRateLimit(): void {
    const budget = this.budget;
    if (budget === null || (this.holds & HELD_FOR_RATE) === 0 || this.parser.stopped) return;
    budget.refill(this.clock!());
    const waitMs = budget.msUntilResume();
    if (waitMs > 0) {
      this.events.rateLimitExceeded?.("pause", waitMs);
      return;
    }
    this.release(HELD_FOR_RATE);
  }

  /** Continues parsing after a compressed message has been inflated and delivered. */
  resumeReceiving(): void {
    this.release(HELD_FOR_INFLATE);
  }

  private hold(reason: number): void {
    this.holds |= reason;
    this.parser.pause();
  }

  private release(reason: number): void {
    this.holds &= ~reason;
    if (this.holds !== 0) return;
    this.parser.resume();
    if (this.stopAfterHeldInput && !this.parser.isPaused) {
      this.parser.stop();
      this.dropPartialMessage();
    }
  }

  // --- sending -----------------------------------------------------------------------------

  /** True while messages may be sent: open, and no close frame sent yet. */
  get canSend(): boolean {
    return !this.closeFrameSent && this.state === ReadyState.OPEN;
  }

  /** Sends a whole text message as one frame. Returns false when the connection is closing. */
  sendText(text: string): boolean {
    if (!this.canSend) return false;
    this.events.write(encodeTextFrame(text, true, this.nextMask()));
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
    if (!this.canSend) return false;
    this.events.write(encodeFrame(opcode, payload, fin, rsv1, this.nextMask()));
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
  }

  /**
   * Fails the connection (section 7.1.7): sends a close frame with `code` unless one went out
   * already, stops reading, and tells the layer above to close the transport. Used for
   * violations found here and by the layers above (bad compressed data, limits).
   */
  fail(code: number, message: string): void {
    if (this.failure || this.state === ReadyState.CLOSED) return;
    this.failure = { code, message };
    this.parser.stop();
    this.dropPartialMessage();
    if (!this.closeFrameSent) {
      this.writeFrame(WebSocketOpcode.close, encodeClosePayload(code, truncateReason(message)));
      this.closeFrameSent = true;
    }
    this.state = ReadyState.CLOSING;
    this.events.failed(code, message);
  }

  /** The transport has closed: nothing more can be sent or received. */
  transportClosed(): void {
    this.state = ReadyState.CLOSED;
    // Input held behind a compressed message (a close frame, typically) arrived before the
    // end and still counts: it is parsed when the layer above resumes. Input held for the
    // rate limit is dropped: nothing will resume it.
    if (this.parser.isPaused && (this.holds & HELD_FOR_RATE) === 0) {
      this.stopAfterHeldInput = true;
      return;
    }
    this.parser.stop();
    this.dropPartialMessage();
  }

  private writeClose(code: number | undefined, reason: string): void {
    this.writeFrame(WebSocketOpcode.close, encodeClosePayload(code, reason));
    this.closeFrameSent = true;
  }

  private writeFrame(opcode: number, payload: Uint8Array): void {
    this.events.write(encodeFrame(opcode, payload, true, false, this.nextMask()));
  }

  private nextMask(): Uint8Array | null {
    return this.maskSource ? this.maskSource() : null;
  }

  private dropPartialMessage(): void {
    this.messageData.clear();
    this.messageOpcode = 0;
  }
}

const EMPTY = new Uint8Array(0);

/** Our close reasons are diagnostics; keep them within the 123 bytes a close frame allows. */
function truncateReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
