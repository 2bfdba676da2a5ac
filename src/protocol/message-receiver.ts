import type { Buffer } from "node:buffer";
import { CloseCode } from "./close.js";
import type { FrameHeader } from "./frame.js";
import type { ConnectionEvents, ConnectionLimits, ConnectionOptions } from "./connection-types.js";
import { WebSocketOpcode } from "./opcodes.js";
import { FrameParser, type FrameSink, type ParserOptions } from "./parser.js";
import { MessageBuffer } from "./message-buffer.js";
import { RateBudget } from "./rate-budget.js";
import { isValidUtf8, Utf8Validator } from "./utf8.js";
import type { ProtocolViolation } from "./violations.js";

/** Why the parser holds its input: a compressed message inflating, the rate budget refilling. */
const HELD_FOR_INFLATE = 1;
const HELD_FOR_RATE = 2;

type DataOpcode = typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary;

const NO_FRAGMENT_ENDS: number[] = [];

/**
 * The receiving half of a protocol `Connection`: turns the parser's data frames into whole
 * messages. It checks each frame (reserved bits, opcode order, size limits, UTF-8), joins
 * fragments (RFC 6455 section 5.4), spends the rate budget, and holds the input while a
 * compressed message inflates (RFC 7692 section 6.2) or the budget refills. `Connection`
 * extends it with control frames, the closing handshake and sending: one object, so that the
 * parser's calls reach these methods directly.
 */
export abstract class MessageReceiver implements FrameSink {
  protected readonly parser: FrameParser;
  private maxMessageBytes: number;
  private maxCompressedMessageBytes: number;
  private readonly parserOptions: ParserOptions;
  private readonly compression: boolean;
  private readonly validateUtf8: boolean;

  /** The message being reassembled: 0 when none is in progress. */
  private messageOpcode: 0 | DataOpcode = 0;
  private messageCompressed = false;
  /** The message being reassembled is text to validate as it arrives. */
  private messageCheckedUtf8 = false;
  private readonly messageData = new MessageBuffer();
  private frameFin = false;
  private readonly utf8 = new Utf8Validator();

  /** The transport closed while input was held: stop once it has been parsed. */
  private stopAfterHeldInput = false;
  /** Where each fragment of the message being received ended, while recording (see `recordFragments`). */
  private fragmentEnds: number[] | null = null;
  /** HELD_FOR_* bits: the parser resumes when none is left. */
  private holds = 0;
  protected readonly budget: RateBudget | null;
  private readonly clock: (() => number) | null;
  /** A whole frame that ran out the rate budget: delivered once the budget has refilled. */
  private rateHeldMessage: { opcode: DataOpcode; payload: Buffer; compressed: boolean } | null = null;

  constructor(
    options: ConnectionOptions,
    protected readonly events: ConnectionEvents,
  ) {
    this.maxMessageBytes = options.maxMessageBytes;
    this.maxCompressedMessageBytes = options.maxCompressedMessageBytes ?? options.maxMessageBytes;
    this.compression = options.compression ?? false;
    this.validateUtf8 = options.validateUtf8 ?? true;
    if (options.rateLimit && !options.clock) throw new TypeError("A connection with a rateLimit needs a clock.");
    this.clock = options.clock ?? null;
    this.budget = options.rateLimit ? new RateBudget(options.rateLimit, options.clock!()) : null;
    this.parserOptions = {
      expectMasked: options.role === "server",
      maxFrameBytes: options.maxFrameBytes ?? options.maxMessageBytes,
    };
    this.parser = new FrameParser(this, this.parserOptions);
  }

  /** A ping, pong or close frame: the connection answers those (see `Connection`). */
  abstract controlFrame(header: FrameHeader, payload: Buffer): boolean;

  /** Fails the connection for a violation (RFC 6455 section 7.1.7; see `Connection.fail`). */
  abstract fail(code: number, message: string, violation: ProtocolViolation, value?: number): void;

