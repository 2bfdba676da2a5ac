// The `ws` npm client as a test peer: connects, and records every message and the close from
// the first moment, so nothing sent right after the handshake can be missed.
import { Buffer } from "node:buffer";
import WebSocket, { type ClientOptions } from "ws";
import { withTimeout } from "./wait.js";

export interface PeerMessage {
  isBinary: boolean;
  /** The payload bytes (text too, as UTF-8). */
  data: Buffer;
  /** The payload as text. */
  text: string;
}

export interface PeerClose {
  code: number;
  reason: string;
}

/** A connected `ws` client with an inbox. */
export class WsPeer {
  private readonly inbox: PeerMessage[] = [];
  private readonly waiters: Array<(message: PeerMessage) => void> = [];
  readonly pongs: Buffer[] = [];
  readonly pings: Buffer[] = [];
  /** Resolves when the connection closes, with the code and reason the client saw. */
  readonly closed: Promise<PeerClose>;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const message = { isBinary, data: bytes, text: bytes.toString("utf8") };
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
    ws.on("ping", (data: Buffer) => this.pings.push(data));
    ws.on("pong", (data: Buffer) => this.pongs.push(data));
    // Errors (e.g. a refused handshake) end in "close" as well; tests look at that or at open().
    ws.on("error", () => undefined);
    this.closed = new Promise((resolve) => {
      ws.on("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString("utf8") }));
    });
  }

  /** Opens a connection; rejects (with the HTTP status, when there is one) if the handshake fails. */
  static connect(url: string, options: ClientOptions & { protocols?: string | string[] } = {}): Promise<WsPeer> {
    const { protocols, ...clientOptions } = options;
    const ws = new WebSocket(url, protocols, clientOptions);
    const peer = new WsPeer(ws);
    return withTimeout(
      new Promise<WsPeer>((resolve, reject) => {
        ws.once("open", () => resolve(peer));
        ws.once("unexpected-response", (_request, response) => {
          reject(Object.assign(new Error(`Handshake refused with HTTP ${response.statusCode}`), { status: response.statusCode }));
          response.resume();
          ws.terminate();
        });
        ws.once("error", reject);
      }),
      5000,
      `a WebSocket connection to ${url}`,
    );
  }

  /** The next message, in arrival order. */
  next(timeoutMs = 5000): Promise<PeerMessage> {
    const ready = this.inbox.shift();
    if (ready) return Promise.resolve(ready);
    return withTimeout(new Promise<PeerMessage>((resolve) => this.waiters.push(resolve)), timeoutMs, "a message from the server");
  }

  /** Messages received and not taken yet. */
  get unread(): number {
    return this.inbox.length;
  }

  send(data: string | Uint8Array, options: { binary?: boolean; fin?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, options, (error) => (error ? reject(error) : resolve())));
  }

  /** Closes (if still open) and waits for the close to finish. */
  async close(code?: number, reason?: string): Promise<PeerClose> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    return withTimeout(this.closed, 5000, "the client to close");
  }

  /** Drops the connection without a closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}
