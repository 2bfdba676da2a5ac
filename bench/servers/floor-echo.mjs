// The floor: the least work a WebSocket echo in JavaScript on node:net can do and still follow
// RFC 6455 for the benchmark's traffic. No library, no events, no objects per message: each read
// is scanned in one loop that unmasks every whole frame straight into one output buffer (a
// server's header is never longer than the client's, so the read's size is enough), checks text
// with buffer.isUtf8 (§8.1), and writes that buffer once. It is not a usable server (it ignores
// extensions and fragmentation and closes on anything else); it shows how close to raw TCP any
// Node WebSocket library could come, so that hawser's ratio to raw can be read against it.
// On /broadcast (scenario g) the frames of each read go, framed once, to every /broadcast
// socket, the sender included: one write per receiver per read, the least a broadcast costs.
// Usage: node bench/servers/floor-echo.mjs --port N [--host H]
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "9001" }, host: { type: "string", default: "127.0.0.1" } },
});

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 §1.3

/** The sockets that asked for /broadcast. */
const broadcastTo = new Set();

function handshake(socket, head) {
  if (head.startsWith("GET /broadcast ")) {
    broadcastTo.add(socket);
    socket.once("close", () => broadcastTo.delete(socket));
  }
  const key = /^sec-websocket-key:\s*(\S+)\s*$/im.exec(head)?.[1];
  if (!key) return socket.destroy();
  const accept = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
}

/** Echoes every whole frame of `input`; returns how many bytes it used. */
function echoFrames(socket, input) {
  const out = Buffer.allocUnsafe(input.length);
  const inView = new DataView(input.buffer, input.byteOffset, input.length);
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  let at = 0;
  let written = 0;
  while (input.length - at >= 6) {
    const first = input[at];
    const opcode = first & 0x0f;
    let length = input[at + 1] & 0x7f;
    let headerLength = 6;
    if (length === 126) {
      if (input.length - at < 8) break;
      length = input.readUInt16BE(at + 2);
      headerLength = 8;
    } else if (length === 127) {
      if (input.length - at < 14) break;
      length = Number(input.readBigUInt64BE(at + 2));
      headerLength = 14;
    }
    if (input.length - at < headerLength + length) break;
    if ((first & 0xf0) !== 0x80 || (opcode !== 1 && opcode !== 2)) {
      socket.end(Buffer.from([0x88, 0x02, 0x03, 0xea])); // 1002: anything else is out of the floor's scope
      return input.length;
    }
    // The server's header: the client's without the mask bit and key.
    out[written] = first;
    if (headerLength === 6) {
      out[written + 1] = length;
      written += 2;
    } else if (headerLength === 8) {
      out[written + 1] = 126;
      out.writeUInt16BE(length, written + 2);
      written += 4;
    } else {
      out[written + 1] = 127;
      out.writeBigUInt64BE(BigInt(length), written + 2);
      written += 10;
    }
    // Unmasked four bytes at a time (§5.3), through DataViews, which need no alignment.
    const mask = inView.getUint32(at + headerLength - 4, true);
    const payloadAt = at + headerLength;
    let i = 0;
    for (; i + 4 <= length; i += 4) outView.setUint32(written + i, inView.getUint32(payloadAt + i, true) ^ mask, true);
    for (; i < length; i++) out[written + i] = input[payloadAt + i] ^ ((mask >>> ((i & 3) * 8)) & 0xff);
    if (opcode === 1 && !isUtf8(out.subarray(written, written + length))) {
      socket.end(Buffer.from([0x88, 0x02, 0x03, 0xef])); // 1007
      return input.length;
    }
    written += length;
    at += headerLength + length;
  }
  if (written === 0) return at;
  const frames = out.subarray(0, written);
  if (broadcastTo.has(socket)) {
    for (const receiver of broadcastTo) receiver.write(frames);
  } else if (!socket.write(frames)) {
    socket.pause();
    socket.once("drain", () => socket.resume());
  }
  return at;
}

/** The size of the frame that starts at `at`: header and payload, or 14 while its header is incomplete. */
function frameSize(input, at) {
  const length = input[at + 1] & 0x7f;
  if (length < 126) return 6 + length;
  if (length === 126) return input.length - at >= 4 ? 8 + input.readUInt16BE(at + 2) : 14;
  return input.length - at >= 10 ? 14 + Number(input.readBigUInt64BE(at + 2)) : 14;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  // The bytes of an unfinished request head or frame, kept as chunks until the whole is here.
  let held = [];
  let heldBytes = 0;
  let needed = 0;
  let open = false;
  socket.on("data", (chunk) => {
    if (heldBytes + chunk.length < needed) {
      held.push(chunk);
      heldBytes += chunk.length;
      return;
    }
    let input = heldBytes > 0 ? Buffer.concat([...held, chunk]) : chunk;
    held = [];
    heldBytes = 0;
    needed = 0;
    if (!open) {
      const end = input.indexOf("\r\n\r\n");
      if (end < 0) {
        held.push(input);
        heldBytes = input.length;
        return;
      }
      handshake(socket, input.toString("latin1", 0, end));
      open = true;
      input = input.subarray(end + 4);
    }
    const used = echoFrames(socket, input);
    if (used < input.length) {
      const rest = Buffer.from(input.subarray(used));
      held.push(rest);
      heldBytes = rest.length;
      needed = rest.length >= 2 ? frameSize(rest, 0) : 14;
    }
  });
  socket.on("error", () => socket.destroy());
});
server.listen(Number(values.port), values.host, () => {
  console.log(JSON.stringify({ ready: true, server: "floor", port: server.address().port }));
});
