// A message flooder in its own process (so its work does not share the server's thread):
//   flood-child.ts PORT PATH KIND DURATION_MS
// KIND "text" sends tiny masked text frames, "ping" tiny pings, as fast as the socket takes
// them, for DURATION_MS. When the server closes the connection, the flooder connects again
// (an attacker that keeps coming back). Prints one JSON line: connections, frames written,
// close codes the server sent, and how often the writes had to wait for the server to read.
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const [portText, path = "/", kind = "text", durationText = "1000"] = process.argv.slice(2);
const port = Number(portText);
const deadline = Date.now() + Number(durationText);

/** One masked frame (RFC 6455 section 5.2) with a 2-byte payload. */
function tinyFrame(opcode: number): Buffer {
  const key = randomBytes(4);
  const payload = Buffer.from("x!");
  const frame = Buffer.alloc(2 + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  key.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ key[i % 4]!;
  return frame;
}

const chunk = Buffer.concat(Array.from({ length: 4096 }, () => tinyFrame(kind === "ping" ? 0x9 : 0x1)));
const framesPerChunk = 4096;

interface Result {
  connections: number;
  framesWritten: number;
  closeCodes: number[];
  drainWaits: number;
}
const result: Result = { connections: 0, framesWritten: 0, closeCodes: [], drainWaits: 0 };

function open(): Promise<{ socket: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    const key = randomBytes(16).toString("base64");
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      const status = head.subarray(0, end).toString("latin1").split(" ")[1];
      const accept = createHash("sha1")
        .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
        .digest("base64");
      if (status !== "101" || !head.includes(accept)) reject(new Error(`handshake refused: ${head.subarray(0, end).toString("latin1")}`));
      else resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on("data", onData);
  });
}

/** Floods one connection until the server closes it or time is up; returns the close code seen, if any. */
async function floodOnce(): Promise<void> {
  const { socket, rest } = await open();
  result.connections++;
  let pending = rest;
  let closeCode: number | undefined;
  let ended = false;
  socket.on("data", (data: Buffer) => {
    // Read what the server sends (pongs, its close frame) so its writes never back up.
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    while (pending.length >= 2) {
      const length = pending[1]! & 0x7f;
      const headerSize = length === 126 ? 4 : length === 127 ? 10 : 2;
      const payloadLength = length === 126 ? pending.readUInt16BE(2) : length === 127 ? Number(pending.readBigUInt64BE(2)) : length;
      if (pending.length < headerSize + payloadLength) break;
      if ((pending[0]! & 0x0f) === 0x8 && payloadLength >= 2) closeCode = pending.readUInt16BE(headerSize);
      pending = pending.subarray(headerSize + payloadLength);
    }
  });
  const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => undefined);
  void gone.then(() => (ended = true));
  while (!ended && Date.now() < deadline) {
    if (socket.write(chunk)) {
      result.framesWritten += framesPerChunk;
      continue;
    }
    result.framesWritten += framesPerChunk;
    result.drainWaits++;
    await Promise.race([
      new Promise((resolve) => socket.once("drain", resolve)),
      gone,
      new Promise((resolve) => setTimeout(resolve, Math.max(1, deadline - Date.now()))),
    ]);
  }
  socket.destroy();
  await gone;
  if (closeCode !== undefined) result.closeCodes.push(closeCode);
}

while (Date.now() < deadline) await floodOnce();
process.stdout.write(JSON.stringify(result) + "\n");
