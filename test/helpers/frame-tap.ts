// A TCP proxy that sits between a WebSocket client and server and records what crossed it:
// the opening handshake's headers and the header of every frame, in both directions. Tests
// use it to see what a peer really sent (was permessage-deflate agreed? did frames carry
// RSV1? how big was each compressed frame?) without trusting either end's own report.
// Bytes are passed on unchanged; payloads are skipped, not buffered (control frames excepted).
import { Buffer } from "node:buffer";
import { createServer, connect, type Server, type Socket } from "node:net";
import { withTimeout } from "./wait.js";

/** One frame's header as it crossed the wire (RFC 6455 section 5.2). */
export interface TappedFrame {
  fin: boolean;
  /** RSV1: set on the first frame of a compressed message (RFC 7692 section 6). */
  rsv1: boolean;
  /** RSV1..RSV3 as a 3-bit number. */
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Payload length on the wire (compressed length, for compressed messages). */
  length: number;
  /** Unmasked payload of control frames (close, ping, pong); undefined for data frames. */
  payload?: Buffer;
}

/** A data message, put together from its frames. */
export interface TappedMessage {
  /** 1 text, 2 binary. */
  opcode: number;
  /** RSV1 on the first frame: the message was sent compressed. */
  compressed: boolean;
  frames: number;
  /** Sum of the frames' payload lengths, as sent. */
  wireBytes: number;
}

export interface TappedHead {
  /** The request line or status line. */
  startLine: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
}

export class TapConnection {
  request: TappedHead | null = null;
  response: TappedHead | null = null;
  /** Frames the client sent, in order. */
  readonly toServer: TappedFrame[] = [];
  /** Frames the server sent, in order. */
  readonly toClient: TappedFrame[] = [];
  /** Resolves when both TCP connections are closed. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor() {
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** The HTTP status the server answered with (0 before the answer). */
  get status(): number {
    return Number(/^HTTP\/1\.[01] (\d{3})/.exec(this.response?.startLine ?? "")?.[1] ?? 0);
  }

  /** The client's Sec-WebSocket-Extensions offer ("" when none). */
  get offeredExtensions(): string {
    return this.request?.headers["sec-websocket-extensions"] ?? "";
  }

  /** The server's Sec-WebSocket-Extensions answer ("" when none). */
  get agreedExtensions(): string {
    return this.response?.headers["sec-websocket-extensions"] ?? "";
  }

  messagesToServer(): TappedMessage[] {
    return groupMessages(this.toServer);
  }

  messagesToClient(): TappedMessage[] {
    return groupMessages(this.toClient);
  }

  /** @internal */
  markClosed(): void {
    this.#resolveClosed();
  }
}

/** Data frames grouped into messages; control frames interleaved between fragments are left out. */
export function groupMessages(frames: readonly TappedFrame[]): TappedMessage[] {
  const messages: TappedMessage[] = [];
  let current: TappedMessage | null = null;
  for (const frame of frames) {
    if (frame.opcode >= 8) continue;
    if (frame.opcode !== 0) current = { opcode: frame.opcode, compressed: frame.rsv1, frames: 0, wireBytes: 0 };
    if (!current) throw new Error("frame tap: a continuation frame with no message to continue");
    current.frames++;
    current.wireBytes += frame.length;
    if (frame.fin) {
      messages.push(current);
      current = null;
    }
  }
  return messages;
}

/**
 * Reads one direction of a connection: an HTTP head, then (after a 101) frame headers.
 * Works on chunks as they come, whatever their boundaries.
 */
class StreamReader {
  #phase: "head" | "frames" | "raw" = "head";
  #buffered: Buffer = Buffer.alloc(0);
  /** Payload bytes of the current data frame still to skip. */
  #skip = 0;

  constructor(
    private readonly onHead: (head: TappedHead) => "frames" | "raw",
    private readonly frames: TappedFrame[],
  ) {}

  /** Stops (or restarts) frame parsing from outside, e.g. when the handshake was refused. */
  setPhase(phase: "frames" | "raw"): void {
    this.#phase = phase;
  }

