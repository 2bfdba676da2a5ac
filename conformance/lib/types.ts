// Shared types of the conformance suite. A case is written once, role-neutral; the runner
// decides masking from the role it plays (RFC 6455 5.1: client frames masked, server frames not).

export type Verdict = 'OK' | 'NON-STRICT' | 'INFORMATIONAL' | 'FAILED';
export const VERDICTS: readonly Verdict[] = ['OK', 'NON-STRICT', 'INFORMATIONAL', 'FAILED'];

/** One frame to put on the wire. `rsv` is the 3-bit RSV field: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv?: number;
  /** Mask when the role must not, or leave unmasked when it must (RFC 6455 5.1 violation). */
  invertMask?: boolean;
}

/** Where to stop writing inside a `send`: after byte `payloadOffset` of frame `frame`'s payload
 *  (or after its header when payloadOffset is -1). The rest is kept for a fail-fast check. */
export interface StopPoint {
  frame: number;
  payloadOffset: number;
}

export interface WriteOptions {
  /** Split the bytes into writes of this many bytes (Autobahn's "chop"). */
  chop?: number;
  /** Pause between chopped writes, so the peer sees them as separate reads. */
  chopDelayMs?: number;
  /** Write each frame separately, pausing this long between them ("frame-wise"). */
  frameDelayMs?: number;
}

/** permessage-deflate parameters (RFC 7692 7.1). For a server under test they form the
 *  client's offer; for a client under test they shape the server's response. */
export interface DeflateParams {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  /** `true` = the parameter without a value (only meaningful in an offer). */
  clientMaxWindowBits?: number | true;
}

export type Step =
  | ({ op: 'send'; frames: FrameSpec[]; stopAfter?: StopPoint } & WriteOptions)
  | ({ op: 'sendMessage'; opcode: 1 | 2; payload: Buffer | string; fragmentSize?: number; compress?: boolean } & WriteOptions)
  | { op: 'sleep'; ms: number }
  /** Echo of a message. Echoes and pongs are independent streams (the RFC orders neither
   *  against the other), so each is checked in its own order. `optional`: the peer may close
   *  instead (it got our close right after the message, RFC 6455 5.5.1 lets it stop sending). */
  | { op: 'expectMessage'; opcode: 1 | 2; payload: Buffer | string; timeoutMs?: number; optional?: boolean }
  | { op: 'expectMessages'; messages: { opcode: 1 | 2; payload: Buffer | string }[]; timeoutMs?: number }
  | { op: 'expectPong'; payload: Buffer | string }
  /** Pongs for several pings: all in order is OK; RFC 6455 5.5.3 lets a peer answer only the
   *  latest of pings it had not yet answered, so an ordered subsequence ending in the last one is OK too. */
  | { op: 'expectPongs'; payloads: (Buffer | string)[] }
  /** We start the closing handshake (payload = code + reason, or raw bytes) and expect the reply. */
  /** Expect the peer's close in reply to a close frame we already sent with `send`. */
  | { op: 'expectClose'; echoCodes: (number | null)[] }
  | ({ op: 'close'; code?: number; reason?: Buffer | string; rawPayload?: Buffer; after?: FrameSpec[]; echoCodes?: (number | null)[] } & WriteOptions)
  /** The peer must _Fail the WebSocket Connection_ (RFC 6455 7.1.7) with one of `codes`. With
   *  `failFast`, bytes held back by a `send` with `stopAfter` are written only if the peer has
   *  not failed within `failFast` ms; failing after that is NON-STRICT. */
  | { op: 'expectFail'; codes: number[]; failFast?: number; timeoutMs?: number };

export interface Case {
  id: string;
  description: string;
  /** Built lazily: large payloads exist only while their case runs. */
  steps: () => Step[];
  /** Only in the slow tier (`--slow`). */
  slow?: boolean;
  /** Category 9: results are INFORMATIONAL (with timing) unless the echo is wrong. */
  informational?: boolean;
  /** Negotiate permessage-deflate with these parameters; not negotiating it fails the case. */
  deflate?: DeflateParams;
  /** Run alone (big payloads), not beside other cases. */
  exclusive?: boolean;
  /** Per-step timeout override for slow cases. */
  timeoutMs?: number;
}

export interface CaseResult {
  id: string;
  description: string;
  verdict: Verdict;
  reason: string;
  durationMs: number;
}
