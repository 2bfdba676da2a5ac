import { Buffer } from "node:buffer";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import type { PreparedMessage } from "../transport/prepared-message.js";
import type { SocketTransport } from "../transport/socket-transport.js";
import { CloseEvent, WebSocketFrame } from "./frame.js";
import { ReceivedMessage, type WebSocketMessageEvent } from "./message-event.js";
import { ReceiveQueue } from "./receive-queue.js";
import { SocketListener } from "./socket-listener.js";
import type { PublishOptions, SocketTopics, SubscribeOptions, Subscription } from "./topics.js";
import { bytesOf, requireUtf8, setDeliveredText, type SendOptions, type WebSocketData } from "./message-data.js";

export type { SendOptions, WebSocketData } from "./message-data.js";
export type { WebSocketMessageEvent } from "./message-event.js";

/**
 * A WebSocket connection, server or client side, with both faces of the seed's API:
 *
 * - pull: `await recv()` / `waitForNextMessage()` / `for await (const msg of socket)`;
 * - push: `onmessage`, `ontextmessage`, `onbinarymessage`, `onclose`, `onerror`, ...
 *
 * Who gets a message (the one rule): every message goes to the message handlers that are set
 * when it arrives, and also into the receive buffer that `recv()` reads, unless a message
 * handler is set and `recv()` has never been used on this socket. Messages buffered before any
 * handler was set are handed to the first handler set, unless `recv()` was used. The buffer is
 * bounded by `maxBufferedBytes`: past it, reading from the peer pauses until `recv()` catches up.
 */
export class WebSocket implements AsyncIterable<WebSocketFrame> {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  // On the prototype (assigned below the class), not on every instance.
  declare readonly CONNECTING: typeof ReadyState.CONNECTING;
  declare readonly OPEN: typeof ReadyState.OPEN;
  declare readonly CLOSING: typeof ReadyState.CLOSING;
  declare readonly CLOSED: typeof ReadyState.CLOSED;

