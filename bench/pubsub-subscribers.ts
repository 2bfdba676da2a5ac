// Passive subscribers for bench/pubsub.ts: opens N WebSocket connections to one server and
// counts the messages they receive, as cheaply as JavaScript allows (frame headers are read,
// payloads skipped). It never sends, so it can watch subscribers on a process the load
// generator is not connected to (the Redis scenario).
//
// Usage: node bench/pubsub-subscribers.ts --port P --connections N [--host H] [--check K]
// stdout: {"ready":true,"opened":N} once all are open; then, per stdin line:
//   "start" -> resets the counters; "stop" -> prints {"messages":M,"seconds":S,"sequenceErrors":E}
// --check K: the first K connections also check that the load generator's sequence numbers
// (the first 16 hex digits of each payload) arrive each exactly once, in order.
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    path: { type: "string", default: "/" },
    connections: { type: "string", default: "1000" },
    check: { type: "string", default: "8" },
  },
});
if (!values.port) throw new Error("--port is required");
const port = Number(values.port);
const total = Number(values.connections);
const checked = Number(values.check);
const SEQ_DIGITS = 16;

let messages = 0;
let sequenceErrors = 0;
let startedAt = process.hrtime.bigint();

/** Counts frames on one connection: header bytes are parsed, payload bytes skipped. */
class Counter {
  private skip = 0;
  private head: Buffer | null = null;
  private expectSeq: bigint | null = null;
  /** Sequence digits collected so far for the frame being received (checked connections). */
  private seqText = "";

  constructor(private readonly check: boolean) {}

  push(chunk: Buffer): void {
    const data = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    this.head = null;
    let pos = 0;
    while (pos < data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - pos);
        if (this.check && this.seqText.length < SEQ_DIGITS) this.collect(data, pos, n);
        this.skip -= n;
        pos += n;
        if (this.skip === 0 && this.check) this.finishFrame();
        continue;
      }
      // A frame header: 2 bytes, plus 2 or 8 for longer payloads (server frames are unmasked).
      if (data.length - pos < 2) break;
      const len7 = data[pos + 1]! & 0x7f;
      const headLength = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      if (data.length - pos < headLength) break;
      const opcode = data[pos]! & 0x0f;
      const length = len7 === 126 ? data.readUInt16BE(pos + 2) : len7 === 127 ? Number(data.readBigUInt64BE(pos + 2)) : len7;
      pos += headLength;
      if (opcode === 0x1 || opcode === 0x2) messages++;
      this.skip = length;
      this.seqText = "";
      if (length === 0 && this.check) this.finishFrame();
    }
    if (pos < data.length) this.head = data.subarray(pos);
  }

  private collect(data: Buffer, pos: number, n: number): void {
    const want = Math.min(n, SEQ_DIGITS - this.seqText.length);
    this.seqText += data.toString("latin1", pos, pos + want);
  }

  private finishFrame(): void {
    if (this.seqText.length < SEQ_DIGITS) return;
    const seq = BigInt(`0x${this.seqText}`);
    if (this.expectSeq !== null && seq !== this.expectSeq) sequenceErrors++;
    this.expectSeq = seq + 1n;
  }
}

function open(index: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: values.host, noDelay: true });
    const key = randomBytes(16).toString("base64");
    let response = "";
    const counter = new Counter(index < checked);
    const onHandshake = (chunk: Buffer): void => {
      response += chunk.toString("latin1");
      const end = response.indexOf("\r\n\r\n");
      if (end === -1) return;
      if (!response.startsWith("HTTP/1.1 101")) {
        reject(new Error(`handshake refused: ${response.split("\r\n")[0]}`));
        socket.destroy();
        return;
      }
      socket.off("data", onHandshake);
      socket.on("data", (data: Buffer) => counter.push(data));
      const rest = Buffer.from(response.slice(end + 4), "latin1");
      if (rest.length > 0) counter.push(rest);
      resolve(socket);
    };
    socket.on("data", onHandshake);
    socket.once("error", reject);
    socket.on("connect", () => {
      socket.write(
        `GET ${values.path} HTTP/1.1\r\nHost: ${values.host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  });
}

const sockets: Socket[] = [];
const CONCURRENCY = 200;
for (let i = 0; i < total; i += CONCURRENCY) {
  const batch = await Promise.all(Array.from({ length: Math.min(CONCURRENCY, total - i) }, (_, j) => open(i + j)));
  sockets.push(...batch);
}
process.stdout.write(JSON.stringify({ ready: true, opened: sockets.length }) + "\n");

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "start") {
    messages = 0;
    sequenceErrors = 0;
    startedAt = process.hrtime.bigint();
  } else if (line === "stop") {
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    process.stdout.write(JSON.stringify({ messages, seconds, sequenceErrors }) + "\n");
  }
});
lines.on("close", () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
