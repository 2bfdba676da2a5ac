import { Buffer } from "node:buffer";
import { ReadyState } from "../protocol/opcodes.js";
import type { CloseEvent as SeedCloseEvent } from "../websocket/frame.js";
import type { WebSocketMessageEvent } from "../websocket/websocket.js";
import { ClientWebSocket } from "./client-websocket.js";
import { WebSocketHandshakeError } from "./errors.js";
import type { ClientConfig } from "./config.js";
import { parseCloseArguments, parseWebSocketProtocols, parseWebSocketUrl } from "./web-arguments.js";
import { CloseEvent, toUsvString } from "./web-events.js";

/** How binary messages are handed to `message` listeners: the browser's two, and Node's Buffer. */
export type BinaryType = "blob" | "arraybuffer" | "nodebuffer";

/** What `send()` takes, as in the browser (`BufferSource or Blob or USVString`). */
export type WebSocketSendData = string | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | Blob;

type EventHandler = ((this: WebSocket, event: Event) => unknown) | null;
type HandlerType = "open" | "message" | "error" | "close";

const BINARY_TYPES: ReadonlySet<string> = new Set(["blob", "arraybuffer", "nodebuffer"]);

/**
 * The browser's WebSocket (WHATWG WebSockets Standard) on hawser's client: construct it with
 * `new WebSocket(url, protocols)`, listen with `addEventListener` or `on*`, and everything
 * behaves as in a browser: the same exceptions, the same events in the same order, the same
 * `bufferedAmount` accounting. Differences, all Node-only additions:
 *
 * - a third constructor argument, a hawser `ClientConfig` (headers, TLS, limits, keepalive);
 * - like a browser, it uses the system's proxy: here `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`
 *   from the environment (or `proxy` in the config; see docs/proxies.md);
 * - `binaryType` also accepts "nodebuffer" (a Buffer); the default is "blob", as in browsers;
 * - a listener that throws is reported the Node way (an uncaught exception), not on a console.
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  readonly #inner: ClientWebSocket;
  readonly #url: string;
  readonly #origin: string;
  #state: ReadyState = ReadyState.CONNECTING;
  #binaryType: BinaryType = "blob";
  readonly #handlers = new Map<HandlerType, { handler: NonNullable<EventHandler>; listener: (event: Event) => void }>();
  /** Bytes passed to send() after the closing handshake started: counted, never sent (as specified). */
  #discardedBytes = 0;
  /** Payload bytes handed to the transport since its buffer was last seen empty. */
  #unsentBytes = 0;
  /** Sends waiting behind a Blob being read, in order. */
  readonly #pending: Array<string | Buffer | Blob> = [];
  #pendingBytes = 0;
  #pumping = false;
  #flushCheckScheduled = false;
  #closeAfterPending: { code: number | undefined; reason: string } | null = null;

  /**
   * @param url ws://, wss:// (or http://, https://) URL; a bad one throws a "SyntaxError" DOMException.
   * @param protocols subprotocols to offer, one string or a list; each a token, none twice.
   * @param config Node-only: hawser client options (headers, TLS, limits, keepalive).
   */
  constructor(url: string | URL, protocols?: string | readonly string[], config: ClientConfig = {}) {
    super();
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    }
    const record = parseWebSocketUrl(url);
    const list = parseWebSocketProtocols(protocols);
    this.#url = record.href;
    this.#origin = record.origin;
    const { protocols: _ignored, ...rest } = config;
    // A WHATWG WebSocket never reconnects (see docs/pubsub.md for how a page does it itself).
    const inner = new ClientWebSocket(record, { ...rest, protocol: list, requireProtocol: true, reconnect: false });
    this.#inner = inner;
    inner.onopen = () => this.#opened();
    inner.onmessage = (event) => this.#received(event);
    inner.onerror = (error) => this.#failed(error);
    inner.ondrain = () => {
      this.#unsentBytes = 0;
    };
    inner.onclose = (event) => this.#closed(event);
    // The connection is established "in parallel"; failures arrive as error and close events.
    inner.connect().catch(() => undefined);
  }

  /** The URL as parsed (http: and https: became ws: and wss:). */
  get url(): string {
    return this.#url;
  }

  get readyState(): ReadyState {
    // The closing handshake may have been started by the server: CLOSING until the close event.
    if (this.#state === ReadyState.OPEN && this.#inner.readyState >= ReadyState.CLOSING) return ReadyState.CLOSING;
    return this.#state;
  }

  /**
   * Bytes of application data passed to `send()` and not yet handed to the network, plus
   * everything sent after the closing handshake started (which is never sent).
   */
  get bufferedAmount(): number {
    const inTransport = this.#inner.bufferedAmount;
    if (inTransport === 0) this.#unsentBytes = 0;
    return this.#discardedBytes + this.#pendingBytes + Math.min(this.#unsentBytes, inTransport);
  }

  /** The extensions the server accepted ("" before open or when none). */
  get extensions(): string {
    return this.#state === ReadyState.CONNECTING ? "" : this.#inner.extensions;
  }

  /** The subprotocol the server chose ("" before open or when none). */
  get protocol(): string {
    return this.#state === ReadyState.CONNECTING ? "" : this.#inner.protocol;
  }

  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  /** "blob" (default), "arraybuffer" or "nodebuffer"; other values are ignored, as WebIDL enums are. */
  set binaryType(value: BinaryType) {
    if (BINARY_TYPES.has(value)) this.#binaryType = value;
  }

  get onopen(): EventHandler {
    return this.#getHandler("open");
  }
  set onopen(value: EventHandler) {
    this.#setHandler("open", value);
  }
  get onmessage(): EventHandler {
    return this.#getHandler("message");
  }
  set onmessage(value: EventHandler) {
    this.#setHandler("message", value);
  }
  get onerror(): EventHandler {
    return this.#getHandler("error");
  }
  set onerror(value: EventHandler) {
    this.#setHandler("error", value);
  }
  get onclose(): EventHandler {
    return this.#getHandler("close");
  }
  set onclose(value: EventHandler) {
    this.#setHandler("close", value);
  }

  /**
   * Queues a message: a string as text, bytes or a Blob as binary. Throws an
   * "InvalidStateError" DOMException while CONNECTING; after the closing handshake has started
   * the data is discarded, though `bufferedAmount` still grows by its size.
   */
  send(data: WebSocketSendData): void {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    }
    if (this.#state === ReadyState.CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
    }
    let payload: string | Buffer | Blob;
    let size: number;
    if (data instanceof Blob) {
      payload = data;
      size = data.size;
    } else if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && data instanceof SharedArrayBuffer)) {
      payload = Buffer.from(data);
      size = payload.length;
    } else if (ArrayBuffer.isView(data)) {
      payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      size = payload.length;
    } else {
      payload = toUsvString(data);
      size = Buffer.byteLength(payload);
    }
    if (!this.#canSend()) {
      this.#discardedBytes += size;
      return;
    }
    if (this.#pending.length > 0 || payload instanceof Blob) {
      // Keep send order behind a Blob that must be read first; copy bytes the caller may reuse.
      this.#pending.push(Buffer.isBuffer(payload) ? Buffer.from(payload) : payload);
      this.#pendingBytes += size;
      void this.#pump();
      return;
    }
    this.#transmit(payload, size);
  }

  /**
   * Starts the closing handshake (or abandons the connection attempt). `code` must be 1000 or
   * 3000-4999 ("InvalidAccessError" otherwise), `reason` at most 123 bytes of UTF-8
   * ("SyntaxError"). Without a code, the close frame carries no status code.
   */
  close(code?: number, reason?: string): void {
    const { code: closeCode, reason: closeReason } = parseCloseArguments(arguments.length, code, reason);
    const state = this.readyState;
    if (state === ReadyState.CLOSING || state === ReadyState.CLOSED) return;
    this.#state = ReadyState.CLOSING;
    // Settle the count before the close frame enters the transport, which would hide an empty queue.
    if (this.#inner.bufferedAmount === 0) this.#unsentBytes = 0;
    if (state === ReadyState.CONNECTING) {
      // "Fail the WebSocket connection": error, then close with 1006.
      this.#inner.close();
      return;
    }
    if (this.#pumping) this.#closeAfterPending = { code: closeCode, reason: closeReason };
    else this.#inner.closeWith(closeCode, closeReason);
  }

  get [Symbol.toStringTag](): string {
    return "WebSocket";
  }

  // --- from the client underneath ------------------------------------------------------------

  #opened(): void {
    this.#state = ReadyState.OPEN;
    this.dispatchEvent(new Event("open"));
  }

  #received(event: WebSocketMessageEvent): void {
    // Messages that arrive after close() (or the server's close frame) are not delivered.
    if (this.readyState !== ReadyState.OPEN) return;
    const data = typeof event.data === "string" ? event.data : this.#binary(event.data);
    this.dispatchEvent(new MessageEvent("message", { data, origin: this.#origin }));
  }

  #binary(data: Buffer): Blob | ArrayBuffer | Buffer {
    switch (this.#binaryType) {
      case "nodebuffer":
        return data;
      case "arraybuffer":
        return data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
      default:
        return new Blob([data]);
    }
  }

  /**
   * Browsers fire `error` when the connection is failed (refused handshake, network failure
   * while connecting, protocol violation, and here also a peer that stopped answering pings),
   * but not when the network drops an open connection (a reset): then only `close` (1006).
   */
  #failed(error: Error): void {
    const dropped =
      this.#state !== ReadyState.CONNECTING && typeof (error as NodeJS.ErrnoException).code === "string" && !(error instanceof WebSocketHandshakeError);
    this.#state = ReadyState.CLOSED;
    if (!dropped) this.dispatchEvent(new Event("error"));
  }

  #closed(event: SeedCloseEvent): void {
    this.#state = ReadyState.CLOSED;
    this.#pending.length = 0;
    this.dispatchEvent(new CloseEvent("close", { wasClean: event.wasClean, code: event.code, reason: event.reason }));
  }

  // --- sending -------------------------------------------------------------------------------

  #canSend(): boolean {
    return this.#state === ReadyState.OPEN && this.#inner.readyState === ReadyState.OPEN && this.#closeAfterPending === null;
  }

  #transmit(payload: string | Buffer, size: number): void {
    if (this.#canSend() && this.#inner.send(payload)) this.#sent(size);
    else this.#discardedBytes += size;
  }

  /**
   * Counts bytes handed to the transport until they have left it: small writes leave within
   * the tick (checked on setImmediate), a backlog when the transport reports drain. Messages
   * waiting for compression leave no drain event behind when the socket never backs up, so
   * while bytes remain the check is repeated every few milliseconds; otherwise a stale count
   * would show later control frames (the close frame, pongs) as buffered application data.
   */
  #sent(size: number): void {
    this.#unsentBytes += size;
    this.#scheduleFlushCheck(false);
  }

  #scheduleFlushCheck(later: boolean): void {
    if (this.#flushCheckScheduled) return;
    this.#flushCheckScheduled = true;
    const check = (): void => {
      this.#flushCheckScheduled = false;
      if (this.#unsentBytes === 0) return;
      if (this.#inner.bufferedAmount === 0) this.#unsentBytes = 0;
      else if (this.#state !== ReadyState.CLOSED) this.#scheduleFlushCheck(true);
    };
    if (later) setTimeout(check, 5).unref();
    else setImmediate(check);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    while (this.#pending.length > 0) {
      const item = this.#pending[0]!;
      const bytes = item instanceof Blob ? Buffer.from(await item.arrayBuffer()) : item;
      if (this.#pending[0] !== item) break; // closed meanwhile
      this.#pending.shift();
      const size = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length;
      this.#pendingBytes -= size;
      this.#transmitQueued(bytes, size);
    }
    this.#pumping = false;
    const close = this.#closeAfterPending;
    if (close) {
      this.#closeAfterPending = null;
      this.#inner.closeWith(close.code, close.reason);
    }
  }

  /** Like #transmit, for sends queued before close() was called (they still go out first). */
  #transmitQueued(payload: string | Buffer, size: number): void {
    if (this.#inner.readyState === ReadyState.OPEN && this.#inner.send(payload)) this.#sent(size);
    else this.#discardedBytes += size;
  }

  // --- event handler attributes (HTML "event handler IDL attributes") ------------------------

  #getHandler(type: HandlerType): EventHandler {
    return this.#handlers.get(type)?.handler ?? null;
  }

  /** The listener is added when a handler is first set and keeps its place when replaced. */
  #setHandler(type: HandlerType, value: unknown): void {
    const entry = this.#handlers.get(type);
    if (typeof value !== "function") {
      if (entry) {
        this.removeEventListener(type, entry.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    const handler = value as NonNullable<EventHandler>;
    if (entry) {
      entry.handler = handler;
      return;
    }
    const created = {
      handler,
      listener: (event: Event): void => {
        created.handler.call(this, event);
      },
    };
    this.#handlers.set(type, created);
    this.addEventListener(type, created.listener);
  }
}

for (const [name, value] of Object.entries(ReadyState)) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

/** The events a WebSocket dispatches, for typed `addEventListener` calls (as lib.dom has them). */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: Event;
  close: CloseEvent;
}

// Typed overloads merged into the class, so `event.data` and `event.code` type-check.
type AnyListener = Parameters<EventTarget["addEventListener"]>[1];
type AddOptions = Parameters<EventTarget["addEventListener"]>[2];
type RemoveOptions = Parameters<EventTarget["removeEventListener"]>[2];

export interface WebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: (this: WebSocket, event: WebSocketEventMap[K]) => void, options?: AddOptions): void;
  addEventListener(type: string, listener: AnyListener, options?: AddOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => void,
    options?: RemoveOptions,
  ): void;
  removeEventListener(type: string, listener: AnyListener, options?: RemoveOptions): void;
}
