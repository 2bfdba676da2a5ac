import { Buffer } from "node:buffer";
import { CloseCode, decodeClosePayload, encodeClosePayload } from "./close.js";
import { encodeFrame, encodeTextFrame, MAX_CONTROL_PAYLOAD, type FrameHeader } from "./frame.js";
import type { ConnectionEvents, ConnectionLimits, ConnectionOptions } from "./connection-types.js";
import type { MaskSource } from "./mask.js";
import { ReadyState, WebSocketOpcode } from "./opcodes.js";
import { FrameParser, type FrameSink, type ParserOptions } from "./parser.js";
import { MessageBuffer } from "./message-buffer.js";
import { RateBudget } from "./rate-budget.js";
import { isValidUtf8, Utf8Validator } from "./utf8.js";
import type { ProtocolViolation } from "./violations.js";

export type { ConnectionEvents, ConnectionLimits, ConnectionOptions, Role } from "./connection-types.js";

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
  private maxMessageBytes: number;
  private maxCompressedMessageBytes: number;
  private readonly parserOptions: ParserOptions;
  private readonly compression: boolean;
  private readonly maskSource: MaskSource | null;
  private readonly autoPong: boolean;
  private readonly validateUtf8: boolean;

  /** The message being reassembled: 0 when none is in progress. */
  private messageOpcode: 0 | DataOpcode = 0;
  private messageCompressed = false;
  /** The message being reassembled is text to validate as it arrives. */
  private messageCheckedUtf8 = false;
  private readonly messageData = new MessageBuffer();
  private frameFin = false;
  private readonly utf8 = new Utf8Validator();

  private closeFrameSent = false;
  private closeFrameReceived = false;
  private failure: { code: number; message: string; violation: ProtocolViolation } | null = null;
  private peerClose: { code: number; reason: string } | null = null;
  /** The transport closed while input was held: stop once it has been parsed. */
  private stopAfterHeldInput = false;
  /** The layer below encodes frames itself (`ConnectionEvents.writeFrame`). */
  private readonly framesToEvents: boolean;
  /** Where each fragment of the message being received ended, while recording (see `recordFragments`). */
  private fragmentEnds: number[] | null = null;
  /** HELD_FOR_* bits: the parser resumes when none is left. */
  private holds = 0;
  private readonly budget: RateBudget | null;
  private readonly clock: (() => number) | null;
  /** A whole frame that ran out the rate budget: delivered once the budget has refilled. */
  private rateHeldMessage: { opcode: DataOpcode; payload: Buffer; compressed: boolean } | null = null;

  constructor(
    options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.maxMessageBytes = options.maxMessageBytes;
    this.maxCompressedMessageBytes = options.maxCompressedMessageBytes ?? options.maxMessageBytes;
    this.compression = options.compression ?? false;
    this.autoPong = options.autoPong ?? true;
    this.validateUtf8 = options.validateUtf8 ?? true;
    if (options.role === "client" && !options.maskSource) {
      throw new TypeError("A client connection needs a maskSource: clients must mask every frame (RFC 6455 section 5.3).");
    }
    this.maskSource = options.role === "client" ? options.maskSource! : null;
    this.framesToEvents = typeof events.writeFrame === "function";
    if (options.rateLimit && !options.clock) throw new TypeError("A connection with a rateLimit needs a clock.");
    this.clock = options.clock ?? null;
    this.budget = options.rateLimit ? new RateBudget(options.rateLimit, options.clock!()) : null;
    this.parserOptions = {
      expectMasked: options.role === "server",
      maxFrameBytes: options.maxFrameBytes ?? options.maxMessageBytes,
    };
    this.parser = new FrameParser(this, this.parserOptions);
  }

  /** Changes the size limits from the next frame on (a program tightening them for a client, say). */
  setLimits(limits: ConnectionLimits): void {
    this.maxMessageBytes = limits.maxMessageBytes;
    this.maxCompressedMessageBytes = limits.maxCompressedMessageBytes;
    this.parserOptions.maxFrameBytes = limits.maxFrameBytes;
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

  /** True while a fragmented message is being received (bytes already held for it). */
  get bufferedMessageBytes(): number {
    return this.messageData.length;
  }

  /**
   * Starts (or stops) noting where the fragments of uncompressed messages end, for a layer that
   * hands messages out as their frames' payloads (the `ws` face's binaryType "fragments").
   */
  recordFragments(on: boolean): void {
    this.fragmentEnds = on ? (this.fragmentEnds ?? []) : null;
  }

  /**
   * The offsets at which the fragments of the last message ended, but for the last fragment,
   * while recording (empty for a message of one frame, or a compressed one); clears them. Call
   * it for every message delivered while recording.
   */
  takeFragmentEnds(): number[] {
    const ends = this.fragmentEnds;
    if (ends === null || ends.length === 0) return NO_FRAGMENT_ENDS;
    this.fragmentEnds = [];
    return ends;
  }

  // --- receiving ---------------------------------------------------------------------------

  /** Feeds bytes read from the transport. */
  receive(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  dataFrameStart(header: FrameHeader): boolean {
    if (header.rsv2 || header.rsv3) {
      return this.failFromPeer(CloseCode.protocolError, "reserved bit RSV2 or RSV3 set without an extension", "reserved-bits");
    }
    const opcode = header.opcode;
    if (opcode === WebSocketOpcode.continuation) {
      if (this.messageOpcode === 0) {
        return this.failFromPeer(CloseCode.protocolError, "continuation frame without a message to continue", "invalid-opcode", opcode);
      }
      if (header.rsv1) return this.failFromPeer(CloseCode.protocolError, "RSV1 set on a continuation frame", "unexpected-rsv1");
    } else {
      if (this.messageOpcode !== 0) {
        return this.failFromPeer(CloseCode.protocolError, "new message started inside a fragmented message", "invalid-opcode", opcode);
      }
      if (header.rsv1 && !this.compression) {
        return this.failFromPeer(CloseCode.protocolError, "reserved bit RSV1 set without an extension", "unexpected-rsv1");
      }
      this.messageOpcode = opcode as DataOpcode;
      this.messageCompressed = header.rsv1;
      this.messageCheckedUtf8 = opcode === WebSocketOpcode.text && !header.rsv1 && this.validateUtf8;
      this.messageData.clear();
      this.utf8.reset();
    }
    // Refuse as soon as the header shows the message will not fit, before its payload arrives.
    const limit = this.messageCompressed ? this.maxCompressedMessageBytes : this.maxMessageBytes;
    if (this.messageData.length + header.payloadLength > limit) {
      return this.failFromPeer(CloseCode.messageTooBig, `message exceeds the limit of ${limit} bytes`, "message-too-big");
    }
    if (this.budget !== null && !this.spend(this.budget, header.payloadLength)) return false;
    this.frameFin = header.fin;
    return true;
  }

  dataPayload(chunk: Buffer): boolean {
    if (this.messageCheckedUtf8 && !this.utf8.push(chunk)) {
      return this.failFromPeer(CloseCode.invalidPayload, "text message is not valid UTF-8", "invalid-utf8");
    }
    this.messageData.append(chunk);
    return true;
  }

  dataFrameEnd(): boolean {
    if (!this.frameFin) {
      if (this.fragmentEnds !== null && !this.messageCompressed) this.fragmentEnds.push(this.messageData.length);
      return true;
    }
    const opcode = this.messageOpcode as DataOpcode;
    const compressed = this.messageCompressed;
    if (this.messageCheckedUtf8 && !this.utf8.complete) {
      return this.failFromPeer(CloseCode.invalidPayload, "text message ends inside a UTF-8 sequence", "invalid-utf8");
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

  /** The one-call path for a whole small frame: the same rules as the three calls above. */
  wholeDataFrame(opcode: number, rsv1: boolean, payload: Buffer, ascii: boolean): boolean {
    if (this.messageOpcode !== 0) {
      return this.failFromPeer(CloseCode.protocolError, "new message started inside a fragmented message", "invalid-opcode", opcode);
    }
    if (rsv1 && !this.compression) return this.failFromPeer(CloseCode.protocolError, "reserved bit RSV1 set without an extension", "unexpected-rsv1");
    const limit = rsv1 ? this.maxCompressedMessageBytes : this.maxMessageBytes;
    if (payload.length > limit) return this.failFromPeer(CloseCode.messageTooBig, `message exceeds the limit of ${limit} bytes`, "message-too-big");
    if (this.budget !== null && !this.spend(this.budget, payload.length)) return false;
    if (opcode === WebSocketOpcode.text && !rsv1 && !ascii && this.validateUtf8 && !isValidUtf8(payload)) {
      return this.failFromPeer(CloseCode.invalidPayload, "text message is not valid UTF-8", "invalid-utf8");
    }
    // This frame ran the rate budget out: it waits for the refill, as the general path's would.
    if ((this.holds & HELD_FOR_RATE) !== 0) {
      this.rateHeldMessage = { opcode: opcode as DataOpcode, payload, compressed: rsv1 };
      return !this.parser.stopped;
    }
    return this.deliverWhole(opcode as DataOpcode, payload, rsv1);
  }

  private deliverWhole(opcode: DataOpcode, payload: Buffer, compressed: boolean): boolean {
    // As in dataFrameEnd: nothing behind a compressed message is parsed until it is inflated.
    if (compressed) this.hold(HELD_FOR_INFLATE);
    this.events.message(opcode, payload, compressed);
    return !this.parser.stopped;
  }

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

  parseError(closeCode: number, message: string, violation: ProtocolViolation, value?: number): void {
    this.failFromPeer(closeCode, message, violation, value);
  }

  private onCloseFrame(payload: Buffer): boolean {
    const decoded = decodeClosePayload(payload);
    if (!decoded.ok) return this.failFromPeer(decoded.failCode, decoded.message, decoded.violation, decoded.value);
    this.closeFrameReceived = true;
    this.peerClose = { code: decoded.code, reason: decoded.reason };
    // Nothing the peer sends after its close frame counts (section 5.5.1).
    this.parser.stop();
    this.dropPartialMessage();
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

  private failFromPeer(code: number, message: string, violation: ProtocolViolation, value?: number): false {
    this.fail(code, message, violation, value);
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
      this.failFromPeer(CloseCode.policyViolation, "message rate limit exceeded", "rate-limit");
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
    const waiting = this.rateHeldMessage;
    if (waiting !== null && (this.holds & HELD_FOR_RATE) === 0) {
      this.rateHeldMessage = null;
      if (!this.deliverWhole(waiting.opcode, waiting.payload, waiting.compressed)) return;
    }
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
    this.parser.stop();
    this.dropPartialMessage();
    if (!this.closeFrameSent) {
      this.writeFrame(WebSocketOpcode.close, encodeClosePayload(code, truncateReason(message)));
      this.closeFrameSent = true;
    }
    this.state = ReadyState.CLOSING;
    this.events.failed(code, message, violation, value);
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

  private dropPartialMessage(): void {
    this.rateHeldMessage = null;
    this.messageData.clear();
    this.messageOpcode = 0;
  }
}

const EMPTY = new Uint8Array(0);
const NO_FRAGMENT_ENDS: number[] = [];

/** Our close reasons are diagnostics; keep them within the 123 bytes a close frame allows. */
function truncateReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
