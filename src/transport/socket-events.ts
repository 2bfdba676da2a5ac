import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";

/** What a socket's events are delivered to. */
export interface SocketEventTarget {
  onData(chunk: Buffer): void;
  onEnd(): void;
  onSocketError(error: Error): void;
  onSocketClose(): void;
  onDrain(): void;
}

const kTarget = Symbol("hawser.transport");

type OwnedSocket = Duplex & { [kTarget]: SocketEventTarget };

/**
 * Subscribes `target` to `socket`'s events through shared listener functions that find the
 * target on the socket: no closures per connection, which matters with many idle sockets.
 */
export function listenToSocket(socket: Duplex, target: SocketEventTarget): void {
  (socket as OwnedSocket)[kTarget] = target;
  socket.on("data", socketOnData);
  socket.on("end", socketOnEnd);
  socket.on("error", socketOnError);
  socket.on("close", socketOnClose);
  socket.on("drain", socketOnDrain);
}

function socketOnData(this: OwnedSocket, chunk: Buffer): void {
  this[kTarget].onData(chunk);
}

function socketOnEnd(this: OwnedSocket): void {
  this[kTarget].onEnd();
}

function socketOnError(this: OwnedSocket, error: Error): void {
  this[kTarget].onSocketError(error);
}

function socketOnClose(this: OwnedSocket): void {
  this[kTarget].onSocketClose();
}

function socketOnDrain(this: OwnedSocket): void {
  this[kTarget].onDrain();
}