  /** Changes the size limits from the next frame on (a program tightening them for a client, say). */
  setLimits(limits: ConnectionLimits): void {
    this.maxMessageBytes = limits.maxMessageBytes;
    this.maxCompressedMessageBytes = limits.maxCompressedMessageBytes;
    this.parserOptions.maxFrameBytes = limits.maxFrameBytes;
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

  // --- data frames -------------------------------------------------------------------------

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
      if (this.messageOpcode !== 0) return this.failNewMessageInside(opcode);
      if (header.rsv1 && !this.compression) return this.failUnexpectedRsv1();
      this.messageOpcode = opcode as DataOpcode;
      this.messageCompressed = header.rsv1;
      this.messageCheckedUtf8 = opcode === WebSocketOpcode.text && !header.rsv1 && this.validateUtf8;
      this.messageData.clear();
      this.utf8.reset();
    }
    // Refuse as soon as the header shows the message will not fit, before its payload arrives.
    const limit = this.messageCompressed ? this.maxCompressedMessageBytes : this.maxMessageBytes;
    if (this.messageData.length + header.payloadLength > limit) return this.failTooBig(limit);
    if (this.budget !== null && !this.spend(this.budget, header.payloadLength)) return false;
    this.frameFin = header.fin;
    return true;
  }

  dataPayload(chunk: Buffer): boolean {
    if (this.messageCheckedUtf8 && !this.utf8.push(chunk)) return this.failInvalidUtf8();
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
    if (this.messageOpcode !== 0) return this.failNewMessageInside(opcode);
    if (rsv1 && !this.compression) return this.failUnexpectedRsv1();
    const limit = rsv1 ? this.maxCompressedMessageBytes : this.maxMessageBytes;
    if (payload.length > limit) return this.failTooBig(limit);
    if (this.budget !== null && !this.spend(this.budget, payload.length)) return false;
    if (opcode === WebSocketOpcode.text && !rsv1 && !ascii && this.validateUtf8 && !isValidUtf8(payload)) return this.failInvalidUtf8();
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

  parseError(closeCode: number, message: string, violation: ProtocolViolation, value?: number): void {
    this.failFromPeer(closeCode, message, violation, value);
  }

  // --- failing for what the peer sent (each rule checked by both data frame paths) ----------

  protected failFromPeer(code: number, message: string, violation: ProtocolViolation, value?: number): false {
    this.fail(code, message, violation, value);
    return false;
  }

  private failNewMessageInside(opcode: number): false {
    return this.failFromPeer(CloseCode.protocolError, "new message started inside a fragmented message", "invalid-opcode", opcode);
  }

  private failUnexpectedRsv1(): false {
    return this.failFromPeer(CloseCode.protocolError, "reserved bit RSV1 set without an extension", "unexpected-rsv1");
  }

  private failTooBig(limit: number): false {
    return this.failFromPeer(CloseCode.messageTooBig, `message exceeds the limit of ${limit} bytes`, "message-too-big");
  }

  private failInvalidUtf8(): false {
    return this.failFromPeer(CloseCode.invalidPayload, "text message is not valid UTF-8", "invalid-utf8");
  }

  // --- the rate budget and held input -------------------------------------------------------

  /** Spends a frame's message and bytes: integer arithmetic, the clock only when the budget runs out. */
  protected spend(budget: RateBudget, bytes: number): boolean {
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
    if (this.stopAfterHeldInput && !this.parser.isPaused) this.stopReceiving();
  }

  // --- stopping ----------------------------------------------------------------------------

  /** Nothing more is parsed, and the message being reassembled is dropped. */
  protected stopReceiving(): void {
    this.parser.stop();
    this.rateHeldMessage = null;
    this.messageData.clear();
    this.messageOpcode = 0;
  }

  /** The transport has closed: stop receiving, or once the held input has been parsed. */
  protected inputEnded(): void {
    // Input held behind a compressed message (a close frame, typically) arrived before the
    // end and still counts: it is parsed when the layer above resumes. Input held for the
    // rate limit is dropped: nothing will resume it.
    if (this.parser.isPaused && (this.holds & HELD_FOR_RATE) === 0) {
      this.stopAfterHeldInput = true;
      return;
    }
    this.stopReceiving();
  }
}
