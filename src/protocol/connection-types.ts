// The options, limits and events of a protocol connection (connection.ts), apart from the
// state machine itself.
import type { Buffer } from "node:buffer";
import type { MaskSource } from "./mask.js";
import type { RateLimit } from "./rate-budget.js";
import type { WebSocketOpcode } from "./opcodes.js";
import type { ProtocolViolation } from "./violations.js";

export type Role = "server" | "client";

/** The size limits of a connection, which may change while it is open (see `setLimits`). */
export interface ConnectionLimits {
  maxMessageBytes: number;
  maxCompressedMessageBytes: number;
  maxFrameBytes: number;
}

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
  /**
   * Answer every ping with a pong at once (section 5.5.2). Default true; false leaves the pong
   * to the layer above (the `ws` face's `autoPong: false`).
   */
  autoPong?: boolean;
  /**
   * Check that text messages are UTF-8 (section 8.1), failing with 1007 at the first bad byte.
   * Default true; false is for trusted peers only (the `ws` face's `skipUTF8Validation`).
   */
  validateUtf8?: boolean;
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
   * A frame to send, in order with `write`, given as its parts for the layer below to encode
   * (with `encodeFrameInto`) where it keeps outgoing bytes: that saves a buffer per frame.
   * Optional; without it the connection encodes frames itself and calls `write`.
   */
  writeFrame?(opcode: number, payload: Uint8Array | string, fin: boolean, rsv1: boolean, mask: Uint8Array | null): void;
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
  /**
   * We failed the connection for a protocol violation: the close frame with `code` has been
   * written. `violation` names what happened; `value` is the opcode, length or close code at fault.
   */
  failed(code: number, message: string, violation: ProtocolViolation, value?: number): void;
  /** True while the peer is not reading what we send; pings are then not answered (section 5.5.3). */
  isWriteBacklogged?(): boolean;
  /**
   * The peer's close frame arrived while messages we accepted are still on their way (being
   * compressed, say). Return true to send them first: the layer above then calls
   * `close(code, reason)` with these values, and the closing handshake completes then. Section
   * 5.5.1 lets an endpoint finish sending before it answers a close frame.
   */
  holdCloseReply?(code: number | undefined, reason: string): boolean;
  /**
   * The peer outran its `rateLimit`: with action "pause", parsing is held (call
   * `resumeAfterRateLimit()` in `waitMs`, and stop reading meanwhile); with "close", the
   * connection has been failed with 1008 and `failed` follows.
   */
  rateLimitExceeded?(action: RateLimit["action"], waitMs: number): void;
}
