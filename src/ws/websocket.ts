import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { ClientRequest, ClientRequestArgs, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { isValidCloseCode } from "../protocol/close.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { MaskSource } from "../protocol/mask.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import { SocketTransport, type WriteCallback } from "../transport/socket-transport.js";
import { abortHandshake, startClient } from "./client.js";
import { binaryAs, BINARY_TYPES, byteLengthOf, EMPTY_BUFFER, isBlob, payloadOf, toBuffer } from "./data.js";
import { notOpenMessage } from "./errors.js";
import { addEventListener, getAttribute, removeEventListener, setAttribute, type EventHandler } from "./event-target.js";
import { FaceListener, listenerFor } from "./listener.js";
import { OrderedSends } from "./ordered-sends.js";
import type { WebSocketServer } from "./server.js";
import type { createWebSocketStream } from "./stream.js";
import type * as Types from "./types.js";

type State = 0 | 1 | 2 | 3;

/** What a face socket is run with, from the server's or the client's options. */
export interface SocketSettings {
  allowSynchronousEvents: boolean;
  autoPong: boolean;
  /** The largest message accepted; 0 or less for no limit. */
  maxPayload: number;
  /** Accepted as `ws` takes them and shown on `_receiver`; hawser bounds a message by its bytes. */
  maxBufferedChunks: number;
  maxFragments: number;
  skipUTF8Validation: boolean;
  closeTimeout: number;
}

/** A send callback that, with compression on, says data was lost while being compressed, in `ws`'s words. */
function compressionAware(cb: Types.SendCallback): WriteCallback {
  return (error) => {
    if (error) cb(new Error("The socket was closed while data was being compressed", { cause: error }));
    else cb();
  };
}

/** A message of a fragmented send in progress: none, uncompressed, or compressed. */
const enum Fragmenting {
  None,
  Plain,
  Compressed,
}

const CLOSE_REASON_MAX_BYTES = 123;
const CONTROL_PAYLOAD_MAX_BYTES = 125;

/**
 * A WebSocket connection with `ws` 8's API, client (`new WebSocket(url)`) or server side
 * (handed out by `WebSocketServer`), on hawser's transport: an EventEmitter with `open`,
 * `message(data, isBinary)`, `ping`, `pong`, `error`, `close(code, reason)` (and for clients
 * `upgrade`, `unexpected-response`, `redirect`), plus the event-target API.
 */
export class WebSocket extends EventEmitter {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  // The package entry points attach these (src/ws/index.ts), as `ws`'s own module does.
  declare static WebSocket: typeof WebSocket;
  declare static WebSocketServer: typeof WebSocketServer;
  declare static Server: typeof WebSocketServer;
  declare static createWebSocketStream: typeof createWebSocketStream;

  /** The underlying socket once open, as `ws` exposes it (its address, say); null before. */
  _socket: Duplex | null = null;
  /** The handshake request while a client connects (`ws` exposes it too). */
  _req: ClientRequest | null = null;
  /** Redirects followed so far by a client. */
  _redirects = 0;
  /** @internal */
  _readyState: State = ReadyState.CONNECTING;
  /** @internal */
  _binaryType: Types.BinaryType = "nodebuffer";
  /** @internal */
  _transport: SocketTransport | null = null;
  /** @internal */
  _codec: MessageCodec | null = null;
  /** @internal */
  _protocol = "";
  /** @internal */
  _extensionNames = "";
  /** @internal */
  _url: string | undefined = undefined;
  /** @internal */
  readonly _isServer: boolean;
  /** @internal The peer's close code and reason, once its close frame arrived. */
  _closeCode = 1006;
  /** @internal */
  _closeReason: Buffer = EMPTY_BUFFER;
  /** @internal */
  _closedCleanly = false;
  /** @internal */
  _errorEmitted = false;
  /** @internal */
  _paused = false;
  /** @internal Bytes passed to send() after the socket stopped being open (counted, never sent). */
  _discardedBytes = 0;
  /** @internal */
  _fragmenting: Fragmenting = Fragmenting.None;
  /** @internal Sends waiting behind a Blob being read. */
  _ordered: OrderedSends | null = null;
  /** @internal Told when the socket has closed (the server that tracks it). */
  _onClosed: ((socket: WebSocket) => void) | null = null;
  /**
   * The receiving side once open (null before), as `ws` names it: programs read and set
   * `_receiver._maxPayload` to change this connection's message limit.
   */
  _receiver: FaceListener | null = null;
  /** @internal The settings the socket was opened with. */
  _settings: SocketSettings | null = null;
  /** @internal A close timer a program set itself (see `_closeTimer`). */
  _ownCloseTimer: NodeJS.Timeout | null | undefined = undefined;

  constructor(address: null);
  constructor(address: string | URL, options?: Types.ClientOptions | ClientRequestArgs);
  constructor(address: string | URL, protocols?: string | string[], options?: Types.ClientOptions | ClientRequestArgs);
  constructor(
    address: string | URL | null,
    protocols?: string | string[] | Types.ClientOptions | ClientRequestArgs,
    options?: Types.ClientOptions | ClientRequestArgs,
  ) {
    super();
    this._isServer = address === null;
    if (address === null) return;
    let list: string[];
    if (protocols === undefined) list = [];
    else if (Array.isArray(protocols)) list = protocols;
    else if (typeof protocols === "object" && protocols !== null) {
      options = protocols as Types.ClientOptions;
      list = [];
    } else list = [protocols as string];
    startClient(this, address, list, (options ?? {}) as Parameters<typeof startClient>[3]);
  }

  /** How binary messages are handed out: "nodebuffer" (default), "arraybuffer", "fragments" or "blob". */
  get binaryType(): Types.BinaryType {
    return this._binaryType;
  }
  set binaryType(type: Types.BinaryType) {
    if (!BINARY_TYPES.includes(type)) return;
    this._binaryType = type;
    if (type === "fragments") this._transport?.connection.recordFragments(true);
  }

  /**
   * Bytes sent and not yet written to the network, framing included: what the socket could
   * not write at once (frames batched in this tick are handed to it first), messages still
   * being compressed, and what was sent after the socket stopped being open.
   */
  get bufferedAmount(): number {
    const transport = this._transport;
    if (transport === null) return this._discardedBytes;
    transport.flushWrites();
    return transport.bufferedAmount + this._discardedBytes;
  }

  /** The timer that ends a closing handshake the peer does not finish (`ws` exposes it); null when none runs. */
  get _closeTimer(): NodeJS.Timeout | null {
    if (this._ownCloseTimer !== undefined) return this._ownCloseTimer;
    return this._transport === null ? null : this._transport.closeTimerHandle;
  }
  set _closeTimer(timer: NodeJS.Timeout | null) {
    // Some programs keep a timer of their own under this name.
    this._ownCloseTimer = timer;
  }

  /** The names of the extensions agreed on, comma-separated ("permessage-deflate" or ""). */
  get extensions(): string {
    return this._extensionNames;
  }

  /** True while `pause()` holds back events. */
  get isPaused(): boolean {
    return this._paused;
  }

  /** The subprotocol the server chose ("" for none). */
  get protocol(): string {
    return this._protocol;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): 0 | 1 | 2 | 3 {
    const state = this._readyState;
    // The core leaves OPEN when a close frame goes either way or the connection fails.
    if (state === ReadyState.OPEN && this._transport!.readyState !== ReadyState.OPEN) return ReadyState.CLOSING;
    return state;
  }

  /** The server's URL (after redirects); undefined on server-side sockets. */
  get url(): string {
    return this._url as string;
  }

  // --- sending -------------------------------------------------------------------------------

  /**
   * Sends a message: a string as text, anything else as binary (`binary` overrides), compressed
   * when permessage-deflate was agreed (`compress: false` opts out), in one frame unless `fin:
   * false` starts (or continues) a message sent in pieces. `cb` is called once the data has
   * been written to the socket, or with an error. Throws while still connecting.
   */
  send(data: Types.BufferLike, cb?: Types.SendCallback): void;
  send(data: Types.BufferLike, options: Types.SendOptions, cb?: Types.SendCallback): void;
  send(data: Types.BufferLike, options?: Types.SendOptions | Types.SendCallback, cb?: Types.SendCallback): void {
    if (typeof options === "function") {
      cb = options;
      options = undefined;
    }
    const transport = this._transport;
    if (transport === null || this._readyState !== ReadyState.OPEN) {
      this._notOpen(data, cb);
      return;
    }
    // The common case, kept short: a whole message of bytes or text, compressed as the
    // extension decides (a connection that is closing refuses it: the path below reports that).
    if (
      cb === undefined &&
      this._ordered === null &&
      this._fragmenting === Fragmenting.None &&
      (options === undefined || (options.fin !== false && options.compress !== false))
    ) {
      const binary = options === undefined || options.binary === undefined ? typeof data !== "string" : options.binary;
      if (Buffer.isBuffer(data)) {
        if (transport.send(binary ? WebSocketOpcode.binary : WebSocketOpcode.text, data)) return;
      } else if (typeof data === "string" && !binary) {
        if (transport.send(WebSocketOpcode.text, data)) return;
      }
    }
    if (typeof data === "number") data = String(data);
    const binary = options?.binary ?? typeof data !== "string";
    const compress = options?.compress !== false;
    const fin = options?.fin !== false;
    if (this._ordered !== null || isBlob(data)) {
      (this._ordered ??= new OrderedSends(this)).send(data, binary, compress, fin, cb);
      return;
    }
    this._transmit(payloadOf(data), binary, compress, fin, cb);
  }

  /** Sends a ping (at most 125 bytes); the peer's pong arrives as a `pong` event. */
  ping(data?: unknown, mask?: boolean | Types.SendCallback, cb?: Types.SendCallback): void {
    this._control(WebSocketOpcode.ping, data, mask, cb);
  }

  /** Sends a pong (at most 125 bytes); pings are answered without it unless `autoPong` is false. */
  pong(data?: unknown, mask?: boolean | Types.SendCallback, cb?: Types.SendCallback): void {
    this._control(WebSocketOpcode.pong, data, mask, cb);
  }

  /**
   * Starts the closing handshake: `code` (1000-1003, 1007-1014, 3000-4999; none sends an empty
   * close frame) and a `reason` of at most 123 bytes. While connecting, abandons the attempt.
   */
  close(code?: number, data?: string | Buffer): void {
    const state = this.readyState;
    if (state === ReadyState.CLOSED) return;
    if (state === ReadyState.CONNECTING) {
      abortHandshake(this, "WebSocket was closed before the connection was established");
      return;
    }
    if (state === ReadyState.CLOSING || this._transport === null) return;
    if (code !== undefined && (typeof code !== "number" || !isValidCloseCode(code))) {
      throw new TypeError("First argument must be a valid error code number");
    }
    const reason = code === undefined || data === undefined ? "" : String(data);
    if (Buffer.byteLength(reason) > CLOSE_REASON_MAX_BYTES) throw new RangeError("The message must not be greater than 123 bytes");
    this._readyState = ReadyState.CLOSING;
    if (this._ordered !== null) this._ordered.close(code, reason);
    else this._transport!.close(code, reason);
  }

  /** Cuts the connection at once, without a closing handshake. */
  terminate(): void {
    const state = this.readyState;
    if (state === ReadyState.CLOSED) return;
    if (state === ReadyState.CONNECTING) {
      abortHandshake(this, "WebSocket was closed before the connection was established");
      return;
    }
    if (this._transport === null) return;
    this._readyState = ReadyState.CLOSING;
    this._transport.terminate();
  }

  /** Stops emitting messages (reading pauses); events of data already read may still come. */
  pause(): void {
    if (this._readyState === ReadyState.CONNECTING || this._readyState === ReadyState.CLOSED) return;
    this._paused = true;
    this._applyPause();
  }

  /** Undoes `pause()`. */
  resume(): void {
    if (this._readyState === ReadyState.CONNECTING || this._readyState === ReadyState.CLOSED) return;
    this._paused = false;
    this._applyPause();
  }

  // --- the event-target API ------------------------------------------------------------------

  /** Listens with an event object (`event.data`, `event.code`, ...), as browsers do; only open, message, close and error. */
  addEventListener<K extends keyof Types.WebSocketEventMap>(
    type: K,
    listener: EventHandler<Types.WebSocketEventMap[K]>,
    options?: Types.EventListenerOptions,
  ): void {
    addEventListener(this, type, listener as EventHandler<never>, options?.once === true);
  }

  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof Types.WebSocketEventMap>(type: K, listener: EventHandler<Types.WebSocketEventMap[K]>): void {
    removeEventListener(this, type, listener as EventHandler<never>);
  }

  get onopen(): ((event: Types.Event) => void) | null {
    return getAttribute(this, "open") as ((event: Types.Event) => void) | null;
  }
  set onopen(handler: ((event: Types.Event) => void) | null) {
    setAttribute(this, "open", handler);
  }
  get onmessage(): ((event: Types.MessageEvent) => void) | null {
    return getAttribute(this, "message") as ((event: Types.MessageEvent) => void) | null;
  }
  set onmessage(handler: ((event: Types.MessageEvent) => void) | null) {
    setAttribute(this, "message", handler);
  }
  get onclose(): ((event: Types.CloseEvent) => void) | null {
    return getAttribute(this, "close") as ((event: Types.CloseEvent) => void) | null;
  }
  set onclose(handler: ((event: Types.CloseEvent) => void) | null) {
    setAttribute(this, "close", handler);
  }
  get onerror(): ((event: Types.ErrorEvent) => void) | null {
    return getAttribute(this, "error") as ((event: Types.ErrorEvent) => void) | null;
  }
  set onerror(handler: ((event: Types.ErrorEvent) => void) | null) {
    setAttribute(this, "error", handler);
  }

  // --- the plumbing (for the server, the client handshake and the transport listener) --------

  /** @internal Whether close frames went both ways (CloseEvent.wasClean). */
  get closedCleanly(): boolean {
    return this._closedCleanly;
  }

  /** @internal Binds the socket to an open connection; `start` then feeds what came with the handshake. */
  _attach(socket: Duplex, settings: SocketSettings, codec: MessageCodec | null, maskSource?: MaskSource): SocketTransport {
    const limit = settings.maxPayload > 0 ? settings.maxPayload : Number.POSITIVE_INFINITY;
    this._receiver = listenerFor(this, settings.allowSynchronousEvents);
    this._settings = settings;
    const transport = new SocketTransport(
      socket,
      {
        role: this._isServer ? "server" : "client",
        ...(maskSource ? { maskSource } : {}),
        ...(codec ? { codec } : {}),
        maxMessageBytes: limit,
        maxFrameBytes: limit,
        closeTimeoutMs: settings.closeTimeout,
        // `ws` sends no pings of its own: programs run their own heartbeat.
        pingIntervalMs: 0,
        pongTimeoutMs: settings.closeTimeout,
        // `ws` never refuses a send: programs watch bufferedAmount themselves.
        maxSendBufferBytes: Number.POSITIVE_INFINITY,
        autoPong: settings.autoPong,
        validateUtf8: !settings.skipUTF8Validation,
      },
      this._receiver,
    );
    if (typeof (socket as Socket).setTimeout === "function") (socket as Socket).setTimeout(0);
    this._transport = transport;
    this._codec = codec;
    this._socket = socket;
    if (this._binaryType === "fragments") transport.connection.recordFragments(true);
    this._readyState = ReadyState.OPEN;
    return transport;
  }

  /** @internal A binary (or, recording fragments, any) message, converted as `binaryType` asks. */
  _emitConverted(opcode: number, data: Buffer): void {
    const ends = this._transport!.connection.takeFragmentEnds();
    if (opcode === WebSocketOpcode.text) this.emit("message", data, false);
    else this.emit("message", binaryAs(this._binaryType, data, ends), true);
  }

  /** @internal */
  _emitError(error: Error): void {
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    // hawser does not crash a process for what a peer did: without a listener, nothing is thrown.
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  /** @internal The end of the connection, however it came: the last event. */
  _emitClose(code: number, reason: Buffer, wasClean: boolean): void {
    this._closedCleanly = wasClean;
    this._ordered?.abandon(new Error("The socket was closed while the blob was being read"));
    this._readyState = ReadyState.CLOSED;
    this._onClosed?.(this);
    this.emit("close", code, reason);
  }

  /** @internal */
  _applyPause(): void {
    this._transport?.setReceiverPaused(this._paused || (this._receiver !== null && this._receiver.holding));
  }

  /** @internal Sends a message (or one of its fragments) that is not a Blob. */
  _transmit(payload: Buffer | string, binary: boolean, compress: boolean, fin: boolean, cb: Types.SendCallback | undefined): void {
    const transport = this._transport!;
    const codec = this._codec;
    let sent: boolean;
    if (this._fragmenting === Fragmenting.None && fin && (compress || codec === null)) {
      // A string sent as binary goes as its UTF-8 bytes.
      if (binary && typeof payload === "string") payload = Buffer.from(payload);
      sent = transport.send(binary ? WebSocketOpcode.binary : WebSocketOpcode.text, payload);
    } else {
      const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
      let opcode: number;
      let compressed: boolean;
      if (this._fragmenting === Fragmenting.None) {
        opcode = binary ? WebSocketOpcode.binary : WebSocketOpcode.text;
        // The first fragment decides for the whole message, as `ws` documents.
        compressed = compress && codec !== null && bytes.length >= codec.threshold;
      } else {
        opcode = WebSocketOpcode.continuation;
        compressed = this._fragmenting === Fragmenting.Compressed;
      }
      sent = transport.sendFragment(opcode, bytes, fin, compressed);
      this._fragmenting = fin ? Fragmenting.None : compressed ? Fragmenting.Compressed : Fragmenting.Plain;
    }
    if (!sent) this._notOpen(payload, cb);
    else if (cb) transport.afterWrite(codec === null ? (cb as WriteCallback) : compressionAware(cb));
  }

  /** @internal Sends a ping or pong that is not a Blob. */
  _transmitControl(opcode: number, payload: Buffer, cb: Types.SendCallback | undefined): void {
    const transport = this._transport!;
    const sent = opcode === WebSocketOpcode.ping ? transport.sendPing(payload) : transport.sendPong(payload);
    if (!sent) this._notOpen(payload, cb);
    else if (cb) transport.afterWrite(cb as (error?: Error | null) => void);
  }

  /** Data sent while not open is counted in bufferedAmount and reported to its callback. */
  private _notOpen(data: unknown, cb: Types.SendCallback | undefined): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING) throw new Error(notOpenMessage(state));
    if (data) this._discardedBytes += byteLengthOf(typeof data === "number" ? String(data) : data);
    if (cb) process.nextTick(cb, new Error(notOpenMessage(state)));
  }

  private _control(opcode: number, data: unknown, mask: boolean | Types.SendCallback | undefined, cb: Types.SendCallback | undefined): void {
    if (this._readyState === ReadyState.CONNECTING) throw new Error(notOpenMessage(ReadyState.CONNECTING));
    if (typeof data === "function") {
      cb = data as Types.SendCallback;
      data = undefined;
    } else if (typeof mask === "function") {
      cb = mask;
    }
    if (typeof data === "number") data = String(data);
    if (this.readyState !== ReadyState.OPEN) {
      this._notOpen(data, cb);
      return;
    }
    if (this._ordered !== null || isBlob(data)) {
      (this._ordered ??= new OrderedSends(this)).control(opcode, data, cb);
      return;
    }
    const payload = data ? toBuffer(data) : EMPTY_BUFFER;
    if (payload.length > CONTROL_PAYLOAD_MAX_BYTES) throw new RangeError("The data size must not be greater than 125 bytes");
    this._transmitControl(opcode, payload, cb);
  }
}