  onopen: (() => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((error: Error) => void) | null = null;
  onping: ((data: Buffer) => void) | null = null;
  onpong: ((data: Buffer) => void) | null = null;
  /** Called when `bufferedAmount` falls back to zero after a send had to queue. */
  ondrain: (() => void) | null = null;

  private messageHandler: ((event: WebSocketMessageEvent) => void) | null = null;
  private textHandler: ((text: string) => void) | null = null;
  private binaryHandler: ((data: Buffer) => void) | null = null;

  private transport: SocketTransport | null = null;
  private topicHub: SocketTopics | null = null;
  private queueRef: ReceiveQueue | null = null;
  private readonly maxBufferedBytes: number;
  private pullUsed = false;
  private closeEvent: CloseEvent | null = null;
  // Created only when asked for: an idle server holds thousands of sockets, so each field and
  // closure per socket shows in memory per connection.
  private drainWaiters: Array<() => void> | null = null;
  private closedPromise: Promise<CloseEvent> | null = null;
  private resolveClosed: ((event: CloseEvent) => void) | null = null;
  private closeObserver: ((socket: WebSocket) => void) | null = null;

  /** The subprotocol agreed on in the handshake ("" for none). */
  protocol = "";
  /** The extensions agreed on in the handshake, as the Sec-WebSocket-Extensions value. */
  extensions = "";

  constructor(options: { maxBufferedBytes: number }) {
    this.transportListener = new SocketListener(this);
    this.maxBufferedBytes = options.maxBufferedBytes;
  }

  /** Made when first needed: a socket served only through handlers never has one. */
  private get queue(): ReceiveQueue {
    if (this.queueRef === null) {
      this.queueRef = new ReceiveQueue(this.maxBufferedBytes, this.transportListener);
      const ended = this.closeEvent;
      if (ended) this.queueRef.end(WebSocketFrame.closeFrame(ended.code, ended.reason, ended.wasClean));
    }
    return this.queueRef;
  }

  /** Resolves with the close event once the connection has ended, however it ended. */
  get closed(): Promise<CloseEvent> {
    if (!this.closedPromise) {
      this.closedPromise = this.closeEvent ? Promise.resolve(this.closeEvent) : new Promise((resolve) => (this.resolveClosed = resolve));
    }
    return this.closedPromise;
  }

  /** Tells `observer` when this socket has closed (one observer: the server tracking it). @internal */
  observeClose(observer: (socket: WebSocket) => void): void {
    this.closeObserver = observer;
  }

  /** Wires the socket to an open transport (null: a reconnecting client's ended); server or client layer. */
  attach(transport: SocketTransport | null): void {
    this.transport = transport;
  }

  /** Gives a server socket its server's topics; called once by the server layer. @internal */
  joinTopics(hub: SocketTopics): void {
    this.topicHub = hub;
  }

  /** The listener the transport reports to. @internal */
  readonly transportListener: SocketListener;

  get readyState(): ReadyState {
    if (this.closeEvent) return ReadyState.CLOSED;
    return this.transport ? this.transport.readyState : ReadyState.CONNECTING;
  }

  /** Bytes accepted by `send` and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.transport ? this.transport.bufferedAmount : 0;
  }

  // --- the push face -----------------------------------------------------------------------

  /** Called for every message: text as a string, binary as a Buffer. */
  get onmessage(): ((event: WebSocketMessageEvent) => void) | null {
    return this.messageHandler;
  }
  set onmessage(handler: ((event: WebSocketMessageEvent) => void) | null) {
    this.messageHandler = handler;
    this.handOverBuffered();
  }

  get ontextmessage(): ((text: string) => void) | null {
    return this.textHandler;
  }
  set ontextmessage(handler: ((text: string) => void) | null) {
    this.textHandler = handler;
    this.handOverBuffered();
  }

  get onbinarymessage(): ((data: Buffer) => void) | null {
    return this.binaryHandler;
  }
  set onbinarymessage(handler: ((data: Buffer) => void) | null) {
    this.binaryHandler = handler;
    this.handOverBuffered();
  }

  // --- sending -----------------------------------------------------------------------------

  /**
   * Sends a text (string) or binary (bytes) message; `{ binary }` overrides which (bytes
   * sent as text must be UTF-8, or it throws a TypeError). Returns true when the message was
   * queued; false when the socket is closing or closed and nothing was sent. Throws while
   * still connecting. For backpressure, watch `bufferedAmount` or `await drained()`.
   */
  send(data: WebSocketData, options?: SendOptions): boolean {
    const transport = this.requireTransport("send");
    const binary = options?.binary;
    if (typeof data === "string" && binary !== true) return transport.send(WebSocketOpcode.text, data);
    const bytes = bytesOf(data, "send");
    if (binary === false) return transport.send(WebSocketOpcode.text, requireUtf8(bytes, "send"));
    return transport.send(WebSocketOpcode.binary, bytes);
  }

  /**
   * Sends a message encoded once for many sockets (pub/sub); false when closing or closed, or
   * past the buffer limits (`publishLimit`: see `TransportSender.sendPrepared`). @internal
   */
  sendPrepared(message: PreparedMessage, publishLimit?: number): boolean {
    return this.transport ? this.transport.sendPrepared(message, publishLimit) : false;
  }

  // --- topics (server sockets) -------------------------------------------------------------

  /**
   * Subscribes to `topic`: every `publish` to it, from this server or (through the server's
   * adapter) any other process, is sent to this socket. The promise resolves once messages
   * published elsewhere reach it too (at once without an adapter); it never rejects.
   * Subscriptions end when the socket closes. `options`: `since` and `format` (`SubscribeOptions`).
   */
  subscribe(topic: string): Promise<void>;
  subscribe(topic: string, options: SubscribeOptions): Promise<Subscription>;
  subscribe(topic: string, options?: SubscribeOptions): Promise<Subscription | void> {
    return this.requireTopics("subscribe").subscribe(this, topic, options);
  }

  /** Ends a subscription; false when there was none. */
  unsubscribe(topic: string): boolean {
    return this.requireTopics("unsubscribe").unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this.topicHub !== null && this.topicHub.isSubscribed(this, topic);
  }

  /** The topics this socket is subscribed to. */
  get topics(): string[] {
    return this.topicHub ? this.topicHub.topicsOf(this) : [];
  }

  /**
   * Publishes to every subscriber of `topic` except this socket, here and on other processes.
   * Returns the number of sockets on this process it was queued for.
   */
  publish(topic: string, data: WebSocketData, options?: PublishOptions): number {
    return this.requireTopics("publish").publish(topic, data, options, this);
  }

  /** `publish()`, resolving with the message's offset once it is in the topic's history (see `PubSub`). */
  publishConfirmed(topic: string, data: WebSocketData, options?: PublishOptions): Promise<string> {
    return this.requireTopics("publishConfirmed").publishConfirmed(topic, data, options, this);
  }

  // --- pings, closing, backpressure --------------------------------------------------------

  /** Sends a ping (at most 125 bytes). The peer's pong arrives at `onpong`. */
  ping(data: WebSocketData = EMPTY): boolean {
    return this.requireTransport("ping").sendPing(bytesOf(data, "ping"));
  }

  /** Sends an unsolicited pong (pings are answered automatically). */
  pong(data: WebSocketData = EMPTY): boolean {
    return this.requireTransport("pong").sendPong(bytesOf(data, "pong"));
  }

  /**
   * Starts the closing handshake, after every message already sent. Codes: 1000-1003,
   * 1007-1014, 3000-4999; the reason is at most 123 bytes of UTF-8.
   */
  close(code = 1000, reason = ""): void {
    if (!this.transport) throw new Error("close() before the connection opened: wait for onopen or connect().");
    this.transport.close(code, reason);
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.transport?.terminate();
  }

  /** Resolves once `bufferedAmount` is back under the socket's high-water mark (at once if it is). */
  drained(): Promise<void> {
    const transport = this.transport;
    if (!transport || this.closeEvent || transport.bufferedAmount <= transport.writableHighWaterMark) {
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  // --- the pull face -----------------------------------------------------------------------

  /**
   * The next message. After the connection has ended, a frame with opcode `close` (and
   * `code`, `reason`, `wasClean`), every time it is called; it never throws.
   */
  recv(): Promise<WebSocketFrame> {
    this.pullUsed = true;
    return this.queue.take();
  }

  /** Same as `recv()`, by the seed's name. */
  waitForNextMessage(): Promise<WebSocketFrame> {
    return this.recv();
  }

  /** True when a message (or the end) is already buffered: `recv()` will resolve at once. */
  isMessageBuffered(): boolean {
    return this.queue.hasItem;
  }

  /** True when `recv()` would have to wait for the network. */
  waitForNextMessageWouldBlock(): boolean {
    return !this.queue.hasItem;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketFrame> {
    for (;;) {
      const frame = await this.recv();
      if (frame.opcode === WebSocketOpcode.close) return;
      yield frame;
    }
  }

  // --- from the transport ------------------------------------------------------------------

  /** Reports a socket that opened; the client layer calls this after its handshake. */
  notifyOpen(): void {
    this.callUser(this.onopen, undefined);
  }

  /** @internal */
  hasMessageHandler(): boolean {
    return this.messageHandler !== null || this.textHandler !== null || this.binaryHandler !== null;
  }

  /** @internal */
  onTransportMessage(opcode: number, data: Buffer): void {
    const handled = this.hasMessageHandler();
    if (handled) this.dispatch(opcode, data);
    if (this.pullUsed || !handled) this.queue.push(new WebSocketFrame(opcode as WebSocketOpcode, data), data.length);
  }

  private dispatch(opcode: number, data: Buffer): void {
    const isBinary = opcode === WebSocketOpcode.binary;
    if (!isBinary) setDeliveredText(data);
    if (this.messageHandler) this.callUser(this.messageHandler, new ReceivedMessage(data, isBinary));
    if (isBinary) this.callUser(this.binaryHandler, data);
    else if (this.textHandler) this.callUser(this.textHandler, data.toString());
    if (!isBinary) setDeliveredText(null);
  }

  /** Messages that waited for a handler go to the first one set, unless `recv()` took over. */
  private handOverBuffered(): void {
    if (this.pullUsed || !this.hasMessageHandler() || this.queueRef === null || !this.queueRef.hasMessages) return;
    queueMicrotask(() => {
      if (this.pullUsed || !this.hasMessageHandler()) return;
      for (const frame of this.queue.takeMessages()) this.dispatch(frame.opcode, frame.data);
    });
  }

  /** @internal */
  onTransportClosed(code: number, reason: string, wasClean: boolean): void {
    const event = new CloseEvent(code, reason, wasClean);
    this.closeEvent = event;
    this.topicHub?.socketClosed(this);
    this.closeObserver?.(this);
    this.queueRef?.end(WebSocketFrame.closeFrame(code, reason, wasClean));
    this.onTransportDrain();
    this.callUser(this.onclose, event);
    this.resolveClosed?.(event);
  }

  /** @internal */
  onTransportDrain(): void {
    const waiters = this.drainWaiters;
    if (waiters) {
      this.drainWaiters = null;
      for (const resolve of waiters) resolve();
    }
    if (!this.closeEvent) this.callUser(this.ondrain, undefined);
  }

  /** @internal */
  setReceiverPaused(paused: boolean): void {
    this.transport?.setReceiverPaused(paused);
  }

  private requireTransport(method: string): SocketTransport {
    if (!this.transport) {
      throw new Error(`${method}() before the connection opened: wait for onopen (or await connect()).`);
    }
    return this.transport;
  }

  private requireTopics(method: string): SocketTopics {
    if (!this.topicHub) {
      throw new Error(`${method}(): topics exist on sockets accepted by a hawser server (serve() or HandlerHost), not on client sockets.`);
    }
    return this.topicHub;
  }

  /**
   * Runs a user callback. One that throws must not take the process down: the error is
   * reported on stderr and the connection is closed with 1011 (unexpected condition).
   */
  /** @internal */
  callUser<T>(handler: ((value: T) => void) | null, value: T): void {
    if (!handler) return;
    try {
      handler.call(this, value);
    } catch (error) {
      console.error("hawser: a WebSocket event handler threw; closing the connection with 1011:", error);
      if (this.transport && this.readyState === ReadyState.OPEN) this.transport.close(1011, "handler error");
    }
  }
}

for (const [name, value] of Object.entries(ReadyState)) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

const EMPTY = new Uint8Array(0);
