import { Buffer } from "node:buffer";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import type { WriteCallback } from "../transport/socket-transport.js";
import { byteLengthOf, EMPTY_BUFFER, isBlob, payloadOf, toBuffer } from "./data.js";
import { notOpenMessage } from "./errors.js";
import { OrderedSends } from "./ordered-sends.js";
import { sendFromServer } from "./shared-frames.js";
import type { BufferLike, SendCallback, SendOptions } from "./types.js";
import type { WebSocket } from "./websocket.js";

/** A message of a fragmented send in progress: none, uncompressed, or compressed. */
export const Fragmenting = { None: 0, Plain: 1, Compressed: 2 } as const;
export type Fragmenting = (typeof Fragmenting)[keyof typeof Fragmenting];

const CONTROL_PAYLOAD_MAX_BYTES = 125;

/**
 * Sends a message, or one fragment of it, that is not a Blob (the socket is open). A whole
 * message goes through the transport's `send` (compressed as the extension decides); one sent
 * in pieces, or with `compress: false`, frame by frame.
 */
export function transmit(socket: WebSocket, payload: Buffer | string, binary: boolean, compress: boolean, fin: boolean, cb: SendCallback | undefined): void {
  const transport = socket._transport!;
  const codec = socket._codec;
  let sent: boolean;
  if (socket._fragmenting === Fragmenting.None && fin && (compress || codec === null)) {
    // A string sent as binary goes as its UTF-8 bytes.
    if (binary && typeof payload === "string") payload = Buffer.from(payload);
    const opcode = binary ? WebSocketOpcode.binary : WebSocketOpcode.text;
    sent = socket._isServer ? sendFromServer(transport, opcode, payload) : transport.send(opcode, payload);
  } else {
    const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
    let opcode: number;
    let compressed: boolean;
    if (socket._fragmenting === Fragmenting.None) {
      opcode = binary ? WebSocketOpcode.binary : WebSocketOpcode.text;
      // The first fragment decides for the whole message, as `ws` documents.
      compressed = compress && codec !== null && bytes.length >= codec.threshold;
    } else {
      opcode = WebSocketOpcode.continuation;
      compressed = socket._fragmenting === Fragmenting.Compressed;
    }
    sent = transport.sendFragment(opcode, bytes, fin, compressed);
    socket._fragmenting = fin ? Fragmenting.None : compressed ? Fragmenting.Compressed : Fragmenting.Plain;
  }
  if (!sent) notOpen(socket, payload, cb);
  else if (cb) transport.afterWrite(codec === null ? (cb as WriteCallback) : compressionAware(cb));
}

/**
 * `send()` past its fast path (the socket is open): numbers as text, the options as given, and
 * a Blob, or anything sent while one is being read, in order behind it.
 */
export function sendWithOptions(socket: WebSocket, data: BufferLike, options: SendOptions | undefined, cb: SendCallback | undefined): void {
  if (typeof data === "number") data = String(data);
  const binary = options?.binary ?? typeof data !== "string";
  const compress = options?.compress !== false;
  const fin = options?.fin !== false;
  if (socket._ordered !== null || isBlob(data)) {
    (socket._ordered ??= new OrderedSends(socket)).send(data, binary, compress, fin, cb);
    return;
  }
  transmit(socket, payloadOf(data), binary, compress, fin, cb);
}

/** Sends a ping or pong that is not a Blob (the socket is open). */
export function transmitControl(socket: WebSocket, opcode: number, payload: Buffer, cb: SendCallback | undefined): void {
  const transport = socket._transport!;
  const sent = opcode === WebSocketOpcode.ping ? transport.sendPing(payload) : transport.sendPong(payload);
  if (!sent) notOpen(socket, payload, cb);
  else if (cb) transport.afterWrite(cb as WriteCallback);
}

/** `ping()` and `pong()`: `(data, mask, cb)` with each argument optional, as `ws` takes them. */
export function sendControl(socket: WebSocket, opcode: number, data: unknown, mask: boolean | SendCallback | undefined, cb: SendCallback | undefined): void {
  if (socket._readyState === ReadyState.CONNECTING) throw new Error(notOpenMessage(ReadyState.CONNECTING));
  if (typeof data === "function") {
    cb = data as SendCallback;
    data = undefined;
  } else if (typeof mask === "function") {
    cb = mask;
  }
  if (typeof data === "number") data = String(data);
  if (socket.readyState !== ReadyState.OPEN) {
    notOpen(socket, data, cb);
    return;
  }
  if (socket._ordered !== null || isBlob(data)) {
    (socket._ordered ??= new OrderedSends(socket)).control(opcode, data, cb);
    return;
  }
  const payload = data ? toBuffer(data) : EMPTY_BUFFER;
  if (payload.length > CONTROL_PAYLOAD_MAX_BYTES) throw new RangeError("The data size must not be greater than 125 bytes");
  transmitControl(socket, opcode, payload, cb);
}

/**
 * Data sent while the socket is not open: throws while connecting; afterwards it is counted in
 * `bufferedAmount` (never sent) and its callback gets the not-open error, as with `ws`.
 */
export function notOpen(socket: WebSocket, data: unknown, cb: SendCallback | undefined): void {
  const state = socket.readyState;
  if (state === ReadyState.CONNECTING) throw new Error(notOpenMessage(state));
  if (data) socket._discardedBytes += byteLengthOf(typeof data === "number" ? String(data) : data);
  if (cb) process.nextTick(cb, new Error(notOpenMessage(state)));
}

/** A send callback that, with compression on, says data was lost while being compressed, in `ws`'s words. */
function compressionAware(cb: SendCallback): WriteCallback {
  return (error) => {
    if (error) cb(new Error("The socket was closed while data was being compressed", { cause: error }));
    else cb();
  };
}