for (const [name, value] of Object.entries(ReadyState)) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}
// Accessors show up in `for...in` and object spreads of a socket, as `ws`'s do.
for (const name of ["binaryType", "bufferedAmount", "extensions", "isPaused", "protocol", "readyState", "url", "onopen", "onmessage", "onclose", "onerror"]) {
  const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name)!;
  Object.defineProperty(WebSocket.prototype, name, { ...descriptor, enumerable: true });
}

type ThisListener<A extends unknown[]> = (this: WebSocket, ...args: A) => void;
type AnyListener = (this: WebSocket, ...args: never[]) => void;

/** The events a socket emits, typed for `on`, `once`, `off`, `addListener` and `removeListener`. */
export interface WebSocket {
  on(event: "close", listener: ThisListener<[code: number, reason: Buffer]>): this;
  on(event: "error", listener: ThisListener<[error: Error]>): this;
  on(event: "upgrade", listener: ThisListener<[request: IncomingMessage]>): this;
  on(event: "message", listener: ThisListener<[data: Types.RawData, isBinary: boolean]>): this;
  on(event: "open", listener: ThisListener<[]>): this;
  on(event: "ping" | "pong", listener: ThisListener<[data: Buffer]>): this;
  on(event: "redirect", listener: ThisListener<[url: string, request: ClientRequest]>): this;
  on(event: "unexpected-response", listener: ThisListener<[request: ClientRequest, response: IncomingMessage]>): this;
  on(event: string | symbol, listener: AnyListener): this;

