// A raw TCP client for tests: sends arbitrary bytes (malformed HTTP, hand-built frames) and
// reads back HTTP responses and WebSocket frames, with a deadline on every read.
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { decodeFrame, encodeFrame, frameSize, type DecodedFrame, type FrameSpec } from "./frames.js";

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface CloseInfo {
  /** The socket closed because of an error (e.g. ECONNRESET) rather than a clean FIN. */
  hadError: boolean;
  /** Date.now() when the socket closed. */
  at: number;
}

/** The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 section 4.2.2). */
export function expectedAccept(key: string): string {
  return createHash("sha1")
    .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    .digest("base64");
}

export function randomKey(): string {
  return randomBytes(16).toString("base64");
}

export interface UpgradeRequestOptions {
  method?: string;
  path?: string;
  /** Defaults to a fresh random key; `null` leaves the header out. */
  key?: string | null;
  /** Defaults to "13"; `null` leaves the header out. */
  version?: string | null;
  /** Defaults to "websocket"; `null` leaves the header out. */
  upgrade?: string | null;
  /** Defaults to "Upgrade"; `null` leaves the header out. */
  connection?: string | null;
  /** More header lines, sent in order after the standard ones. */
  headers?: Array<[string, string]>;
}

/** The text of an opening handshake request (section 4.1), each part overridable. */
export function upgradeRequest(options: UpgradeRequestOptions = {}): { text: string; key: string } {
  const key = options.key === undefined ? randomKey() : options.key;
  const lines = [`${options.method ?? "GET"} ${options.path ?? "/"} HTTP/1.1`, "Host: 127.0.0.1"];
  const upgrade = options.upgrade === undefined ? "websocket" : options.upgrade;
  const connection = options.connection === undefined ? "Upgrade" : options.connection;
  const version = options.version === undefined ? "13" : options.version;
  if (upgrade !== null) lines.push(`Upgrade: ${upgrade}`);
  if (connection !== null) lines.push(`Connection: ${connection}`);
  if (key !== null) lines.push(`Sec-WebSocket-Key: ${key}`);
  if (version !== null) lines.push(`Sec-WebSocket-Version: ${version}`);
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  return { text: lines.join("\r\n") + "\r\n\r\n", key: key ?? "" };
}

