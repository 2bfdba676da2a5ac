import { Buffer } from "node:buffer";
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** Where a handler's plain-HTTP answer goes: a node:http response, or the raw socket of an upgrade request. */
export interface Responder {
  readonly finished: boolean;
  readonly headersSent: boolean;
  setStatus(status: number): void;
  setHeader(name: string, value: string): void;
  /** Writes body bytes; `isAll` says this is the whole (rest of the) body, so the response ends. */
  write(data: string | Uint8Array, isAll: boolean): void;
  /** Ends the response (the handler is done). */
  finish(): void;
  /** Answers with an error status, if nothing has been sent yet. */
  fail(status: number, message: string, headers?: Record<string, string>): void;
}

export class HttpResponder implements Responder {
  /** A node:http response, or node:http2's compatibility response (HTTP/2 requests, RFC 8441 refusals). */
  constructor(private readonly res: ServerResponse | Http2ServerResponse) {}

  get finished(): boolean {
    return this.res.writableEnded;
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  setStatus(status: number): void {
    this.res.statusCode = status;
  }

  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }

  write(data: string | Uint8Array, isAll: boolean): void {
    if (this.res.writableEnded) throw new Error("write() after the response ended: write(data, true) ends it.");
    if (!this.res.headersSent && !this.res.hasHeader("content-type")) {
      this.res.setHeader("Content-Type", "text/plain; charset=utf-8");
    }
    if (isAll) {
      if (!this.res.headersSent) this.res.setHeader("Content-Length", Buffer.byteLength(data));
      this.res.end(data);
    } else {
      // The two response classes declare write() differently; both take a string or bytes.
      (this.res as ServerResponse).write(data);
    }
  }

  finish(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  fail(status: number, message: string, headers: Record<string, string> = {}): void {
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    this.res.statusCode = status;
    for (const [name, value] of Object.entries(headers)) this.res.setHeader(name, value);
    this.write(message + "\n", true);
  }
}

/**
 * Answers an upgrade request that was not accepted, straight on its socket (node:http leaves
 * such sockets to us). The body is buffered so the answer goes out with a Content-Length.
 */
export class RawSocketResponder implements Responder {
  private status = 200;
  private readonly headers = new Map<string, [string, string]>();
  private readonly body: Buffer[] = [];
  private ended = false;
  private sent = false;

  constructor(private readonly socket: Duplex) {}

  get finished(): boolean {
    return this.ended;
  }

  get headersSent(): boolean {
    return this.sent;
  }

  /** The socket now belongs to a WebSocket: this responder must not touch it. */
  detach(): void {
    this.ended = true;
    this.sent = true;
  }

  setStatus(status: number): void {
    this.status = status;
  }

  setHeader(name: string, value: string): void {
    this.headers.set(name.toLowerCase(), [name, value]);
  }

  write(data: string | Uint8Array, isAll: boolean): void {
    if (this.ended) throw new Error("write() after the response ended: write(data, true) ends it.");
    this.body.push(typeof data === "string" ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (isAll) this.finish();
  }

  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.sent = true;
    const body = Buffer.concat(this.body);
    if (!this.headers.has("content-type")) this.setHeader("Content-Type", "text/plain; charset=utf-8");
    this.setHeader("Content-Length", String(body.length));
    this.setHeader("Connection", "close");
    let head = `HTTP/1.1 ${this.status} ${STATUS_CODES[this.status] ?? "Unknown"}\r\n`;
    for (const [name, value] of this.headers.values()) head += `${name}: ${value}\r\n`;
    if (this.socket.writable) this.socket.end(Buffer.concat([Buffer.from(head + "\r\n"), body]));
    else this.socket.destroy();
  }

  fail(status: number, message: string, headers: Record<string, string> = {}): void {
    if (this.ended) {
      if (!this.sent) this.socket.destroy();
      return;
    }
    this.body.length = 0;
    this.headers.clear();
    this.status = status;
    for (const [name, value] of Object.entries(headers)) this.setHeader(name, value);
    this.write(message + "\n", true);
  }
}