  once(event: "close", listener: ThisListener<[code: number, reason: Buffer]>): this;
  once(event: "error", listener: ThisListener<[error: Error]>): this;
  once(event: "upgrade", listener: ThisListener<[request: IncomingMessage]>): this;
  once(event: "message", listener: ThisListener<[data: Types.RawData, isBinary: boolean]>): this;
  once(event: "open", listener: ThisListener<[]>): this;
  once(event: "ping" | "pong", listener: ThisListener<[data: Buffer]>): this;
  once(event: "redirect", listener: ThisListener<[url: string, request: ClientRequest]>): this;
  once(event: "unexpected-response", listener: ThisListener<[request: ClientRequest, response: IncomingMessage]>): this;
  once(event: string | symbol, listener: AnyListener): this;

  off(event: "close", listener: ThisListener<[code: number, reason: Buffer]>): this;
  off(event: "error", listener: ThisListener<[error: Error]>): this;
  off(event: "upgrade", listener: ThisListener<[request: IncomingMessage]>): this;
  off(event: "message", listener: ThisListener<[data: Types.RawData, isBinary: boolean]>): this;
  off(event: "open", listener: ThisListener<[]>): this;
  off(event: "ping" | "pong", listener: ThisListener<[data: Buffer]>): this;
  off(event: "redirect", listener: ThisListener<[url: string, request: ClientRequest]>): this;
  off(event: "unexpected-response", listener: ThisListener<[request: ClientRequest, response: IncomingMessage]>): this;
  off(event: string | symbol, listener: AnyListener): this;

