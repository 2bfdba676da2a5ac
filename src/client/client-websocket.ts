import { randomFillSync } from "node:crypto";
import { encodeClosePayload } from "../protocol/close.js";
import { randomMaskSource } from "../protocol/mask.js";
import { ReadyState } from "../protocol/opcodes.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { CloseEvent } from "../websocket/frame.js";
import { bytesOf, requireUtf8, type SendOptions, type WebSocketData } from "../websocket/message-data.js";
import { WebSocket } from "../websocket/websocket.js";
import { resolveClientConfig, type ConnectConfig, type ResolvedClientConfig } from "./config.js";
import { WebSocketHandshakeError } from "./errors.js";
import { openHandshake, type HandshakeResult } from "./handshake.js";
import {
  HeldMessages,
  reconnectDelay,
  resolveReconnect,
  type ReconnectedEvent,
  type ReconnectingEvent,
  type ResolvedReconnect,
  type UnsentMessage,
} from "./reconnect.js";
import { parseClientUrl, type ClientTarget } from "./url.js";

/**
 * Masking keys for every client connection, from one pool of cryptographically random bytes
 * (RFC 6455 section 10.3). Keys are used at once when a frame is encoded, so sharing is safe.
 */
const maskSource = randomMaskSource((pool) => randomFillSync(pool));

/**
 * The seed's client: `new ClientWebSocket(url, config)`, set handlers, `await connect()`.
 * It is the same `WebSocket` as the server's (both faces of the API, `for await`), masking
 * what it sends. `connect(url, config)` does both steps at once.
 *
 * A connection that cannot be opened calls `onerror`, then `onclose` with 1006, and
 * `connect()` rejects (with a `WebSocketHandshakeError` carrying the HTTP `status` when the
 * server answered). After the closing handshake the client waits up to `closeTimeoutMs` for the
 * server to close the TCP connection (RFC 6455 section 7.1.1).
 *
 * With `config.reconnect` on, a connection that drops (any close not asked for with `close()`)
 * is opened again after a backoff: the socket stays the same object, `readyState` is
 * CONNECTING meanwhile, `onreconnecting` and `onreconnected` report it, and `onclose` comes
 * only at the end (after `close()`, or once the client gives up). `send()` while disconnected
 * holds the message (bounded; false past the bound) and sends it, in order, once connected;
 * held messages that are never sent go to `onunsent`. `connect()` itself retries too.
 */
export class ClientWebSocket extends WebSocket {
  /** A connection dropped (or an attempt failed): another attempt follows after `delayMs`. */
  onreconnecting: ((event: ReconnectingEvent) => void) | null = null;
  /** Connected again; held messages have been sent. */
  onreconnected: ((event: ReconnectedEvent) => void) | null = null;
  /** Held messages that will never be sent (the client gave up, or `close()` was called while disconnected). */
  onunsent: ((messages: UnsentMessage[]) => void) | null = null;

  private target: ClientTarget;
  private readonly config: ResolvedClientConfig;
  private readonly reconnect: ResolvedReconnect | null;
  private readonly held: HeldMessages | null;
  private attemptController = new AbortController();
  private opening: Promise<void> | null = null;
  private openedOnce: { resolve(): void; reject(error: Error): void } | null = null;
  private clientTransport: SocketTransport | null = null;
  private ended = false;
  private closeRequested = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private lastClose = new CloseEvent(1006, "", false);

  constructor(url: string | URL, config: ConnectConfig = {}) {
    const resolved = resolveClientConfig(config);
    const target = parseClientUrl(url);
    const reconnect = resolveReconnect(config.reconnect);
    super({ maxBufferedBytes: resolved.maxBufferedBytes });
    this.config = resolved;
    this.target = target;
    this.reconnect = reconnect;
    this.held = reconnect ? new HeldMessages(reconnect) : null;
  }

