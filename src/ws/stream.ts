import type { Buffer } from "node:buffer";
import { Duplex, type DuplexOptions } from "node:stream";
import { ReadyState } from "../protocol/opcodes.js";
import { textOf } from "./data.js";
import type { RawData } from "./types.js";
import type { WebSocket } from "./websocket.js";

/**
 * A Duplex stream over `ws`, as `ws`'s createWebSocketStream makes it: each message is a chunk
 * read (text as a string in object mode), each chunk written is sent as a message. Reading
 * applies backpressure with `pause()`/`resume()`, writing with `send`'s callback; ending the
 * writable side closes the WebSocket, its close ends the readable side, and destroying the
 * stream terminates it.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  // A WebSocket that failed already needs no terminate when the stream is destroyed.
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  ws.on("message", (message: RawData, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? textOf(message) : message;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once("error", (error: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once("close", () => {
    if (!duplex.destroyed) duplex.push(null);
  });

  duplex._destroy = (error, callback) => {
    if (ws.readyState === ReadyState.CLOSED) {
      callback(error);
      process.nextTick(emitClose, duplex);
      return;
    }
    let reported = false;
    ws.once("error", (wsError: Error) => {
      reported = true;
      callback(wsError);
    });
    ws.once("close", () => {
      if (!reported) callback(error);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = (callback) => {
    if (ws.readyState === ReadyState.CONNECTING) {
      ws.once("open", () => duplex._final(callback));
      return;
    }
    const socket = ws._socket;
    if (socket === null) return;
    if (socket.writableFinished) {
      callback();
      if (duplex.readableEnded) duplex.destroy();
      return;
    }
    // Done once our side of the TCP connection is finished (or the connection is gone).
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.removeListener("finish", finish);
      ws.removeListener("close", finish);
      callback();
    };
    socket.once("finish", finish);
    ws.once("close", finish);
    ws.close();
  };

  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = (chunk: Buffer, encoding, callback) => {
    if (ws.readyState === ReadyState.CONNECTING) {
      ws.once("open", () => duplex._write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on("end", function (this: Duplex) {
    if (!this.destroyed && this.writableFinished) this.destroy();
  });
  duplex.on("error", function onError(this: Duplex, error: Error) {
    this.removeListener("error", onError);
    this.destroy();
    // Without a listener of the user's, the error is thrown, as errors of streams are.
    if (this.listenerCount("error") === 0) this.emit("error", error);
  });
  return duplex;
}

function emitClose(stream: Duplex): void {
  stream.emit("close");
}
