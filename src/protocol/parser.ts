import { Buffer } from "node:buffer";
import { MAX_CONTROL_PAYLOAD, type FrameHeader } from "./frame.js";
import { applyMask, copyMasked, SHORT_UNMASK_LIMIT, unmaskShortInPlace } from "./mask.js";
import { isControlOpcode, isKnownOpcode } from "./opcodes.js";
import { appended, sharedEmpty } from "./empty.js";
import { CloseCode } from "./close.js";
import type { ProtocolViolation } from "./violations.js";

/** What the parser reports. Data payloads come in pieces as they arrive; control payloads whole. */
export interface FrameSink {
  /** A data frame header. Return false to stop parsing (the sink has failed the connection). */
  dataFrameStart(header: FrameHeader): boolean;
  /** Unmasked payload bytes of the current data frame. Return false to stop parsing. */
  dataPayload(chunk: Buffer): boolean;
  /** The current data frame is complete. Return false to stop parsing. */
  dataFrameEnd(): boolean;
  /**
   * A whole unfragmented data frame (FIN set, RSV2 and RSV3 clear, text or binary) that
   * arrived complete in one chunk, its payload unmasked: the common small message, reported
   * in one call instead of start, payload and end. `ascii` is true when the payload is known
   * to be all ASCII (so valid UTF-8); false means unknown. Return false to stop parsing.
   */
  wholeDataFrame(opcode: number, rsv1: boolean, payload: Buffer, ascii: boolean): boolean;
  /** A complete control frame. Return false to stop parsing. */
  controlFrame(header: FrameHeader, payload: Buffer): boolean;
  /** A frame-level protocol violation; parsing has stopped for good. `value` is the opcode or length at fault. */
  parseError(closeCode: number, message: string, violation: ProtocolViolation, value?: number): void;
}

export interface ParserOptions {
  /** Servers require masked frames, clients require unmasked ones (RFC 6455 section 5.1). */
  expectMasked: boolean;
  /** A frame longer than this fails the connection with 1009 before its payload is read. */
  maxFrameBytes: number;
}

/** Masked data frames from this size on are unmasked into one buffer as they arrive. */
const ASSEMBLE_FROM = 256 * 1024;

const enum State {
  Header,
  Payload,
  Stopped,
}

/**
 * Incremental frame parser (RFC 6455 section 5.2): accepts input split at any byte.
 * It checks the rules that one frame header decides (reserved opcodes, control frame size
 * and fragmentation, masking, length encoding); message-level rules belong to the connection.
 */
export class FrameParser {
  private state = State.Header;
  /** Holds a header that arrived split across chunks (at most 14 bytes); allocated on first need. */
  private headerScratchBytes: Uint8Array | null = null;
  private headerHave = 0;
  private header: FrameHeader | null = null;
  /** The current frame's masking key (see `beginFrame`); allocated on first need. */
  private maskKey: Uint8Array | null = null;
  private payloadRemaining = 0;
  private payloadOffset = 0;
  /** The unmasked payload of a large data frame being received (see `unmask`). */
  private assembly: Buffer | null = null;
  /** Pieces of a control frame payload that arrived split. */
  private controlPieces: Buffer[] = sharedEmpty();
  private paused = false;
  /** A view of the chunk being parsed, for unmasking whole frames (see `deliverWholeFrame`). */
  private chunkView: DataView | null = null;
  /** Where the payload of the frame `wholeFrameEnd` last accepted starts. */
  private wholePayloadStart = 0;
  /** Input that arrived or was left over while paused, in order. */
  private heldInput: Buffer[] = sharedEmpty();

  constructor(
    private readonly sink: FrameSink,
    private readonly options: ParserOptions,
  ) {}

  private get headerScratch(): Uint8Array {
    return (this.headerScratchBytes ??= new Uint8Array(14));
  }

  /** Stops parsing; further input is ignored (after a close frame or a failure). */
  stop(): void {
    this.state = State.Stopped;
    this.controlPieces = sharedEmpty();
    this.assembly = null;
    this.heldInput = sharedEmpty();
  }

  get stopped(): boolean {
    return this.state === State.Stopped;
  }

  /** Feeds received bytes. The chunk may be unmasked in place. */
  push(chunk: Buffer): void {
    if (this.paused || this.heldInput.length > 0) {
      this.heldInput = appended(this.heldInput, chunk);
      return;
    }
    this.parse(chunk);
  }

