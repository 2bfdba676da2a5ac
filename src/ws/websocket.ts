import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { ClientRequest, ClientRequestArgs, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { isValidCloseCode } from "../protocol/close.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { MaskSource } from "../protocol/mask.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { abortHandshake, startClient } from "./client.js";
import { binaryAs, BINARY_TYPES, EMPTY_BUFFER } from "./data.js";
import { addEventListener, removeEventListener, type EventHandler } from "./event-target.js";
import { attachTransport, type SocketSettings } from "./attach.js";
import type { FaceListener } from "./listener.js";
import { OrderedSends } from "./ordered-sends.js";
import { decorateSocketClass } from "./prototype.js";
import { Fragmenting, notOpen, sendControl, sendWithOptions } from "./sending.js";
import { sendFromServer } from "./shared-frames.js";
import type { WebSocketServer } from "./server.js";
import type { WebSocketClass, WebSocketEvents } from "./socket-types.js";
import type { createWebSocketStream } from "./stream.js";
import type * as Types from "./types.js";

type State = 0 | 1 | 2 | 3;

const CLOSE_REASON_MAX_BYTES = 123;

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

  // The underscore members are ws's own undeclared ones that programs reach for (`_socket`,
  // `_req`, `_receiver._maxPayload`, ...) and this face's plumbing. All are @internal: left out
  // of the published declarations, as @types/ws has none of them, so that libraries typed
  // against @types/ws take this face's sockets and servers.
  /** @internal The underlying socket once open, as `ws` exposes it (its address, say); null before. */
  _socket: Duplex | null = null;
  /** @internal The handshake request while a client connects (`ws` exposes it too). */
  _req: ClientRequest | null = null;
  /** @internal Redirects followed so far by a client. */
  _redirects = 0;
  /** @internal */
  _readyState: State = ReadyState.CONNECTING;
  /** @internal */
  _binaryType: Types.AnyBinaryType = "nodebuffer";
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
   * @internal The receiving side once open (null before), as `ws` names it: programs read and
   * set `_receiver._maxPayload` to change this connection's message limit.
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
    if (address !== null) startClient(this, address, protocols, options);
  }

  /** How binary messages are handed out: "nodebuffer" (default), "arraybuffer", "fragments" or "blob". */
  get binaryType(): Types.BinaryType {
    // "blob" is set only past the type (see BinaryType), so it is read back the same way.
    return this._binaryType as Types.BinaryType;
  }
  set binaryType(type: Types.BinaryType) {
    if (!BINARY_TYPES.includes(type as Types.AnyBinaryType)) return;
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

  /** @internal The timer that ends a closing handshake the peer does not finish (`ws` exposes it); null when none runs. */
  get _closeTimer(): NodeJS.Timeout | null {
    if (this._ownCloseTimer !== undefined) return this._ownCloseTimer;
    return this._transport === null ? null : this._transport.closeTimerHandle;
  }
  /** @internal */
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
      notOpen(this, data, cb);
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
        const opcode = binary ? WebSocketOpcode.binary : WebSocketOpcode.text;
        if (this._isServer ? sendFromServer(transport, opcode, data) : transport.send(opcode, data)) return;
      } else if (typeof data === "string" && !binary) {
        if (this._isServer ? sendFromServer(transport, WebSocketOpcode.text, data) : transport.send(WebSocketOpcode.text, data)) return;
      }
    }
    sendWithOptions(this, data, options, cb);
  }

  /**
   * Sends a ping (at most 125 bytes); the peer's pong arrives as a `pong` event. `cb` is called
   * once it is written (without an error) or with the error that stopped it; as in ws it may
   * also take the place of `mask`, which @types/ws does not declare, and neither do we: its
   * socket type would then not fit ours.
   */
  ping(data?: unknown, mask?: boolean, cb?: (err: Error) => void): void;
  ping(data?: unknown, mask?: boolean | Types.SendCallback, cb?: Types.SendCallback | ((err: Error) => void)): void {
    sendControl(this, WebSocketOpcode.ping, data, mask, cb as Types.SendCallback | undefined);
  }

  /** Sends a pong (at most 125 bytes); pings are answered without it unless `autoPong` is false. */
  pong(data?: unknown, mask?: boolean, cb?: (err: Error) => void): void;
  pong(data?: unknown, mask?: boolean | Types.SendCallback, cb?: Types.SendCallback | ((err: Error) => void)): void {
    sendControl(this, WebSocketOpcode.pong, data, mask, cb as Types.SendCallback | undefined);
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
    // Spelt out as @types/ws has it (not through an alias), so the two compare as equal.
    listener: ((event: Types.WebSocketEventMap[K]) => void) | { handleEvent(event: Types.WebSocketEventMap[K]): void },
    options?: Types.EventListenerOptions,
  ): void {
    addEventListener(this, type, listener as EventHandler<never>, options?.once === true);
  }

  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof Types.WebSocketEventMap>(
    type: K,
    listener: ((event: Types.WebSocketEventMap[K]) => void) | { handleEvent(event: Types.WebSocketEventMap[K]): void },
  ): void {
    removeEventListener(this, type, listener as EventHandler<never>);
  }

  // `on<type>` attributes, defined on the prototype by decorateSocketClass (prototype.ts).
  declare onopen: ((event: Types.Event) => void) | null;
  declare onmessage: ((event: Types.MessageEvent) => void) | null;
  declare onclose: ((event: Types.CloseEvent) => void) | null;
  declare onerror: ((event: Types.ErrorEvent) => void) | null;

  // --- the plumbing (for the server, the client handshake and the transport listener) --------

  /** @internal Whether close frames went both ways (CloseEvent.wasClean). */
  get closedCleanly(): boolean {
    return this._closedCleanly;
  }

  /** @internal Binds the socket to an open connection; the transport's `start` then feeds what came with the handshake. */
  _attach(socket: Duplex, settings: SocketSettings, codec: MessageCodec | null, maskSource?: MaskSource): SocketTransport {
    return attachTransport(this, socket, settings, codec, maskSource);
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
}

