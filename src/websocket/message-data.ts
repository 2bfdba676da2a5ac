import { Buffer } from "node:buffer";
import { isValidUtf8 } from "../protocol/utf8.js";

/** What `send()` and `publish()` take. */
export type WebSocketData = string | Uint8Array | ArrayBuffer;

/** Options of `send()` and `publish()`. */
export interface SendOptions {
  /**
   * Send as a binary message (true) or a text message (false). The default follows the data:
   * a string is text, bytes are binary. Bytes sent as text must be valid UTF-8; forwarding a
   * received text message's `rawData` this way skips decoding and re-encoding it.
   */
  binary?: boolean;
}

/** The bytes of `data` (a string's UTF-8), without copying a Buffer or a Uint8Array. */
export function bytesOf(data: WebSocketData, caller: string): Buffer {
  if (typeof data === "string") return Buffer.from(data);
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw new TypeError(`${caller}() takes a string, a Uint8Array (Buffer) or an ArrayBuffer.`);
}

/**
 * The received text message whose handlers are running now: its bytes were validated on
 * arrival, so forwarding them as text (an echo, a relay, a publish) needs no second check.
 * Only the very buffer being delivered counts, and only until its handlers return.
 */
let deliveredText: Buffer | null = null;

/** Marks `bytes` as the validated text being delivered (null when delivery ends). @internal */
export function setDeliveredText(bytes: Buffer | null): void {
  deliveredText = bytes;
}

/** Checks bytes about to go out as a text message (RFC 6455 section 5.6: UTF-8, or the peer fails with 1007). */
export function requireUtf8(bytes: Buffer, caller: string): Buffer {
  if (bytes !== deliveredText && !isValidUtf8(bytes)) {
    throw new TypeError(`${caller}(..., { binary: false }): the bytes are not valid UTF-8 text.`);
  }
  return bytes;
}
