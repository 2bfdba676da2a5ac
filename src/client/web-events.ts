/** The dictionary `new CloseEvent(type, init)` takes (WHATWG WebSockets). */
export interface CloseEventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/**
 * The browser's `CloseEvent` (Node 20 has no global one): `code`, `reason` and `wasClean` of a
 * closed WebSocket.
 */
export class CloseEvent extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean);
    this.#code = toUnsignedShort(init.code ?? 0);
    this.#reason = init.reason === undefined ? "" : String(init.reason);
  }

  /** True when the closing handshake completed (close frames went both ways). */
  get wasClean(): boolean {
    return this.#wasClean;
  }

  /** The close code the server sent; 1005 when its close frame had none; 1006 when there was none. */
  get code(): number {
    return this.#code;
  }

  /** The reason the server sent with its close code ("" for none). */
  get reason(): string {
    return this.#reason;
  }

  get [Symbol.toStringTag](): string {
    return "CloseEvent";
  }
}

/** WebIDL `unsigned short` conversion: modulo 2^16, NaN and infinities become 0. */
function toUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const integer = Math.trunc(number);
  return ((integer % 65536) + 65536) % 65536;
}

/**
 * WebIDL `[Clamp] unsigned short` as Chromium converts it: NaN becomes 0, the value is clamped
 * to 0..65535 and the fraction dropped (the WebIDL text rounds half to even; Chromium
 * truncates, and hawser follows the browser: close(4999.9) closes with 4999).
 */
export function clampUnsignedShort(value: unknown): number {
  const number = +(value as number);
  if (Number.isNaN(number)) return 0;
  return Math.floor(Math.min(Math.max(number, 0), 65535));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** WebIDL `USVString`: lone surrogates become U+FFFD. */
export function toUsvString(value: unknown): string {
  return String(value).replace(LONE_SURROGATE, "\uFFFD");
}
