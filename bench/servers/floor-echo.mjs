// The floor: the least work a WebSocket echo in JavaScript on node:net can do and still follow
// RFC 6455 for the benchmark's traffic. It is not a usable server (it ignores extensions and
// fragmentation and closes on anything else); it shows how close to raw TCP a Node WebSocket
// server could come, so that hawser's ratio to raw can be read against it. Two modes:
//
// - default ("floor"): no library, no objects per message. Each read is scanned in one loop
//   that unmasks every whole frame straight into one output buffer (a server's header is never
//   longer than the client's, so the read's size is enough) and writes that buffer once. Text
//   is checked as it is unmasked: all-ASCII payloads are valid UTF-8 (§8.1) and only the others
//   go to buffer.isUtf8.
// - --handler ("floor-handler"): what a library that hands each message to the user's code
//   cannot avoid on top: the payload as a Buffer of its own (unmasked in place), an event
//   object, a call into a handler, and the handler's send(), which frames the reply into one
//   batch per read. hawser's per-message API does this much at the least.
//
// On /broadcast (scenario g, default mode) the frames of each read go, framed once, to every
// /broadcast socket, the sender included: one write per receiver per read.
// Usage: node bench/servers/floor-echo.mjs --port N [--host H] [--handler]
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
    handler: { type: "boolean", default: false },
  },
});
const perMessage = values.handler;

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

/** The close frames the floor sends: 1002 for anything out of its scope, 1007 for bad UTF-8. */
const CLOSE_PROTOCOL_ERROR = Buffer.from([0x88, 0x02, 0x03, 0xea]);
const CLOSE_INVALID_PAYLOAD = Buffer.from([0x88, 0x02, 0x03, 0xef]);

/**
 * Unmasks payload bytes `from..from+length` of `input` (§5.3) into `out` at `to` (which may be
 * the same place); returns the OR of every unmasked byte, so that bit 7 says whether any was
 * non-ASCII. Short payloads go byte by byte, which needs no view; longer ones four bytes at a
 * time through the read's DataViews (see `echoFrames`).
 */
function unmaskInto(input, keyAt, from, length, out, to, inView, outView) {
  let seen = 0;
  let i = 0;
  if (length >= 64) {
    const key = inView.getInt32(keyAt, true);
    for (; i + 4 <= length; i += 4) {
      const word = inView.getInt32(from + i, true) ^ key;
      seen |= word;
      outView.setInt32(to + i, word, true);
    }
  } else {
    const k0 = input[keyAt];
    const k1 = input[keyAt + 1];
    const k2 = input[keyAt + 2];
    const k3 = input[keyAt + 3];
    for (; i + 4 <= length; i += 4) {
      const b0 = input[from + i] ^ k0;
      const b1 = input[from + i + 1] ^ k1;
      const b2 = input[from + i + 2] ^ k2;
      const b3 = input[from + i + 3] ^ k3;
      seen |= b0 | b1 | b2 | b3;
      out[to + i] = b0;
      out[to + i + 1] = b1;
      out[to + i + 2] = b2;
      out[to + i + 3] = b3;
    }
  }
  for (; i < length; i++) {
    const byte = input[from + i] ^ input[keyAt + (i & 3)];
    seen |= byte;
    out[to + i] = byte;
  }
  return seen;
}

/** Writes a server frame header (no mask) for `length` bytes at out[at]; returns its size. */
function writeHeader(out, at, first, length) {
  out[at] = first;
  if (length < 126) {
    out[at + 1] = length;
    return 2;
  }
  if (length < 65536) {
    out[at + 1] = 126;
    out.writeUInt16BE(length, at + 2);
    return 4;
  }
  out[at + 1] = 127;
  out.writeBigUInt64BE(BigInt(length), at + 2);
  return 10;
}

/** --handler mode: the replies of one read, framed by send() and written once. */
let batch = Buffer.allocUnsafe(65536);
let batched = 0;
function send(data, isBinary) {
  if (batched + data.length + 10 > batch.length) {
    const bigger = Buffer.allocUnsafe(2 * (batched + data.length + 10));
    batch.copy(bigger, 0, 0, batched);
    batch = bigger;
  }
  batched += writeHeader(batch, batched, isBinary ? 0x82 : 0x81, data.length);
  batch.set(data, batched);
  batched += data.length;
}
const handler = (event) => send(event.data, event.isBinary);

/** Echoes every whole frame of `input`; returns how many bytes it used. */
function echoFrames(socket, input) {
  const out = perMessage ? input : Buffer.allocUnsafe(input.length);
  // DataViews for payloads of 64 bytes and more, made at the first such payload of the read.
  let inView = null;
  let outView = null;
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
      socket.end(CLOSE_PROTOCOL_ERROR);
      return input.length;
    }
    const payloadAt = at + headerLength;
    // The reply's header goes first (default mode); the payload is unmasked to just behind it.
    const to = perMessage ? payloadAt : written + writeHeader(out, written, first, length);
    if (length >= 64 && inView === null) {
      inView = new DataView(input.buffer, input.byteOffset, input.length);
      outView = out === input ? inView : new DataView(out.buffer, out.byteOffset, out.length);
    }
    const seen = unmaskInto(input, payloadAt - 4, payloadAt, length, out, to, inView, outView);
    if (opcode === 1 && (seen & 0x80808080) !== 0 && !isUtf8(out.subarray(to, to + length))) {
      socket.end(CLOSE_INVALID_PAYLOAD);
      return input.length;
    }
    if (perMessage) handler({ data: input.subarray(payloadAt, payloadAt + length), isBinary: opcode === 2 });
    else written = to + length;
    at = payloadAt + length;
  }
  let frames;
  if (perMessage) {
    if (batched === 0) return at;
    frames = Buffer.allocUnsafe(batched); // the batch is reused; the write needs its own bytes
    batch.copy(frames, 0, 0, batched);
    batched = 0;
  } else {
    if (written === 0) return at;
    frames = out.subarray(0, written);
  }
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
  console.log(JSON.stringify({ ready: true, server: perMessage ? "floor-handler" : "floor", port: server.address().port }));
});