  addListener(event: "close", listener: (code: number, reason: Buffer) => void): this;
  addListener(event: "error", listener: (error: Error) => void): this;
  addListener(event: "upgrade", listener: (request: IncomingMessage) => void): this;
  addListener(event: "message", listener: (data: Types.RawData, isBinary: boolean) => void): this;
  addListener(event: "open", listener: () => void): this;
  addListener(event: "ping" | "pong", listener: (data: Buffer) => void): this;
  addListener(event: "redirect", listener: (url: string, request: ClientRequest) => void): this;
  addListener(event: "unexpected-response", listener: (request: ClientRequest, response: IncomingMessage) => void): this;
  addListener(event: string | symbol, listener: (...args: never[]) => void): this;

  removeListener(event: "close", listener: (code: number, reason: Buffer) => void): this;
  removeListener(event: "error", listener: (error: Error) => void): this;
  removeListener(event: "upgrade", listener: (request: IncomingMessage) => void): this;
  removeListener(event: "message", listener: (data: Types.RawData, isBinary: boolean) => void): this;
  removeListener(event: "open", listener: () => void): this;
  removeListener(event: "ping" | "pong", listener: (data: Buffer) => void): this;
  removeListener(event: "redirect", listener: (url: string, request: ClientRequest) => void): this;
  removeListener(event: "unexpected-response", listener: (request: ClientRequest, response: IncomingMessage) => void): this;
  removeListener(event: string | symbol, listener: (...args: never[]) => void): this;
}

