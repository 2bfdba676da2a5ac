// Checks that the C load generator catches what it claims to catch, against a deliberately
// awkward echo server written here on node:net: 64-bit lengths, fragmented echoes with pings
// in between, an unasked greeting, corrupted bytes, a close, a wrong Sec-WebSocket-Accept, and
// for --deflate: compressed and plain echoes mixed, corrupt compressed data, a declined offer;
// then --deflate with context takeover both ways against ws.
// Run: node bench/loadgen-check.mjs (after bench/build.sh). Exits non-zero on a miss.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { WebSocketServer } from "ws";

const loadgen = path.join(path.dirname(fileURLToPath(import.meta.url)), "bin", "loadgen");

/** Server frame header (unmasked); `wide` forces the 64-bit length form even for small payloads. */
function header(fin, opcode, length, wide) {
  const first = (fin ? 0x80 : 0) | opcode;
  if (wide || length > 0xffff) {
    const h = Buffer.alloc(10);
    h[0] = first;
    h[1] = 127;
    h.writeBigUInt64BE(BigInt(length), 2);
    return h;
  }
  if (length > 125) return Buffer.from([first, 126, length >> 8, length & 0xff]);
  return Buffer.from([first, length]);
}

/** Minimal client-frame parser: enough for whole, masked, unfragmented client messages. */
function* clientFrames(state) {
  for (;;) {
    const b = state.buf;
    if (b.length < 2) return;
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return;
      len = Number(b.readBigUInt64BE(2));
      off = 10;
    }
    if (b.length < off + 4 + len) return;
    const mask = b.subarray(off, off + 4);
    const payload = Buffer.from(b.subarray(off + 4, off + 4 + len));
    for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
    state.buf = b.subarray(off + 4 + len);
    yield { opcode: b[0] & 0x0f, rsv1: (b[0] & 0x40) !== 0, payload };
  }
}