  /** The URL of the connection (the latest attempt's), normalized (http: becomes ws:, https: becomes wss:). */
  get url(): string {
    return this.target.url.href;
  }

  /** Messages `send()` is holding until the client is connected again. */
  get heldMessages(): number {
    return this.held?.count ?? 0;
  }

  /**
   * Opens the connection: TCP (or TLS, or a Unix socket), then the opening handshake. Resolves
   * once the socket is OPEN (after `onopen`); calling it again returns the same promise. With
   * `reconnect` on, failed attempts are retried; it rejects once the client gives up.
   */
  connect(): Promise<void> {
    this.opening ??= this.reconnect ? this.openWithRetries() : this.openOnce();
    return this.opening;
  }

  override send(data: WebSocketData, options?: SendOptions): boolean {
    if (this.held === null || this.clientTransport !== null) return super.send(data, options);
    if (this.ended) return false;
    // Disconnected: check now what send() would refuse later, then hold it.
    const bytes = typeof data === "string" ? null : bytesOf(data, "send");
    if (bytes !== null && options?.binary === false) requireUtf8(bytes, "send");
    return this.held.hold(data, options);
  }

  /** Closes the connection (1000 by default). While still connecting, abandons the attempt. */
  override close(code = 1000, reason = ""): void {
    this.closeWith(code, reason);
  }

  /**
   * Like `close()`, but `code` undefined sends a close frame without a status code (the peer
   * then reports 1005), as a browser's `close()` without arguments does.
   */
  closeWith(code: number | undefined, reason = ""): void {
    if (this.clientTransport) {
      this.closeRequested = true;
      this.clientTransport.close(code, reason);
      return;
    }
    encodeClosePayload(code, reason); // a bad code or reason throws, even before opening
    this.abandon(new Error("close() was called before the connection opened."));
  }

  override terminate(): void {
    if (this.clientTransport) {
      this.closeRequested = true;
      this.clientTransport.terminate();
    } else this.abandon(new Error("terminate() was called before the connection opened."));
  }

  /** @internal */
  override onTransportClosed(code: number, reason: string, wasClean: boolean): void {
    this.clientTransport = null;
    const event = new CloseEvent(code, reason, wasClean);
    const reconnect = this.reconnect;
    if (reconnect && !this.closeRequested && !this.ended && (reconnect.shouldReconnect === null || reconnect.shouldReconnect(event))) {
      this.detached();
      this.lastClose = event;
      this.attempt = 0;
      this.scheduleAttempt(undefined);
      return;
    }
    this.ended = true;
    this.reportUnsent();
    super.onTransportClosed(code, reason, wasClean);
  }

  private abandon(reason: Error): void {
    if (this.ended || this.readyState === ReadyState.CLOSED) return;
    this.closeRequested = true;
    if (this.retryTimer !== null) {
      // Between attempts: nothing to abort, the socket ends here.
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.end(reason, false);
      return;
    }
    this.attemptController.abort(reason);
    // Not yet started: run the attempt so it fails at once and reports like any other failure.
    if (!this.opening) this.connect().catch(() => undefined);
  }

