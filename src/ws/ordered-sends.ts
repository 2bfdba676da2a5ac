import { Buffer } from "node:buffer";
import { ReadyState } from "../protocol/opcodes.js";
import { EMPTY_BUFFER, isBlob, payloadOf, toBuffer } from "./data.js";
import { transmit, transmitControl } from "./sending.js";
import type { SendCallback } from "./types.js";
import type { WebSocket } from "./websocket.js";

type Pending =
  | { kind: "send"; data: unknown; binary: boolean; compress: boolean; fin: boolean; cb: SendCallback | undefined }
  | { kind: "control"; opcode: number; data: unknown; cb: SendCallback | undefined }
  | { kind: "close"; code: number | undefined; reason: string };

const CONTROL_PAYLOAD_MAX_BYTES = 125;

/**
 * Keeps a socket's sends in order while a Blob is read (`blob.arrayBuffer()` is asynchronous):
 * from the first Blob until the queue is empty again, every send, ping, pong and the close
 * wait their turn here. A Blob is read once what was sent before it has been written, as
 * `ws` reads it when its sender reaches it. A socket makes one only when it is sent a Blob.
 */
export class OrderedSends {
  private entries: Pending[] = [];
  private running = false;
  /** Set when the connection ended: what still waits is reported with it. */
  private ended: Error | null = null;

  constructor(private readonly socket: WebSocket) {}

  send(data: unknown, binary: boolean, compress: boolean, fin: boolean, cb: SendCallback | undefined): void {
    this.push({ kind: "send", data, binary, compress, fin, cb });
  }

  control(opcode: number, data: unknown, cb: SendCallback | undefined): void {
    if (!isBlob(data) && data && toBuffer(data).length > CONTROL_PAYLOAD_MAX_BYTES) {
      throw new RangeError("The data size must not be greater than 125 bytes");
    }
    this.push({ kind: "control", opcode, data, cb });
  }

  close(code: number | undefined, reason: string): void {
    this.push({ kind: "close", code, reason });
  }

  /** The connection ended: waiting callbacks are told with `error` (after a Blob being read, if one is). */
  abandon(error: Error): void {
    this.ended ??= error;
    if (!this.running) this.tellAll(this.ended);
  }

  private push(entry: Pending): void {
    this.entries.push(entry);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    const socket = this.socket;
    while (this.entries.length > 0 && this.ended === null) {
      const entry = this.entries[0]!;
      let data = entry.kind === "close" ? undefined : entry.data;
      if (isBlob(data)) {
        await this.earlierWritten();
        if (this.ended !== null) break;
        try {
          data = Buffer.from(await data.arrayBuffer());
        } catch (error) {
          this.failed(error as Error);
          return;
        }
        if (socket._socket?.destroyed) this.ended ??= new Error("The socket was closed while the blob was being read");
        if (this.ended !== null) break;
      }
      this.entries.shift();
      if (entry.kind === "close") {
        socket._transport!.close(entry.code, entry.reason);
      } else if (entry.kind === "send") {
        transmit(socket, payloadOf(data), entry.binary, entry.compress, entry.fin, entry.cb);
      } else {
        const payload = data ? toBuffer(data) : EMPTY_BUFFER;
        if (payload.length > CONTROL_PAYLOAD_MAX_BYTES) entry.cb?.(new RangeError("The data size must not be greater than 125 bytes"));
        else transmitControl(socket, entry.opcode, payload, entry.cb);
      }
    }
    this.running = false;
    if (this.ended !== null) {
      this.tellAll(this.ended);
    } else if (socket._ordered === this) {
      socket._ordered = null;
    }
  }

  /** Resolves once what was sent before has been written (at once when nothing is pending). */
  private earlierWritten(): Promise<void> {
    const transport = this.socket._transport;
    if (transport === null || transport.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => transport.afterWrite(() => resolve()));
  }

  private tellAll(error: Error): void {
    const entries = this.entries;
    this.entries = [];
    for (const entry of entries) if (entry.kind !== "close") entry.cb?.(error);
  }

  /** A Blob could not be read: its callback and those behind it get the error, then the socket errors and ends. */
  private failed(error: Error): void {
    const socket = this.socket;
    this.running = false;
    this.ended ??= error;
    process.nextTick(() => {
      this.tellAll(error);
      if (socket.readyState === ReadyState.CLOSED) return;
      socket._readyState = ReadyState.CLOSING;
      socket._emitError(error);
      socket._socket?.end();
    });
  }
}