function startServer(behaviour) {
  let count = 0;
  const server = net.createServer((socket) => {
    const state = { buf: Buffer.alloc(0), open: false };
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk) => {
      state.buf = Buffer.concat([state.buf, chunk]);
      if (!state.open) {
        const end = state.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const key = /sec-websocket-key:\s*(\S+)/i.exec(state.buf.subarray(0, end).toString())[1];
        let accept = createHash("sha1")
          .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
          .digest("base64");
        if (behaviour === "bad-accept") accept = accept.replace(/^./, (c) => (c === "A" ? "B" : "A"));
        // The deflate behaviours agree to compression without context takeover (RFC 7692 7.1.1),
        // so every message stands alone and node:zlib's one-shot calls can serve.
        const extension =
          behaviour.startsWith("deflate") && behaviour !== "deflate-declined"
            ? "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12\r\n"
            : "";
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extension}\r\n`);
        state.buf = state.buf.subarray(end + 4);
        state.open = true;
        if (behaviour === "greeting") {
          socket.write(Buffer.concat([header(true, 1, 5, false), Buffer.from("hello"), header(true, 1, 7, false), Buffer.from(" world!")]));
        }
      }
      for (const frame of clientFrames(state)) {
        const opcode = frame.opcode;
        if (opcode === 0x8 || opcode === 0xa) continue;
        count++;
        let payload = frame.payload;
        if (frame.rsv1) {
          try {
            payload = zlib.inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
          } catch {
            socket.destroy(); // the generator's compressed data is corrupt (or kept a context it agreed to drop)
            return;
          }
        }
        if (behaviour.startsWith("deflate") && frame.rsv1 !== (behaviour !== "deflate-declined")) {
          socket.destroy(); // compressed without agreement, or plain when compression was agreed
          return;
        }
        if (behaviour === "deflate" || behaviour === "deflate-corrupt") {
          // Every third echo goes back uncompressed: a sender may choose per message.
          if (count % 3 === 0) {
            socket.write(Buffer.concat([header(true, opcode, payload.length, false), payload]));
            continue;
          }
          const compressed = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
          if (behaviour === "deflate-corrupt" && count % 50 === 1) compressed[compressed.length >> 1] ^= 0x10;
          socket.write(Buffer.concat([header(true, 0x40 | opcode, compressed.length, false), compressed]));
          continue;
        }
        if (behaviour === "close" && count === 50) {
          socket.end(Buffer.concat([header(true, 0x8, 2, false), Buffer.from([0x03, 0xf1])])); // 1009
          return;
        }
        if (behaviour === "corrupt" && count % 100 === 0) payload[payload.length >> 1] ^= 1;
        if (behaviour === "fragment") {
          // Three pieces, a ping between the first two, byte-by-byte writes for the header.
          const a = payload.subarray(0, payload.length / 3);
          const b = payload.subarray(payload.length / 3, (2 * payload.length) / 3);
          const c = payload.subarray((2 * payload.length) / 3);
          const bytes = Buffer.concat([
            header(false, opcode, a.length, false),
            a,
            header(true, 0x9, 3, false),
            Buffer.from("hi!"),
            header(false, 0x0, b.length, true),
            b,
            header(true, 0x0, c.length, false),
            c,
          ]);
          for (let i = 0; i < 4; i++) socket.write(bytes.subarray(i, i + 1));
          socket.write(bytes.subarray(4));
        } else {
          socket.write(Buffer.concat([header(true, opcode, payload.length, behaviour === "len64"), payload]));
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** ws with compression on every message and context takeover both ways (its default). */
function startWsDeflate() {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: { threshold: 0 } });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  return new Promise((resolve) => wss.on("listening", () => resolve({ address: () => wss.address(), close: () => wss.close() })));
}

// Asynchronous on purpose: the server lives in this process and needs the event loop.
async function run(port, extra) {
  const args = ["--port", String(port), "--duration", "0.5", "--warmup", "0.1", "--stall-timeout", "2", ...extra];
  const { stdout } = await promisify(execFile)(loadgen, args, { encoding: "utf8" });
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

const cases = [
  { behaviour: "plain", args: ["--connections", "4", "--inflight", "8", "--size", "300"], ok: (r) => r.errors === 0 && r.messages > 0 },
  { behaviour: "len64", args: ["--connections", "2", "--size", "100", "--opcode", "binary"], ok: (r) => r.errors === 0 && r.messages > 0 },
  { behaviour: "fragment", args: ["--connections", "3", "--inflight", "4", "--size", "70000"], ok: (r) => r.errors === 0 && r.messages > 0 },
  { behaviour: "greeting", args: ["--connections", "3", "--greeting", "2"], ok: (r) => r.errors === 0 && r.messages > 0 },
  { behaviour: "greeting", args: ["--connections", "3"], ok: (r) => r.errors > 0 },
  { behaviour: "corrupt", args: ["--connections", "2", "--inflight", "4", "--size", "64"], ok: (r) => r.echo_errors > 0 },
  { behaviour: "close", args: ["--connections", "1"], ok: (r) => r.closed_by_server === 1 && r.errors > 0 },
  { behaviour: "bad-accept", args: ["--connections", "5"], ok: (r) => r.connect_errors === 5 && r.opened === 0 },
  { behaviour: "deflate", args: ["--deflate", "--connections", "3", "--inflight", "4", "--size", "3000"], ok: (r) => r.errors === 0 && r.messages > 0 },
  { behaviour: "deflate-corrupt", args: ["--deflate", "--connections", "2", "--size", "500"], ok: (r) => r.echo_errors + r.protocol_errors > 0 },
  { behaviour: "deflate-declined", args: ["--deflate", "--connections", "4"], ok: (r) => r.connect_errors === 4 && r.opened === 0 },
  { behaviour: "ws-deflate", args: ["--deflate", "--connections", "3", "--inflight", "4", "--size", "2000"], ok: (r) => r.errors === 0 && r.messages > 0 },
  { behaviour: "ws-deflate", args: ["--deflate", "--connections", "2", "--size", "70000", "--opcode", "binary"], ok: (r) => r.errors === 0 && r.messages > 0 },
];

let failed = 0;
for (const c of cases) {
  const server = c.behaviour === "ws-deflate" ? await startWsDeflate() : await startServer(c.behaviour);
  const result = await run(server.address().port, c.args);
  server.close();
  const pass = c.ok(result);
  if (!pass) failed++;
  console.log(
    `${pass ? "ok  " : "FAIL"} ${c.behaviour}: messages=${result.messages} echo_errors=${result.echo_errors} ` +
      `protocol_errors=${result.protocol_errors} connect_errors=${result.connect_errors} closed_by_server=${result.closed_by_server}`,
  );
}
process.exit(failed ? 1 : 0);
