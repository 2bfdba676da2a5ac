import { Buffer } from "node:buffer";
import type { AnyBinaryType, RawData } from "./types.js";

export const EMPTY_BUFFER = Buffer.alloc(0);

export const BINARY_TYPES: readonly AnyBinaryType[] = ["nodebuffer", "arraybuffer", "fragments", "blob"];

/**
 * The bytes of what `send()`, `ping()` or `pong()` were given (not a string or a Blob): bytes
 * and views as they are (no copy), anything else through `Buffer.from`, whose TypeError says
 * what it could not take.
 */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === "string") return Buffer.from(data);
  return Buffer.from(data as Parameters<typeof Buffer.from>[0]);
}

/** What `send()` puts on the wire for `data` (not a Blob): a string as it is, anything else as bytes. */
export function payloadOf(data: unknown): Buffer | string {
  if (typeof data === "string") return data;
  return data ? toBuffer(data) : EMPTY_BUFFER;
}

export function isBlob(data: unknown): data is Blob {
  return typeof Blob !== "undefined" && data instanceof Blob;
}

/** A message's bytes as UTF-8 text, whichever shape `binaryType` gave them. */
export function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

/** The length in bytes of what would be sent, for `bufferedAmount`. */
export function byteLengthOf(data: unknown): number {
  if (typeof data === "string") return Buffer.byteLength(data);
  if (isBlob(data)) return data.size;
  return toBuffer(data).length;
}

/** A binary message as `binaryType` asks for it; `fragmentEnds` splits it into its frames' payloads. */
export function binaryAs(binaryType: AnyBinaryType, data: Buffer, fragmentEnds: readonly number[]): RawData | Blob {
  switch (binaryType) {
    case "arraybuffer":
      // A message that fills its own memory is handed out without a copy.
      if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    case "fragments": {
      if (fragmentEnds.length === 0) return [data];
      const fragments: Buffer[] = [];
      let start = 0;
      for (const end of fragmentEnds) {
        fragments.push(data.subarray(start, end));
        start = end;
      }
      fragments.push(data.subarray(start));
      return fragments;
    }
    case "blob":
      return new Blob([data]);
    default:
      return data;
  }
}