  /**
   * Holds further input until `resume()`: the connection pauses after a compressed message,
   * so nothing behind it (a ping, say) is acted on before that message has been inflated
   * and found valid (RFC 7692 section 6.2).
   */
  pause(): void {
    this.paused = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Parses the input held while paused, until it pauses again. */
  resume(): void {
    this.paused = false;
    while (!this.paused && this.state !== State.Stopped && this.heldInput.length > 0) {
      this.parse(this.heldInput.shift()!);
    }
    if (this.heldInput.length === 0) this.heldInput = sharedEmpty();
  }

  private parse(chunk: Buffer): void {
    this.parseChunk(chunk);
    this.chunkView = null;
  }

  private parseChunk(chunk: Buffer): void {
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      if (this.paused) {
        this.heldInput = [chunk.subarray(pos), ...this.heldInput]; // ahead of input held after it
        return;
      }
      if (this.state === State.Header) {
        if (this.headerHave === 0) {
          const end = this.wholeFrameEnd(chunk, pos);
          if (end > 0) {
            if (!this.deliverWholeFrame(chunk, pos, end)) return;
            pos = end;
            continue;
          }
        }
        pos = this.readHeader(chunk, pos);
      } else if (this.state === State.Payload) {
        const take = Math.min(this.payloadRemaining, length - pos);
        const piece = chunk.subarray(pos, pos + take);
        pos += take;
        if (!this.payloadPiece(piece)) return;
      } else {
        return;
      }
    }
  }

