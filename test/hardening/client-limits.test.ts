// The same attacks against the client: a hostile server (raw TCP, test/client/raw-server.ts)
// that streams a message forever, cuts one into one-byte fragments, floods pings without
// reading the pongs, or never reads what the client sends. The client shares the server's core
// and transport, so the limits are the same: 1009 at maximumMessageSize, pongs withheld past
// the send buffer limit (16 MiB for clients), and send() refusing past it.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { connect } from "../../src/client/connect.js";
import type { ClientWebSocket } from "../../src/client/client-websocket.js";
import { ReadyState } from "../../src/protocol/opcodes.js";
import { startRawServer, type RawConnection } from "../client/raw-server.js";
import { encodeFrame, Op } from "../helpers/frames.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, withTimeout } from "../helpers/wait.js";
import { assertStillEchoing, drainOrClose } from "./attack.js";
import { mib, MiB } from "./memory-child.js";

/** Bytes of the message the client is reassembling: private, read here for the measurement only. */
function heldBy(client: ClientWebSocket): number {
  const inner = client as unknown as { transport: { connection: { bufferedMessageBytes: number } } | null };
  return inner.transport?.connection.bufferedMessageBytes ?? 0;
}

/** Writes `chunk` until the socket closes, `stop()` holds, or `most` bytes went out. */
async function pour(socket: Socket, chunk: Buffer, most: number, stop: () => boolean): Promise<number> {
  let sent = 0;
  while (!stop() && !socket.destroyed && !socket.writableEnded && sent < most) {
    sent += chunk.length;
    if (!socket.write(chunk)) await drainOrClose(socket);
  }
  return sent;
}

/** The client library still works against a real server after the attack. */
async function clientStillWorks(): Promise<void> {
  const echo = await startSocketServer({}, (socket) => {
    socket.onmessage = (event) => socket.send(event.data);
  });
  try {
    await assertStillEchoing(echo.url);
  } finally {
    await echo.close();
  }
}

test("client: a server streaming continuation frames forever gets 1009 once past maximumMessageSize", async (t) => {
  const limit = MiB;
  let connection: RawConnection | undefined;
  const server = await startRawServer((c) => {
    connection = c;
    c.accept();
  });
  try {
    const client = await connect(server.url, { maximumMessageSize: limit, perMessageDeflate: false });
    const errors: Array<Error & { closeCode?: number }> = [];
    client.onerror = (error) => errors.push(error);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, heldBy(client))), 1);
    try {
      const raw = connection!;
      raw.sendFrame({ opcode: Op.text, payload: "start", fin: false });
      const piece = encodeFrame({ opcode: Op.continuation, payload: Buffer.alloc(16 * 1024, 0x62), fin: false, mask: false });
      const chunk = Buffer.concat(Array.from({ length: 64 }, () => piece));
      const sent = await pour(raw.socket, chunk, 256 * MiB, () => raw.frames.some((frame) => frame.opcode === Op.close));
      const close = await raw.frame(0, 5000);
      assert.equal(close.opcode, Op.close);
      assert.equal(close.closeCode, 1009, "the client refused the message as too big");
      const event = await withTimeout(client.closed, 5000, "the client's close");
      t.diagnostic(`server sent ${mib(sent)} before the client's 1009; the client held at most ${mib(peak)}`);
      assert.equal(event.wasClean, false);
      assert.equal(errors[0]?.closeCode, 1009);
      assert.ok(sent < 256 * MiB, "the flood was stopped");
      assert.ok(peak <= limit, `the client held ${peak} bytes of the message (limit ${limit})`);
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await server.close();
  }
  await clientStillWorks();
});

test("client: a 256 KiB message in 262,144 one-byte fragments arrives intact", async () => {
  const size = 256 * 1024;
  const data = randomBytes(size);
  const server = await startRawServer((c) => {
    c.accept();
    // Unmasked server frames: FIN/opcode, length 1, the byte (RFC 6455 section 5.2).
    const wire = Buffer.alloc(size * 3);
    for (let i = 0; i < size; i++) {
      wire[i * 3] = (i === 0 ? Op.binary : Op.continuation) | (i === size - 1 ? 0x80 : 0);
      wire[i * 3 + 1] = 1;
      wire[i * 3 + 2] = data[i]!;
    }
    c.socket.write(wire);
  });
  try {
    const client = await connect(server.url, { perMessageDeflate: false });
    const frame = await withTimeout(client.recv(), 10_000, "the fragmented message");
    assert.equal(frame.data.length, size);
    assert.ok(frame.data.equals(data), "the message is reassembled exactly");
    client.terminate();
  } finally {
    await server.close();
  }
  await clientStillWorks();
});

test("client: a ping flood from a server that never reads: pongs stop at the send buffer limit", async (t) => {
  let connection: RawConnection | undefined;
  const server = await startRawServer((c) => {
    connection = c;
    c.accept();
    c.socket.pause();
  });
  try {
    const client = await connect(server.url, { perMessageDeflate: false, pingFrequency: 0 });
    const raw = connection!;
    const ping = encodeFrame({ opcode: Op.ping, payload: Buffer.alloc(125, 0x70), mask: false });
    const chunk = Buffer.concat(Array.from({ length: 8000 }, () => ping));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, client.bufferedAmount)), 2);
    let sent: number;
    try {
      // 96 MiB of pings would need about 93 MiB of pongs.
      sent = await pour(raw.socket, chunk, 96 * MiB, () => false);
      await sleep(300);
    } finally {
      clearInterval(sampler);
    }
    t.diagnostic(`server sent ${mib(sent)} of pings; the client's unsent bytes peaked at ${mib(peak)}`);
    assert.ok(sent >= 96 * MiB, "the client kept reading");
    assert.equal(client.readyState, ReadyState.OPEN);
    assert.ok(peak <= 16 * MiB + 256 * 1024, `the client queued ${mib(peak)} of pongs`);
    client.terminate();
  } finally {
    await server.close();
  }
  await clientStillWorks();
});

test("client: sending to a server that never reads: send() refuses past the send buffer limit", async () => {
  const server = await startRawServer((c) => {
    c.accept();
    c.socket.pause();
  });
  try {
    const client = await connect(server.url, { perMessageDeflate: false });
    const message = Buffer.alloc(MiB, 0x71);
    let accepted = 0;
    while (accepted < 200 && client.send(message)) accepted++;
    assert.ok(accepted < 200, "send() said no at some point");
    assert.ok(client.bufferedAmount <= 16 * MiB + MiB, `${mib(client.bufferedAmount)} queued`);
    assert.equal(client.send(message), false, "and keeps saying no while nothing drains");
    client.terminate();
  } finally {
    await server.close();
  }
  await clientStillWorks();
});

test("client: maxSendBufferBytes sets where send() starts refusing", async () => {
  const server = await startRawServer((c) => {
    c.accept();
    c.socket.pause();
  });
  try {
    const client = await connect(server.url, { perMessageDeflate: false, maxSendBufferBytes: 2 * MiB });
    const message = Buffer.alloc(256 * 1024, 0x72);
    let accepted = 0;
    while (accepted < 200 && client.send(message)) accepted++;
    assert.ok(accepted < 200, "send() said no at some point");
    assert.ok(client.bufferedAmount <= 2 * MiB + message.length, `${mib(client.bufferedAmount)} queued past a 2 MiB limit`);
    client.terminate();
  } finally {
    await server.close();
  }
});