  feed(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0 && this.#phase !== "raw") {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, data.length);
        this.#skip -= skipped;
        data = data.subarray(skipped);
        continue;
      }
      this.#buffered = this.#buffered.length === 0 ? data : Buffer.concat([this.#buffered, data]);
      data = Buffer.alloc(0);
      const consumed = this.#phase === "head" ? this.#readHead() : this.#readFrameHeader();
      if (consumed === 0) return; // need more bytes
      data = this.#buffered.subarray(consumed);
      this.#buffered = Buffer.alloc(0);
    }
  }

  #readHead(): number {
    const end = this.#buffered.indexOf("\r\n\r\n");
    if (end === -1) return 0;
    const [startLine = "", ...lines] = this.#buffered.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    this.#phase = this.onHead({ startLine, headers });
    return end + 4;
  }

  #readFrameHeader(): number {
    const bytes = this.#buffered;
    if (bytes.length < 2) return 0;
    const b0 = bytes[0]!;
    const b1 = bytes[1]!;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (bytes.length < 4) return 0;
      length = bytes.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return 0;
      length = Number(bytes.readBigUInt64BE(2));
      offset = 10;
    }
    const keyAt = offset;
    if (masked) offset += 4;
    if (bytes.length < offset) return 0;
    const opcode = b0 & 0x0f;
    const frame: TappedFrame = { fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, rsv: (b0 >> 4) & 7, opcode, masked, length };
    if (opcode >= 8) {
      // Control frames are at most 125 bytes (section 5.5): keep them to read close codes.
      if (bytes.length < offset + length) return 0;
      const payload = Buffer.from(bytes.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= bytes[keyAt + (i & 3)]!;
      frame.payload = payload;
      this.frames.push(frame);
      return offset + length;
    }
    this.frames.push(frame);
    // Skip the payload: whatever of it is buffered now, the rest as it arrives.
    const available = Math.min(length, bytes.length - offset);
    this.#skip = length - available;
    return offset + available;
  }
}

/** The close code in a tapped close frame (1005 when it carries none). */
export function tappedCloseCode(frames: readonly TappedFrame[]): number | undefined {
  const close = frames.find((frame) => frame.opcode === 8);
  if (!close?.payload) return undefined;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

export class FrameTap {
  readonly connections: TapConnection[] = [];
  /** nextConnection() calls waiting, by the index of the connection they wait for. */
  readonly #waiters = new Map<number, (connection: TapConnection) => void>();
  #taken = 0;
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (port 0) and forwards every connection to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number): Promise<FrameTap> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("frame tap: no TCP address");
    const tap = new FrameTap(server, address.port);
    server.on("connection", (client: Socket) => tap.#relay(client, targetPort));
    return tap;
  }

  /** "ws://127.0.0.1:PORT" (append a path). */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The next connection through the tap not yet taken by this method, in connection order. */
  nextConnection(timeoutMs = 5000): Promise<TapConnection> {
    const index = this.#taken++;
    const ready = this.connections[index];
    if (ready) return Promise.resolve(ready);
    return withTimeout(new Promise<TapConnection>((resolve) => this.#waiters.set(index, resolve)), timeoutMs, "a connection through the frame tap");
  }

  /** Cuts every relayed connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #relay(client: Socket, targetPort: number): void {
    const connection = new TapConnection();
    this.connections.push(connection);
    const index = this.connections.length - 1;
    const server = connect({ port: targetPort, host: "127.0.0.1", noDelay: true });
    client.setNoDelay(true);
    for (const socket of [client, server]) {
      this.#sockets.add(socket);
      socket.on("error", () => undefined); // resets are part of several tests; both sides are destroyed on close
    }
    // A client may send frames right behind its request, before the answer: read them as frames.
    const fromClient = new StreamReader((head) => {
      connection.request = head;
      return "frames";
    }, connection.toServer);
    const fromServer = new StreamReader((head) => {
      connection.response = head;
      if (connection.status === 101) return "frames";
      fromClient.setPhase("raw"); // no WebSocket: whatever the client sends next is not frames
      return "raw";
    }, connection.toClient);
    pipe(client, server, (chunk) => fromClient.feed(chunk));
    pipe(server, client, (chunk) => fromServer.feed(chunk));
    let open = 2;
    const closedOne = (): void => {
      if (--open === 0) connection.markClosed();
    };
    for (const [socket, other] of [
      [client, server],
      [server, client],
    ] as const) {
      socket.on("close", () => {
        this.#sockets.delete(socket);
        closedOne();
        // Let the other side finish sending what it has, then drop it.
        if (other.destroyed) return;
        if (other.writableFinished) other.destroy();
        else {
          other.once("finish", () => other.destroy());
          other.end();
        }
      });
    }
    this.#waiters.get(index)?.(connection);
    this.#waiters.delete(index);
  }
}

/** Forwards `from` to `to` with backpressure, showing each chunk to `observe` first. */
function pipe(from: Socket, to: Socket, observe: (chunk: Buffer) => void): void {
  from.on("data", (chunk: Buffer) => {
    observe(chunk);
    if (!to.write(chunk)) from.pause();
  });
  to.on("drain", () => from.resume());
  from.on("end", () => to.end());
}
