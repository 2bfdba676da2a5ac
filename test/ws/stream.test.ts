// createWebSocketStream of hawser/ws: a Duplex over a WebSocket, with ws's semantics.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { pipeline } from "node:stream/promises";
import { Readable, Writable } from "node:stream";
import { describe, test } from "node:test";
import { sleep, withTimeout } from "../helpers/wait.js";
import { createWebSocketStream } from "../../src/ws/index.js";
import { textOf } from "../../src/ws/data.js";
import { closeOf, EVENT_MS, listen, messages, next, pair, shutdown, WebSocket } from "./helpers.js";

describe("createWebSocketStream", () => {
  test("is also a property of the WebSocket class", () => {
    assert.equal(WebSocket.createWebSocketStream, createWebSocketStream);
  });

  test("writes become messages and messages become chunks; writes wait for the connection to open", async () => {
    const { wss, url } = await listen();
    wss.on("connection", (ws: WebSocket) => ws.on("message", (data, isBinary) => ws.send(textOf(data).toUpperCase(), { binary: isBinary })));
    const ws = new WebSocket(url);
    const duplex = createWebSocketStream(ws);
    duplex.write("hello");
    const [chunk] = await next<[Buffer]>(duplex, "data");
    assert.equal(String(chunk), "HELLO");
    duplex.destroy();
    await shutdown(wss);
  });

  test("text arrives as strings in object mode", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client, { readableObjectMode: true });
    server.send("a string");
    const [chunk] = await next<[unknown]>(duplex, "data");
    assert.equal(chunk, "a string");
    duplex.destroy();
    await shutdown(wss);
  });

  test("ending the writable side closes the WebSocket; its close ends the readable side", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client);
    const serverClosed = closeOf(server);
    server.send("last words");
    const received: string[] = [];
    duplex.on("data", (chunk: Buffer) => received.push(String(chunk)));
    const ended = next(duplex, "end");
    const closed = next(duplex, "close");
    await sleep(20);
    duplex.end();
    assert.equal((await serverClosed).code, 1005);
    await ended;
    await closed;
    assert.deepEqual(received, ["last words"]);
    assert.equal(client.readyState, WebSocket.CLOSED);
    await shutdown(wss);
  });

  test("destroying the stream terminates the WebSocket", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client);
    const serverClosed = closeOf(server);
    const streamClosed = next(duplex, "close");
    duplex.destroy();
    assert.equal((await serverClosed).code, 1006);
    await streamClosed;
    assert.equal(client.readyState, WebSocket.CLOSED);
    await shutdown(wss);
  });

  test("a protocol error of the WebSocket destroys the stream with that error", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client);
    const errored = next<[Error & { code: string }]>(duplex, "error");
    const streamClosed = next(duplex, "close");
    (server._socket as import("node:net").Socket).write(Buffer.from([0x85, 0x00]));
    const [error] = await errored;
    assert.equal(error.code, "WS_ERR_INVALID_OPCODE");
    await streamClosed;
    assert.equal(duplex.destroyed, true);
    await shutdown(wss);
  });

  test("a write after the WebSocket closed fails the stream with ws's not-open error", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client);
    duplex.resume();
    const closed = next(client, "close");
    server.close();
    await closed;
    const errored = next<[Error]>(duplex, "error");
    duplex.write("too late");
    assert.equal((await errored)[0].message, "WebSocket is not open: readyState 3 (CLOSED)");
    await shutdown(wss);
  });

  test("backpressure: a slow reader pauses the WebSocket, and a big pipeline delivers everything", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client, { highWaterMark: 1024 });
    const count = 200;
    for (let i = 0; i < count; i++) server.send(Buffer.alloc(1024, i % 256));
    await sleep(30);
    assert.equal(client.isPaused, true, "the stream's buffer filled and the WebSocket paused");
    let total = 0;
    await withTimeout(
      pipeline(
        duplex,
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            total += chunk.length;
            if (total === count * 1024) server.close();
            setImmediate(done);
          },
        }),
      ),
      EVENT_MS,
      "the pipeline to finish",
    );
    assert.equal(total, count * 1024);
    await shutdown(wss);
  });

  test("writing a big stream into it: every chunk arrives as a message, in order", async () => {
    const { wss, client, server } = await pair();
    const duplex = createWebSocketStream(client);
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(4096, i));
    const got = messages(server, parts.length);
    duplex.resume();
    await pipeline(Readable.from(parts), duplex);
    const received = await got;
    assert.deepEqual(
      received.map(([data]) => (data as Buffer)[0]),
      parts.map((_, i) => i),
    );
    await shutdown(wss);
  });
});
