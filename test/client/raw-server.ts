// A fake WebSocket server over raw TCP for client tests: it reads the client's handshake and
// lets each test answer however it likes (wrong accept keys, unrequested subprotocols,
// redirects, silence), then decodes the client's frames with the independent test codec.
import { Buffer } from "node:buffer";
import { createServer, type Server, type Socket } from "node:net";
import { decodeFrame, encodeFrame, type DecodedFrame, type FrameSpec } from "../helpers/frames.js";
import { expectedAccept } from "../helpers/raw-client.js";

export interface RawRequest {
  method: string;
  /** The request target, e.g. "/chat?x=1". */
  path: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The request head as received. */
  raw: string;
}

export class RawConnection {
  /** Every frame received from the client after the handshake, in order. */
  readonly frames: DecodedFrame[] = [];
  private buffered = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(
    readonly socket: Socket,
    readonly request: RawRequest,
    rest: Buffer,
  ) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    if (rest.length > 0) this.receive(rest);
  }

  /** The 101 answer for this request's key, plus `extraHeaders` lines. */
  acceptResponse(extraHeaders: string[] = []): string {
    const key = this.request.headers["sec-websocket-key"] ?? "";
    return (
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${expectedAccept(key)}\r\n` +
      extraHeaders.map((line) => `${line}\r\n`).join("") +
      "\r\n"
    );
  }

  accept(extraHeaders: string[] = []): void {
    this.socket.write(this.acceptResponse(extraHeaders));
  }

  /** Sends an unmasked (server) frame. */
  sendFrame(spec: Omit<FrameSpec, "mask">): void {
    if (this.socket.writableEnded || this.socket.destroyed) return;
    this.socket.write(encodeFrame({ ...spec, mask: false }));
  }

  /** Resolves with frame number `index` (0-based) once it has arrived. */
  async frame(index: number, timeoutMs = 5000): Promise<DecodedFrame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length <= index) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for client frame #${index} (got ${this.frames.length}).`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames[index]!;
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const decoded = decodeFrame(this.buffered);
      if (!decoded) break;
      this.frames.push(decoded.frame);
      this.buffered = this.buffered.subarray(decoded.size);
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export interface RawServer {
  readonly port: number;
  /** "ws://127.0.0.1:PORT" */
  readonly url: string;
  readonly connections: RawConnection[];
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1; for each connection, reads the request head and calls `onRequest`,
 * which answers through `connection.socket` (or `accept()`).
 */
export async function startRawServer(onRequest: (connection: RawConnection) => void): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      const raw = head.subarray(0, end).toString("latin1");
      const [requestLine = "", ...lines] = raw.split("\r\n");
      const [method = "", path = ""] = requestLine.split(" ");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      const connection = new RawConnection(socket, { method, path, headers, raw }, head.subarray(end + 4));
      connections.push(connection);
      onRequest(connection);
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain HTTP response with a body, closing the connection. */
export function httpResponse(status: string, headers: string[] = [], body = ""): string {
  return (
    `HTTP/1.1 ${status}\r\n` +
    [...headers, `Content-Length: ${Buffer.byteLength(body)}`, "Connection: close"].map((line) => `${line}\r\n`).join("") +
    "\r\n" +
    body
  );
}