type WebSocketInstance = WebSocket;
type ServerClass<T extends typeof WebSocket, U extends typeof IncomingMessage> = WebSocketServer<T, U>;

/** The types of `ws`'s namespace, reachable as `WebSocket.RawData`, `WebSocket.ServerOptions`, ... */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace WebSocket {
  type RawData = Types.RawData;
  type Data = Types.Data;
  type CertMeta = Types.CertMeta;
  type BinaryType = Types.BinaryType;
  type SendOptions = Types.SendOptions;
  type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = Types.VerifyClientCallbackSync<Request>;
  type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = Types.VerifyClientCallbackAsync<Request>;
  type FinishRequestCallback = Types.FinishRequestCallback;
  type ClientOptions = Types.ClientOptions;
  type PerMessageDeflateOptions = Types.PerMessageDeflateOptions;
  type Event = Types.Event;
  type ErrorEvent = Types.ErrorEvent;
  type CloseEvent = Types.CloseEvent;
  type MessageEvent = Types.MessageEvent;
  type WebSocketEventMap = Types.WebSocketEventMap;
  type EventListenerOptions = Types.EventListenerOptions;
  type ServerOptions<U extends typeof WebSocket = typeof WebSocket, V extends typeof IncomingMessage = typeof IncomingMessage> =
    Types.ServerOptions<U, V>;
  type AddressInfo = Types.AddressInfo;
  type Server<T extends typeof WebSocket = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> = ServerClass<T, U>;
  type WebSocketServer<T extends typeof WebSocket = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> =
    ServerClass<T, U>;
  type WebSocket = WebSocketInstance;
}
