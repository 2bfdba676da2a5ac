// The frame tap reads what other tests rely on (RSV1, sizes, the agreed extension), so it is
// tested here against hand-built bytes cut at awkward places: frames split across chunks, all
// three length encodings, fragments with a control frame between them, and a refused handshake.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, connect, type Server, type Socket } from "node:net";
import { after, test } from "node:test";
import { closePayload, encodeFrame, Op } from "./frames.js";
import { FrameTap, tappedCloseCode } from "./frame-tap.js";
import { withTimeout } from "./wait.js";

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A server that reads the request head, then writes `answer` in 7-byte pieces and ends. */
async function scriptedServer(answer: Buffer): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      if (head.includes("\r\n\r\n")) return;
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      for (let i = 0; i < answer.length; i += 7) socket.write(answer.subarray(i, i + 7));
      socket.end();
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return server;
}

/** Connects through the tap, sends `request` in one write, reads until the server ends. */
async function exchange(tap: FrameTap, request: Buffer): Promise<Buffer> {
  const socket = connect({ port: tap.port, host: "127.0.0.1" });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.write(request);
  await withTimeout(new Promise((resolve) => socket.once("close", resolve)), 5000, "the exchange to end");
  return Buffer.concat(chunks);
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

const REQUEST_HEAD = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

test("the tap records headers, frames and messages both ways, whatever the chunking", async () => {
  const downstream = Buffer.concat([
    Buffer.from("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
    encodeFrame({ opcode: Op.text, rsv: 4, payload: Buffer.alloc(70_000, 1), mask: false }),
    encodeFrame({ opcode: Op.binary, payload: Buffer.alloc(0), mask: false }),
    encodeFrame({ opcode: Op.pong, payload: "p", mask: false }),
    encodeFrame({ opcode: Op.close, payload: closePayload(1001, "bye"), mask: false }),
  ]);
  const upstream = Buffer.concat([
    Buffer.from(REQUEST_HEAD),
    encodeFrame({ opcode: Op.text, payload: "hello" }),
    encodeFrame({ opcode: Op.binary, rsv: 4, fin: false, payload: Buffer.alloc(200, 2) }),
    encodeFrame({ opcode: Op.ping, payload: "p" }),
    encodeFrame({ opcode: Op.continuation, payload: Buffer.alloc(300, 3) }),
    encodeFrame({ opcode: Op.close, payload: closePayload(1000) }),
  ]);
  const server = await scriptedServer(downstream);
  const tap = await FrameTap.start(portOf(server));
  cleanups.push(() => tap.close());

  const received = await exchange(tap, upstream);
  assert.ok(received.equals(downstream), "bytes pass through unchanged");
  const wire = await tap.nextConnection();
  await withTimeout(wire.closed, 5000, "the tap to see both sides close");

  assert.equal(wire.request?.startLine, "GET /chat HTTP/1.1");
  assert.equal(wire.status, 101);
  assert.equal(wire.offeredExtensions, "permessage-deflate; client_max_window_bits");
  assert.equal(wire.agreedExtensions, "permessage-deflate");
  const shape = (frames: typeof wire.toServer): unknown[] => frames.map((f) => [f.opcode, f.fin, f.rsv1, f.masked, f.length]);
  assert.deepEqual(shape(wire.toServer), [
    [Op.text, true, false, true, 5],
    [Op.binary, false, true, true, 200],
    [Op.ping, true, false, true, 1],
    [Op.continuation, true, false, true, 300],
    [Op.close, true, false, true, 2],
  ]);
  assert.deepEqual(shape(wire.toClient), [
    [Op.text, true, true, false, 70_000],
    [Op.binary, true, false, false, 0],
    [Op.pong, true, false, false, 1],
    [Op.close, true, false, false, 5],
  ]);
  assert.equal(wire.toServer[2]!.payload?.toString(), "p", "control payloads are unmasked");
  assert.equal(tappedCloseCode(wire.toServer), 1000);
  assert.equal(tappedCloseCode(wire.toClient), 1001);
  assert.deepEqual(wire.messagesToServer(), [
    { opcode: Op.text, compressed: false, frames: 1, wireBytes: 5 },
    { opcode: Op.binary, compressed: true, frames: 2, wireBytes: 500 },
  ]);
  assert.deepEqual(wire.messagesToClient(), [
    { opcode: Op.text, compressed: true, frames: 1, wireBytes: 70_000 },
    { opcode: Op.binary, compressed: false, frames: 1, wireBytes: 0 },
  ]);
});

test("after a refused handshake nothing is read as frames", async () => {
  const body = encodeFrame({ opcode: Op.text, payload: "not a frame", mask: false });
  const server = await scriptedServer(Buffer.concat([Buffer.from(`HTTP/1.1 404 Not Found\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  const tap = await FrameTap.start(portOf(server));
  cleanups.push(() => tap.close());
  await exchange(tap, Buffer.from(REQUEST_HEAD + "more bytes"));
  const wire = await tap.nextConnection();
  await withTimeout(wire.closed, 5000, "the tap to see both sides close");
  assert.equal(wire.status, 404);
  assert.equal(wire.agreedExtensions, "");
  assert.deepEqual(wire.toClient, []);
});