decorateSocketClass(WebSocket);

type Listener<K extends keyof WebSocketEvents> = (this: WebSocket, ...args: WebSocketEvents[K]) => void;
type AnyListener = (this: WebSocket, ...args: never[]) => void;

/** The events typed for `on`, `once`, `off`, `addListener` and `removeListener`. */
export interface WebSocket {
  on<K extends keyof WebSocketEvents>(event: K, listener: Listener<K>): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<K extends keyof WebSocketEvents>(event: K, listener: Listener<K>): this;
  once(event: string | symbol, listener: AnyListener): this;
  off<K extends keyof WebSocketEvents>(event: K, listener: Listener<K>): this;
  off(event: string | symbol, listener: AnyListener): this;
  addListener<K extends keyof WebSocketEvents>(event: K, listener: Listener<K>): this;
  addListener(event: string | symbol, listener: AnyListener): this;
  removeListener<K extends keyof WebSocketEvents>(event: K, listener: Listener<K>): this;
  removeListener(event: string | symbol, listener: AnyListener): this;
}

type WebSocketInstance = WebSocket;

type ServerClass<T extends WebSocketClass, U extends typeof IncomingMessage> = WebSocketServer<T, U>;

/** The types of `ws`'s namespace, reachable as `WebSocket.RawData`, `WebSocket.ServerOptions`, ... */
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
  type ServerOptions<U extends WebSocketClass = typeof WebSocket, V extends typeof IncomingMessage = typeof IncomingMessage> = Types.ServerOptions<U, V>;
  type AddressInfo = Types.AddressInfo;
  type Server<T extends WebSocketClass = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> = ServerClass<T, U>;
  type WebSocketServer<T extends WebSocketClass = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> = ServerClass<T, U>;
  type WebSocket = WebSocketInstance;
}
