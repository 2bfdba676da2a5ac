import { Buffer } from "node:buffer";
import { PreparedMessage } from "../transport/prepared-message.js";
import type { SocketTransport } from "../transport/socket-transport.js";

type DataOpcode = 1 | 2;

// A broadcast loop (`for (const client of wss.clients) client.send(data)`) sends one message to
// many server-side sockets. Server frames are not masked (RFC 6455 section 5.1), so the frame
// encoded for one socket is valid for all, as hawser's own publish() uses it: from the second
// socket the same message is sent to, it goes as one shared PreparedMessage instead of being
// framed again for each socket. A Buffer's bytes are checked each time, so a program that
// changes a Buffer between two sends sends what it holds then.
let lastPayload: Buffer | string | null = null;
let lastOpcode = 0;
let shared: PreparedMessage | null = null;

/** Sends a whole message from a server-side socket; false when the connection cannot send. */
export function sendFromServer(transport: SocketTransport, opcode: DataOpcode, data: Buffer | string): boolean {
  if (data !== lastPayload || opcode !== lastOpcode) {
    lastPayload = data;
    lastOpcode = opcode;
    shared = null;
    return transport.send(opcode, data);
  }
  if (shared === null) shared = new PreparedMessage(opcode, typeof data === "string" ? Buffer.from(data) : data);
  else if (typeof data !== "string" && !holds(shared, data)) shared = new PreparedMessage(opcode, data);
  return transport.sendPrepared(shared);
}

/** Whether the prepared frames still carry `data`'s bytes (a large payload is referenced, not copied). */
function holds(message: PreparedMessage, data: Buffer): boolean {
  const frames = message.frames;
  if (frames.length > 1) return frames[frames.length - 1] === data;
  const frame = frames[0]!;
  return data.compare(frame, frame.length - data.length) === 0;
}
