/**
 * What a peer (or our own side) did that failed a connection, as a short stable name. The
 * close code and a message for people travel with it; the name is for layers that report
 * failures in their own terms (the `ws` face gives each its `ws` error code).
 */
export type ProtocolViolation =
  /** RSV2 or RSV3 set: no negotiated extension defines them (RFC 6455 section 5.2). */
  | "reserved-bits"
  /** RSV1 set without compression, or on a continuation or control frame (RFC 7692 section 6). */
  | "unexpected-rsv1"
  /** A reserved opcode, a continuation frame with no message to continue, or a new message inside one. */
  | "invalid-opcode"
  /** A client frame without a mask (section 5.1). */
  | "unmasked-frame"
  /** A server frame with a mask (section 5.1). */
  | "masked-frame"
  /** A control frame with FIN clear (section 5.5). */
  | "fragmented-control"
  /** A control frame longer than 125 bytes, or a close frame with a 1-byte payload (section 5.5). */
  | "control-payload-length"
  /** A close frame with a code that may not be sent (section 7.4). */
  | "invalid-close-code"
  /** Text or a close reason that is not UTF-8 (section 8.1). */
  | "invalid-utf8"
  /** A message or frame over the configured limit. */
  | "message-too-big"
  /** A 64-bit frame length with its top bit set, or beyond 2^53 bytes (section 5.2). */
  | "frame-length-overflow"
  /** Compressed data that does not inflate (RFC 7692 section 7.2.2). */
  | "invalid-compressed-data"
  /** The peer sent faster than its rate limit allows (close code 1008, policy violation). */
  | "rate-limit"
  /** Our own side failed (compressing a message broke). */
  | "internal";
