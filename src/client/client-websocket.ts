import { randomFillSync } from "node:crypto";
import { encodeClosePayload } from "../protocol/close.js";
import { randomMaskSource } from "../protocol/mask.js";
import { ReadyState } from "../protocol/opcodes.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { WebSocket } from "../websocket/websocket.js";
import { resolveClientConfig, type ClientConfig, type ResolvedClientConfig } from "./config.js";
import { WebSocketHandshakeError } from "./errors.js";
import { openHandshake, type HandshakeResult } from "./handshake.js";
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
 */
export class ClientWebSocket extends WebSocket {
  /** The URL as given, normalized (http: becomes ws:, https: becomes wss:). */
  readonly url: string;
  private readonly target: ClientTarget;
  private readonly config: ResolvedClientConfig;
  private readonly abortController = new AbortController();
  private opening: Promise<void> | null = null;
  private clientTransport: SocketTransport | null = null;
  private ended = false;

  constructor(url: string | URL, config: ClientConfig = {}) {
    const resolved = resolveClientConfig(config);
    const target = parseClientUrl(url);
    super({ maxBufferedBytes: resolved.maxBufferedBytes });
    this.config = resolved;
    this.target = target;
    this.url = target.url.href;
  }

  /**
   * Opens the connection: TCP (or TLS, or a Unix socket), then the opening handshake. Resolves
   * once the socket is OPEN (after `onopen`); calling it again returns the same promise.
   */
  connect(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
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
      this.clientTransport.close(code, reason);
      return;
    }
    encodeClosePayload(code, reason); // a bad code or reason throws, even before opening
    this.abandon(new Error("close() was called before the connection opened."));
  }

  override terminate(): void {
    if (this.clientTransport) this.clientTransport.terminate();
    else this.abandon(new Error("terminate() was called before the connection opened."));
  }

  private abandon(reason: Error): void {
    if (this.ended || this.readyState === ReadyState.CLOSED) return;
    this.abortController.abort(reason);
    // Not yet started: run the attempt so it fails at once and reports like any other failure.
    if (!this.opening) this.connect().catch(() => undefined);
  }

  private async open(): Promise<void> {
    const controller = this.abortController;
    const timeoutMs = this.config.handshakeTimeoutMs;
    const timer = setTimeout(() => {
      controller.abort(
        new WebSocketHandshakeError(`The WebSocket handshake with ${this.url} timed out after ${timeoutMs} ms (config.handshakeTimeoutMs).`, {
          url: this.url,
          code: "ETIMEDOUT",
        }),
      );
    }, timeoutMs);
    let result: HandshakeResult;
    try {
      result = await openHandshake(this.target, this.config, controller.signal);
    } catch (error) {
      this.failOpening(error instanceof Error ? error : new Error(String(error)));
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.start(result);
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
    this.notifyOpen();
    // Resume before feeding the head: if the head makes the transport pause, its pause wins.
    socket.resume();
    transport.start(head);
  }

  /** The attempt failed: report it as the browser API does, error then close (1006). */
  private failOpening(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.transportListener.error(error);
    this.transportListener.closed(1006, "", false);
  }
}