export class RawClient {
  /**
   * Received bytes not yet consumed by a read, as they came: joined only when a read needs
   * them, so megabytes piling up while nobody reads cost no copying.
   */
  private chunks: Buffer[] = [];
  private pendingLength = 0;
  private readonly wakers = new Set<() => void>();
  private closeInfo: CloseInfo | null = null;
  private finReceived = false;
  /** Date.now() when the server first ended the connection (FIN or reset), or null. */
  endedAt: number | null = null;
  /** Every byte received, consumed or not. */
  totalReceived = 0;
  /** Resolves when the TCP connection is fully closed. */
  readonly closed: Promise<CloseInfo>;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.totalReceived += chunk.length;
      this.chunks.push(chunk);
      this.pendingLength += chunk.length;
      this.wake();
    });
    socket.on("end", () => {
      this.finReceived = true;
      this.endedAt ??= Date.now();
      this.wake();
    });
    // Resets are expected in several tests; they show up in `closed.hadError`.
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) => {
      socket.on("close", (hadError) => {
        this.closeInfo = { hadError, at: Date.now() };
        this.endedAt ??= this.closeInfo.at;
        this.wake();
        resolve(this.closeInfo);
      });
    });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, noDelay: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Connects and completes a valid opening handshake; throws unless the answer is a correct 101. */
  static async open(port: number, options: UpgradeRequestOptions = {}): Promise<{ client: RawClient; response: HttpResponse }> {
    const client = await RawClient.connect(port);
    const request = upgradeRequest(options);
    client.write(request.text);
    const response = await client.readHttpResponse();
    if (response.status !== 101 || response.headers["sec-websocket-accept"] !== expectedAccept(request.key)) {
      client.destroy();
      throw new Error(`Handshake failed: ${response.status} ${response.statusText} ${response.body.toString()}`);
    }
    return { client, response };
  }

  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** The peer sent FIN (it may still read what we send). */
  get ended(): boolean {
    return this.finReceived;
  }

  write(data: string | Uint8Array): boolean {
    return this.socket.write(data);
  }

  sendFrame(spec: FrameSpec): boolean {
    return this.write(encodeFrame(spec));
  }

  /** Stops reading from the kernel (the server's writes pile up in TCP buffers). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads one HTTP response (head, then a Content-Length body, or everything until close). */
  async readHttpResponse(timeoutMs = 3000): Promise<HttpResponse> {
    const head = await this.read(
      (bytes) => {
        const end = bytes.indexOf("\r\n\r\n");
        return end === -1 ? null : { value: bytes.subarray(0, end).toString("latin1"), size: end + 4 };
      },
      timeoutMs,
      "an HTTP response head",
    );
    const [statusLine = "", ...headerLines] = head.split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
    if (!match) throw new Error(`Not an HTTP status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(match[1]);
    let body: Buffer = Buffer.alloc(0);
    if (status !== 101) {
      const length = headers["content-length"];
      if (length !== undefined) {
        const size = Number(length);
        body = await this.read<Buffer>(
          (bytes) => (bytes.length >= size ? { value: bytes.subarray(0, size), size } : { need: size }),
          timeoutMs,
          "the response body",
        );
      } else if (!headers["transfer-encoding"]) {
        await this.waitForClose(timeoutMs);
        body = this.takeAll();
      }
    }
    return { status, statusText: match[2] ?? "", headers, body };
  }

  /** Reads the next WebSocket frame the server sent. */
  readFrame(timeoutMs = 3000): Promise<DecodedFrame> {
    return this.read<DecodedFrame>(
      (bytes) => {
        const decoded = decodeFrame(bytes);
        if (decoded) return { value: decoded.frame, size: decoded.size };
        // Once the header is in, wait for the whole frame before looking again.
        const size = frameSize(bytes);
        return size === null ? null : { need: size };
      },
      timeoutMs,
      "a WebSocket frame",
    );
  }

  /** Reads frames until one with `opcode` arrives; returns all of them, that one last. */
  async readFramesUntil(opcode: number, timeoutMs = 3000): Promise<DecodedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    const frames: DecodedFrame[] = [];
    for (;;) {
      const frame = await this.readFrame(Math.max(1, deadline - Date.now()));
      frames.push(frame);
      if (frame.opcode === opcode) return frames;
    }
  }

  /** Waits until the connection is closed (FIN and close, or reset); fails after `timeoutMs`. */
  async waitForClose(timeoutMs = 3000): Promise<CloseInfo> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closeInfo) {
      // A half-closed socket (FIN received) stays open until we end our side too.
      if (this.finReceived && !this.socket.writableEnded) this.socket.end();
      if (!(await this.nextEvent(deadline - Date.now()))) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for the server to close the connection.`);
      }
    }
    return this.closeInfo;
  }

  /** Takes every received byte not consumed yet. */
  takeAll(): Buffer {
    const out = this.pending();
    this.chunks = [];
    this.pendingLength = 0;
    return out;
  }

  /** The unconsumed bytes as one buffer. */
  private pending(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.pendingLength)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /**
   * Waits until `parse` finds a complete item in the unconsumed bytes and consumes it. `parse`
   * returns null to look again at the next data, or `{ need }` to wait for that many bytes.
   */
  private async read<T>(parse: (bytes: Buffer) => { value: T; size: number } | { need: number } | null, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let need = 0;
    for (;;) {
      if (this.pendingLength >= need) {
        const bytes = this.pending();
        const parsed = parse(bytes);
        if (parsed && "value" in parsed) {
          const rest = bytes.subarray(parsed.size);
          this.chunks = rest.length > 0 ? [rest] : [];
          this.pendingLength = rest.length;
          return parsed.value;
        }
        need = parsed ? parsed.need : this.pendingLength + 1;
      }
      if (this.closeInfo || this.finReceived) {
        throw new Error(`The connection ended before ${what} arrived (${this.pendingLength} bytes pending).`);
      }
      if (!(await this.nextEvent(deadline - Date.now()))) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${this.pendingLength} bytes pending).`);
      }
    }
  }

  /** Resolves true on the next data/end/close, false when `ms` passes first. */
  private nextEvent(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waker = (): void => {
        clearTimeout(timer);
        this.wakers.delete(waker);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.wakers.delete(waker);
        resolve(false);
      }, ms);
      this.wakers.add(waker);
    });
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}