  /**
   * Where a whole data frame starting at chunk[pos] ends, when it qualifies for the one-call
   * path: complete in this chunk, FIN set, RSV2/RSV3 clear, text or binary, masked as
   * expected, a 7- or 16-bit length within the frame limit. 0 otherwise: the general path
   * then parses it and reports any violation.
   */
  private wholeFrameEnd(chunk: Buffer, pos: number): number {
    const available = chunk.length - pos;
    if (available < 2) return 0;
    const b0 = chunk[pos]!;
    const b1 = chunk[pos + 1]!;
    // 0xb0 keeps FIN, RSV2 and RSV3: FIN must be set and the other two clear.
    if ((b0 & 0xb0) !== 0x80) return 0;
    const opcode = b0 & 0x0f;
    if (opcode !== 0x1 && opcode !== 0x2) return 0;
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.options.expectMasked) return 0;
    let payloadLength = b1 & 0x7f;
    let headerSize = 2;
    if (payloadLength === 126) {
      if (available < 4) return 0;
      payloadLength = (chunk[pos + 2]! << 8) | chunk[pos + 3]!;
      headerSize = 4;
    } else if (payloadLength === 127) {
      return 0;
    }
    if (payloadLength > this.options.maxFrameBytes) return 0;
    if (masked) headerSize += 4;
    const size = headerSize + payloadLength;
    if (size > available) return 0;
    this.wholePayloadStart = pos + headerSize;
    return pos + size;
  }

  /** Unmasks and reports a frame `wholeFrameEnd` accepted. Returns false when parsing stopped. */
  private deliverWholeFrame(chunk: Buffer, pos: number, end: number): boolean {
    const b0 = chunk[pos]!;
    const start = this.wholePayloadStart;
    let ascii = false;
    const payload = chunk.subarray(start, end);
    if (this.options.expectMasked) {
      if (end - start < SHORT_UNMASK_LIMIT) {
        // One view per chunk, shared by its frames, dropped when the chunk is parsed.
        const view = (this.chunkView ??= new DataView(chunk.buffer, chunk.byteOffset, chunk.length));
        ascii = unmaskShortInPlace(view, start - 4, start, end);
      } else {
        const key = (this.maskKey ??= new Uint8Array(4));
        key[0] = chunk[start - 4]!;
        key[1] = chunk[start - 3]!;
        key[2] = chunk[start - 2]!;
        key[3] = chunk[start - 1]!;
        applyMask(payload, key, 0);
      }
    }
    const keepGoing = this.sink.wholeDataFrame(b0 & 0x0f, (b0 & 0x40) !== 0, payload, ascii);
    if (!keepGoing) this.stop();
    return keepGoing && this.state !== State.Stopped;
  }

  /** Parses a header starting at chunk[pos]; returns the new position. */
  private readHeader(chunk: Buffer, pos: number): number {
    let source: Uint8Array = chunk;
    let start = pos;
    const available = chunk.length - pos;
    if (this.headerHave > 0 || available < 2) {
      // Slow path: the header is split across chunks; gather it in the scratch buffer.
      for (;;) {
        const need = this.headerHave < 2 ? 2 : headerSizeAt(this.headerScratch, 0);
        if (this.headerHave >= need) break;
        if (pos >= chunk.length) return pos;
        const copy = Math.min(need - this.headerHave, chunk.length - pos);
        this.headerScratch.set(chunk.subarray(pos, pos + copy), this.headerHave);
        this.headerHave += copy;
        pos += copy;
      }
      source = this.headerScratch;
      start = 0;
      this.headerHave = 0;
    } else {
      const full = headerSizeAt(chunk, pos);
      if (available < full) {
        this.headerScratch.set(chunk.subarray(pos), 0);
        this.headerHave = available;
        return chunk.length;
      }
      pos += full;
    }
    this.beginFrame(source, start);
    return pos;
  }

  private beginFrame(bytes: Uint8Array, at: number): void {
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let payloadLength = b1 & 0x7f;
    let p = at + 2;
    if (payloadLength === 126) {
      payloadLength = (bytes[p]! << 8) | bytes[p + 1]!;
      p += 2;
      // The minimal encoding is required in spirit (section 5.2) but peers rarely violate it
      // and Autobahn does not test it; we accept non-minimal lengths.
    } else if (payloadLength === 127) {
      const high = ((bytes[p]! << 24) >>> 0) + (bytes[p + 1]! << 16) + (bytes[p + 2]! << 8) + bytes[p + 3]!;
      const low = ((bytes[p + 4]! << 24) >>> 0) + (bytes[p + 5]! << 16) + (bytes[p + 6]! << 8) + bytes[p + 7]!;
      p += 8;
      if (high >= 0x80000000) return this.fail(CloseCode.protocolError, "64-bit frame length with the most significant bit set", "frame-length-overflow");
      if (high >= 0x200000) return this.fail(CloseCode.messageTooBig, "frame length beyond 2^53 bytes", "frame-length-overflow");
      payloadLength = high * 0x100000000 + low;
    }
    let mask: Uint8Array | null = null;
    if (masked) {
      // One key array per parser, refilled for each frame: a frame's key is used only while
      // that frame is parsed, and a typed array per frame is a cost small messages notice.
      mask = this.maskKey ??= new Uint8Array(4);
      mask[0] = bytes[p]!;
      mask[1] = bytes[p + 1]!;
      mask[2] = bytes[p + 2]!;
      mask[3] = bytes[p + 3]!;
    }
    const header: FrameHeader = {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode,
      masked,
      payloadLength,
      mask,
    };
    if (!isKnownOpcode(opcode)) return this.fail(CloseCode.protocolError, `reserved opcode ${opcode}`, "invalid-opcode", opcode);
    if (masked !== this.options.expectMasked) {
      return this.options.expectMasked
        ? this.fail(CloseCode.protocolError, "unmasked frame from a client", "unmasked-frame")
        : this.fail(CloseCode.protocolError, "masked frame from a server", "masked-frame");
    }
    const control = isControlOpcode(opcode);
    if (control) {
      if (!header.fin) return this.fail(CloseCode.protocolError, "fragmented control frame", "fragmented-control");
      if (payloadLength > MAX_CONTROL_PAYLOAD) {
        return this.fail(CloseCode.protocolError, `control frame payload of ${payloadLength} bytes (at most 125)`, "control-payload-length", payloadLength);
      }
    } else if (payloadLength > this.options.maxFrameBytes) {
      return this.fail(CloseCode.messageTooBig, `frame of ${payloadLength} bytes exceeds the limit of ${this.options.maxFrameBytes}`, "message-too-big");
    }
    this.header = header;
    this.payloadRemaining = payloadLength;
    this.payloadOffset = 0;
    if (!control && !this.sink.dataFrameStart(header)) return this.stop();
    if (this.state === State.Stopped) return;
    this.state = State.Payload;
    if (payloadLength === 0) this.endFrame();
  }

  private payloadPiece(piece: Buffer): boolean {
    const header = this.header!;
    if (header.mask) piece = this.unmask(piece, header, header.mask);
    this.payloadOffset += piece.length;
    this.payloadRemaining -= piece.length;
    if (isControlOpcode(header.opcode)) {
      this.controlPieces = appended(this.controlPieces, piece);
    } else if (piece.length > 0 && !this.sink.dataPayload(piece)) {
      this.stop();
      return false;
    }
    if (this.payloadRemaining === 0) this.endFrame();
    return this.state !== State.Stopped;
  }

  /**
   * Unmasks a piece of payload. The pieces of a large data frame are unmasked straight into
   * one buffer for the frame, each while it is still in cache from the read, so the message
   * needs no second pass to be joined. The buffer is allocated (not filled) when the frame
   * starts; its pages become resident only as the peer's bytes arrive and are written.
   */
  private unmask(piece: Buffer, header: FrameHeader, mask: Uint8Array): Buffer {
    const offset = this.payloadOffset;
    if (header.payloadLength < ASSEMBLE_FROM || piece.length === header.payloadLength || header.rsv1 || isControlOpcode(header.opcode)) {
      applyMask(piece, mask, offset);
      return piece;
    }
    if (offset === 0) this.assembly = Buffer.allocUnsafe(header.payloadLength);
    const target = this.assembly!.subarray(offset, offset + piece.length);
    copyMasked(piece, target, mask, offset);
    if (offset + piece.length === header.payloadLength) this.assembly = null;
    return target;
  }

  private endFrame(): void {
    const header = this.header!;
    this.header = null;
    this.state = State.Header;
    let keepGoing: boolean;
    if (isControlOpcode(header.opcode)) {
      const pieces = this.controlPieces;
      this.controlPieces = sharedEmpty();
      const payload = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      keepGoing = this.sink.controlFrame(header, payload);
    } else {
      keepGoing = this.sink.dataFrameEnd();
    }
    if (!keepGoing) this.stop();
  }

  private fail(code: number, message: string, violation: ProtocolViolation, value?: number): void {
    this.stop();
    this.sink.parseError(code, message, violation, value);
  }
}

/** Header size from its first two bytes, at `bytes[at]`. */
function headerSizeAt(bytes: Uint8Array, at: number): number {
  const second = bytes[at + 1]!;
  const lengthCode = second & 0x7f;
  const lengthBytes = lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0;
  return 2 + lengthBytes + ((second & 0x80) !== 0 ? 4 : 0);
}
