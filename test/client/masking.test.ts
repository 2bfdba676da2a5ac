// RFC 6455 section 5.3 and 10.3: a client masks every frame it sends, each with a fresh,
// unpredictable key. A raw server decodes the client's frames with the independent test codec.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, test } from "node:test";
import { connect } from "../../src/index.js";
import { Op } from "../helpers/frames.js";
import { startRawServer } from "./raw-server.js";

const server = await startRawServer((connection) => connection.accept());
after(() => server.close());

/** The masking key of every frame, read straight from the wire bytes. */
function keysOnTheWire(wire: Buffer): string[] {
  const keys: string[] = [];
  let offset = 0;
  while (offset + 2 <= wire.length) {
    const b1 = wire[offset + 1]!;
    let length = b1 & 0x7f;
    let position = offset + 2;
    if (length === 126) {
      length = wire.readUInt16BE(position);
      position += 2;
    } else if (length === 127) {
      length = Number(wire.readBigUInt64BE(position));
      position += 8;
    }
    assert.ok(b1 & 0x80, `frame at byte ${offset} is not masked`);
    keys.push(wire.subarray(position, position + 4).toString("hex"));
    offset = position + 4 + length;
  }
  return keys;
}

test("every frame the client sends is masked, each with its own key, and the payloads arrive intact", async () => {
  const socket = await connect(server.url, { pingFrequency: 0 });
  const connection = server.connections.at(-1)!;
  const wire: Buffer[] = [];
  connection.socket.on("data", (chunk: Buffer) => wire.push(chunk));

  const binary = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  const binaryCopy = Buffer.from(binary);
  const large = Buffer.alloc(70_000, 0xab);
  const sent: Array<{ opcode: number; payload: Buffer }> = [];
  for (let i = 0; i < 20; i++) {
    socket.send(`text ${i}`);
    sent.push({ opcode: Op.text, payload: Buffer.from(`text ${i}`) });
  }
  socket.send(binary);
  sent.push({ opcode: Op.binary, payload: binary });
  socket.send("x".repeat(126));
  sent.push({ opcode: Op.text, payload: Buffer.from("x".repeat(126)) });
  socket.send(large);
  sent.push({ opcode: Op.binary, payload: large });
  socket.send(new Uint8Array(0));
  sent.push({ opcode: Op.binary, payload: Buffer.alloc(0) });
  socket.ping("are you there");
  sent.push({ opcode: Op.ping, payload: Buffer.from("are you there") });
  socket.pong(new Uint8Array([9]));
  sent.push({ opcode: Op.pong, payload: Buffer.from([9]) });
  socket.close(4000, "done");
  sent.push({ opcode: Op.close, payload: Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from("done")]) });

  const last = await connection.frame(sent.length - 1);
  assert.equal(last.opcode, Op.close);
  connection.socket.end();
  await socket.closed;

  assert.deepEqual(binary, binaryCopy, "masking must not change the caller's buffer");
  assert.equal(connection.frames.length, sent.length);
  connection.frames.forEach((frame, i) => {
    assert.equal(frame.masked, true, `frame ${i} is not masked`);
    assert.equal(frame.opcode, sent[i]!.opcode, `frame ${i} opcode`);
    assert.ok(frame.payload.equals(sent[i]!.payload), `frame ${i} payload differs after unmasking`);
  });
  const keys = keysOnTheWire(Buffer.concat(wire));
  assert.equal(keys.length, sent.length);
  assert.equal(new Set(keys).size, keys.length, `masking keys repeat: ${keys.join(" ")}`);
  assert.ok(!keys.includes("00000000") || keys.length > 1000, "an all-zero key leaves the payload in clear");
});

test("a second connection does not reuse the first one's keys", async () => {
  const collect = async (): Promise<string[]> => {
    const socket = await connect(server.url, { pingFrequency: 0 });
    const connection = server.connections.at(-1)!;
    const wire: Buffer[] = [];
    connection.socket.on("data", (chunk: Buffer) => wire.push(chunk));
    for (let i = 0; i < 8; i++) socket.send("same");
    await connection.frame(7);
    socket.terminate();
    return keysOnTheWire(Buffer.concat(wire));
  };
  const first = await collect();
  const second = await collect();
  assert.equal(first.length, 8);
  assert.equal(second.length, 8);
  assert.equal(new Set([...first, ...second]).size, 16);
});
