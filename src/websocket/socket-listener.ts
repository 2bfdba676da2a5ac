import type { Buffer } from "node:buffer";
import type { TransportListener } from "../transport/types.js";
import type { WebSocket } from "./websocket.js";

/**
 * What the transport reports to, and the receive buffer's flow control: one small object per
 * socket with its methods on the prototype, rather than a closure per event.
 */
export class SocketListener implements TransportListener {
  constructor(private readonly socket: WebSocket) {}

  message(opcode: number, data: Buffer): void {
    this.socket.onTransportMessage(opcode, data);
  }
  ping(data: Buffer): void {
    this.socket.callUser(this.socket.onping, data);
  }
  pong(data: Buffer): void {
    this.socket.callUser(this.socket.onpong, data);
  }
  closeReceived(): void {}
  error(error: Error): void {
    this.socket.callUser(this.socket.onerror, error);
  }
  closed(code: number, reason: string, wasClean: boolean): void {
    this.socket.onTransportClosed(code, reason, wasClean);
  }
  drain(): void {
    this.socket.onTransportDrain();
  }
  pause(): void {
    this.socket.setReceiverPaused(true);
  }
  resume(): void {
    this.socket.setReceiverPaused(false);
  }
}