  private async openOnce(): Promise<void> {
    const result = await this.handshake().catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.failOpening(failure);
      throw failure;
    });
    this.start(result);
  }

  private openWithRetries(): Promise<void> {
    const opened = new Promise<void>((resolve, reject) => (this.openedOnce = { resolve, reject }));
    void this.runAttempt();
    return opened;
  }

  /** One handshake, with the handshake timeout; rejects when it fails or is abandoned. */
  private async handshake(): Promise<HandshakeResult> {
    const controller = new AbortController();
    this.attemptController = controller;
    if (this.closeRequested) controller.abort(new Error("close() was called before the connection opened."));
    const timeoutMs = this.config.handshakeTimeoutMs;
    const timer = setTimeout(() => {
      controller.abort(
        new WebSocketHandshakeError(`The WebSocket handshake with ${this.url} timed out after ${timeoutMs} ms (config.handshakeTimeoutMs).`, {
          url: this.url,
          code: "ETIMEDOUT",
        }),
      );
    }, timeoutMs);
    try {
      return await openHandshake(this.target, this.config, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A reconnecting client's attempt (the first connection counts as one). */
  private async runAttempt(): Promise<void> {
    this.retryTimer = null;
    let result: HandshakeResult;
    try {
      if (this.attempt > 0 && this.reconnect!.url) this.target = parseClientUrl(this.reconnect!.url(this.attempt));
      result = await this.handshake();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (this.closeRequested) this.end(failure, false);
      else if (this.attempt >= this.reconnect!.maxAttempts) this.end(failure, true);
      else this.scheduleAttempt(failure);
      return;
    }
    this.start(result);
  }

  private scheduleAttempt(error: Error | undefined): void {
    this.attempt++;
    const delayMs = reconnectDelay(this.attempt, this.reconnect!);
    this.retryTimer = setTimeout(() => void this.runAttempt(), delayMs);
    const event: ReconnectingEvent = {
      type: "reconnecting",
      attempt: this.attempt,
      delayMs,
      code: this.lastClose.code,
      reason: this.lastClose.reason,
      error,
    };
    this.callUser(this.onreconnecting, event);
  }

  private start(result: HandshakeResult): void {
    const { socket, head, codec } = result;
    this.protocol = result.protocol;
    this.extensions = result.extensions;
    const transport = new SocketTransport(
      socket,
      {
        role: "client",
        maskSource,
        maxMessageBytes: this.config.maxMessageBytes,
        maxFrameBytes: this.config.maxFrameBytes,
        closeTimeoutMs: this.config.closeTimeoutMs,
        pingIntervalMs: this.config.pingIntervalMs,
        pongTimeoutMs: this.config.pongTimeoutMs,
        maxSendBufferBytes: this.config.maxSendBufferBytes,
        ...(codec ? { codec } : {}),
      },
      this.transportListener,
    );
    this.clientTransport = transport;
    this.attach(transport);
    const attempts = this.attempt;
    this.attempt = 0;
    const first = this.openedOnce !== null || this.reconnect === null;
    // Held messages go first, before anything the handlers below send.
    const sentHeld = this.sendHeld();
    if (first) {
      this.notifyOpen();
      this.openedOnce?.resolve();
      this.openedOnce = null;
    } else {
      const event: ReconnectedEvent = { type: "reconnected", attempts, sentHeld };
      this.callUser(this.onreconnected, event);
    }
    // Resume before feeding the head: if the head makes the transport pause, its pause wins.
    socket.resume();
    transport.start(head);
  }

  private sendHeld(): number {
    if (this.held === null || this.held.count === 0) return 0;
    const messages = this.held.takeAll();
    const unsent: UnsentMessage[] = [];
    for (const message of messages) {
      if (unsent.length > 0 || !super.send(message.data, message.options)) unsent.push(message);
    }
    if (unsent.length > 0) this.callUser(this.onunsent, unsent);
    return messages.length - unsent.length;
  }

  /** The connection ended but the socket goes on: no transport, nothing buffered. */
  private detached(): void {
    this.attach(null);
    this.onTransportDrain();
  }

  private reportUnsent(): void {
    if (this.held === null || this.held.count === 0) return;
    this.callUser(this.onunsent, this.held.takeAll());
  }

  /** A reconnecting client stops: it gave up (`failed`), or close() came between attempts. */
  private end(error: Error, failed: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.detached();
    if (failed) this.callUser(this.onerror, error);
    this.reportUnsent();
    this.openedOnce?.reject(error);
    this.openedOnce = null;
    super.onTransportClosed(this.lastClose.code, this.lastClose.reason, false);
  }

  /** The attempt failed: report it as the browser API does, error then close (1006). */
  private failOpening(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.transportListener.error(error);
    this.transportListener.closed(1006, "", false);
  }
}
