// The hawser/ws WebSocket once open, on both ends: messages, sending, control frames,
// closing, errors and the event-target API, as a program written for `ws` sees them.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import { RawClient } from "../helpers/raw-client.js";
import { closePayload, Op } from "../helpers/frames.js";
import { sleep } from "../helpers/wait.js";
import { textOf } from "../../src/ws/data.js";
import { closeOf, listen, messages, next, pair, shutdown, WebSocket } from "./helpers.js";

describe("messages", () => {
  test("text arrives as a Buffer with isBinary false, binary as a Buffer with isBinary true", async () => {
    const { wss, client, server } = await pair();
    const got = messages(server, 3);
    client.send("héllo");
    client.send(Buffer.from([1, 2, 3]));
    client.send(new Uint16Array([1, 2]));
    const [[text, textBinary], [bytes, bytesBinary], [view]] = await got;
    assert.ok(Buffer.isBuffer(text));
    assert.equal(String(text), "héllo");
    assert.equal(textBinary, false);
    assert.deepEqual([...(bytes as Buffer)], [1, 2, 3]);
    assert.equal(bytesBinary, true);
    assert.deepEqual([...(view as Buffer)], [1, 0, 2, 0]);
    client.close();
    await shutdown(wss);
  });

  test("send's binary option: bytes as text, a string as binary; numbers are sent as text", async () => {
    const { wss, client, server } = await pair();
    const got = messages(server, 3);
    client.send(Buffer.from("as text"), { binary: false });
    client.send("as binary", { binary: true });
    client.send(42 as unknown as string);
    const received = await got;
    assert.deepEqual(
      received.map(([data, isBinary]) => [textOf(data), isBinary]),
      [
        ["as text", false],
        ["as binary", true],
        ["42", false],
      ],
    );
    client.close();
    await shutdown(wss);
  });

  test("binaryType arraybuffer, blob and fragments; text stays a Buffer", async () => {
    const { wss, client, server } = await pair();
    client.binaryType = "arraybuffer";
    server.send(Buffer.from([9, 8]));
    const [[arrayBuffer]] = await messages(client, 1);
    assert.ok(arrayBuffer instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(arrayBuffer)], [9, 8]);

    client.binaryType = "blob" as never; // ws 8.18+; @types/ws leaves it out, and so does our type
    server.send(Buffer.from("blob"));
    const [[blob]] = await messages(client, 1);
    assert.ok((blob as unknown) instanceof Blob);
    assert.equal(await (blob as unknown as Blob).text(), "blob");

    client.binaryType = "fragments";
    assert.equal(client.binaryType, "fragments");
    client.binaryType = "nonsense" as never;
    assert.equal(client.binaryType, "fragments", "unknown types are ignored");
    server.send(Buffer.from("ab"), { fin: false });
    server.send(Buffer.from("cd"), { fin: false });
    server.send(Buffer.from("e"), { fin: true });
    server.send("text");
    const [[fragments, isBinary], [text]] = await messages(client, 2);
    assert.equal(isBinary, true);
    assert.deepEqual((fragments as Buffer[]).map(String), ["ab", "cd", "e"], "one Buffer per frame");
    assert.ok(Buffer.isBuffer(text));
    client.close();
    await shutdown(wss);
  });

  test("a message sent in fragments (fin: false) arrives whole, with and without compression", async () => {
    for (const perMessageDeflate of [false, { threshold: 0 }]) {
      const { wss, client, server } = await pair({ perMessageDeflate }, { perMessageDeflate });
      const got = messages(server, 2);
      client.send("Hello, ", { fin: false });
      client.send("fragmented ", { fin: false });
      client.send("world");
      client.send(Buffer.from("next"), { compress: false });
      const [[first, firstBinary], [second]] = await got;
      assert.equal(textOf(first), "Hello, fragmented world", `deflate ${JSON.stringify(perMessageDeflate)}`);
      assert.equal(firstBinary, false, "the first fragment's type is the message's");
      assert.equal(textOf(second), "next");
      client.close();
      await shutdown(wss);
    }
  });

  test("maxPayload on the server: a larger message closes with 1009 and an error with ws's code", async () => {
    const { wss, client, server } = await pair({ maxPayload: 100 });
    const errored = next<[Error & { code: string; closeCode: number }]>(server, "error");
    const clientClosed = closeOf(client);
    client.send(Buffer.alloc(101));
    const [error] = await errored;
    assert.equal(error.code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    assert.equal(error.closeCode, 1009);
    assert.equal((await clientClosed).code, 1009);
    await shutdown(wss);
  });

  test("_receiver._maxPayload changes one connection's limit while it is open", async () => {
    const { wss, client, server } = await pair();
    assert.equal(server._receiver!._maxPayload, 100 * 1024 * 1024);
    server._receiver!._maxPayload = 8;
    const errored = next<[Error & { code: string }]>(server, "error");
    client.send("more than eight bytes");
    assert.equal((await errored)[0].code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    await shutdown(wss);
  });

  test("skipUTF8Validation lets invalid UTF-8 text through; by default it fails with 1007", async () => {
    for (const skip of [true, false]) {
      const { wss, port } = await listen({ skipUTF8Validation: skip });
      const connected = next<[WebSocket]>(wss, "connection");
      const { client } = await RawClient.open(port);
      const [server] = await connected;
      const outcome = new Promise<string>((resolve) => {
        server.on("message", (data) => resolve(`message:${[...(data as Buffer)].join(",")}`));
        server.on("error", (error: Error & { code: string }) => resolve(`error:${error.code}`));
      });
      client.sendFrame({ opcode: Op.text, payload: Buffer.from([0xff, 0x41]) });
      assert.equal(await outcome, skip ? "message:255,65" : "error:WS_ERR_INVALID_UTF8");
      client.destroy();
      await shutdown(wss);
    }
  });

  test("allowSynchronousEvents: false emits one message per turn of the event loop", async () => {
    const { wss, port } = await listen({ allowSynchronousEvents: false });
    const connected = next<[WebSocket]>(wss, "connection");
    const { client } = await RawClient.open(port);
    const [server] = await connected;
    // Each message event schedules a marker for the next turn; the next message must find it set.
    const turnPassed: boolean[] = [];
    let marker = true;
    const got = new Promise<void>((resolve) => {
      server.on("message", () => {
        turnPassed.push(marker);
        marker = false;
        setImmediate(() => (marker = true));
        if (turnPassed.length === 3) resolve();
      });
    });
    const { encodeFrame } = await import("../helpers/frames.js");
    client.write(Buffer.concat([1, 2, 3].map((n) => encodeFrame({ opcode: Op.text, payload: String(n) }))));
    await got;
    assert.deepEqual(turnPassed, [true, true, true], "three messages read at once, emitted in three turns");
    client.destroy();
    await shutdown(wss);
  });
});

describe("sending", () => {
  test("the send callback fires once the data is written; after close it gets ws's error", async () => {
    const { wss, client, server } = await pair();
    const written = await new Promise<Error | undefined>((resolve) => client.send("x", resolve));
    assert.ifError(written);
    await next(server, "message");
    client.close();
    assert.equal(client.readyState, WebSocket.CLOSING);
    const late = await new Promise<Error | undefined>((resolve) => client.send("late", resolve));
    assert.equal(late?.message, "WebSocket is not open: readyState 2 (CLOSING)");
    assert.equal(client.bufferedAmount, 4, "data sent while closing counts in bufferedAmount");
    await next(client, "close");
    const closedError = await new Promise<Error | undefined>((resolve) => client.ping(resolve));
    assert.equal(closedError?.message, "WebSocket is not open: readyState 3 (CLOSED)");
    await shutdown(wss);
  });

  test("callbacks of compressed sends fire in order; bufferedAmount counts data still being compressed", async () => {
    const { wss, client, server } = await pair({ perMessageDeflate: true }, { perMessageDeflate: { threshold: 0 } });
    const order: number[] = [];
    const got = messages(server, 3);
    client.send("one", () => order.push(1));
    assert.equal(client.bufferedAmount, 3);
    client.send("two", () => order.push(2));
    client.send("three", () => order.push(3));
    await got;
    await sleep(10);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(client.bufferedAmount, 0);
    client.close();
    await shutdown(wss);
  });

  test("a broadcast loop: each client gets the message, and a Buffer changed between sends goes as it is then", async () => {
    const { wss, url } = await listen();
    const clients = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<WebSocket>((resolve) => {
            const ws = new WebSocket(url);
            ws.once("open", () => resolve(ws));
          }),
      ),
    );
    while (wss.clients.size < 3) await sleep(5);
    const inboxes = clients.map((client) => messages(client, 3));
    const text = JSON.stringify({ to: "everyone" });
    const bytes = Buffer.from("version-1");
    for (const server of wss.clients) server.send(text);
    for (const server of wss.clients) server.send(bytes);
    bytes.write("version-2");
    for (const server of wss.clients) server.send(bytes, () => undefined);
    for (const inbox of await Promise.all(inboxes)) {
      assert.deepEqual(
        inbox.map(([data, isBinary]) => [textOf(data), isBinary]),
        [
          [text, false],
          ["version-1", true],
          ["version-2", true],
        ],
      );
    }
    for (const client of clients) client.close();
    await shutdown(wss);
  });

  test("Blobs are sent in order with what is sent around them", async () => {
    const { wss, client, server } = await pair();
    const got = messages(server, 3);
    client.send("before");
    client.send(new Blob(["blob body"]));
    client.send("after");
    const received = await got;
    assert.deepEqual(
      received.map(([data, isBinary]) => [textOf(data), isBinary]),
      [
        ["before", false],
        ["blob body", true],
        ["after", false],
      ],
    );
    client.close();
    await shutdown(wss);
  });

  test("messages sent before the peer's close still arrive, compressed ones included", async () => {
    const { wss, client, server } = await pair({ perMessageDeflate: { threshold: 0 } }, { perMessageDeflate: { threshold: 0 } });
    server.on("message", (data, isBinary) => server.send(data, { binary: isBinary }));
    const echoed = messages(client, 1);
    const closed = closeOf(client);
    client.send("echo me");
    client.close(1000, "done");
    assert.equal(textOf((await echoed)[0]![0]), "echo me", "the echo, compressed while the close arrived, is not lost");
    assert.deepEqual(await closed, { code: 1000, reason: "done" });
    await shutdown(wss);
  });

  test("bufferedAmount is what the socket could not write at once", async () => {
    const { wss, client, server } = await pair();
    assert.equal(server.bufferedAmount, 0);
    server.send("small");
    assert.equal(server.bufferedAmount, 0, "a small message the kernel takes at once is not buffered");
    client.pause();
    while (server.bufferedAmount === 0) server.send(Buffer.alloc(64 * 1024));
    assert.equal(server.bufferedAmount, server._socket!.writableLength);
    client.terminate();
    await shutdown(wss);
  });
});

describe("control frames", () => {
  test("ping and pong carry data (numbers as text); pings are answered automatically", async () => {
    const { wss, client, server } = await pair();
    const pinged = next<[Buffer]>(server, "ping");
    const ponged = next<[Buffer]>(client, "pong");
    const written = new Promise<Error | undefined>((resolve) => client.ping(123, true, resolve));
    assert.equal(String((await pinged)[0]), "123");
    assert.equal(String((await ponged)[0]), "123");
    assert.ifError(await written);
    const unsolicited = next<[Buffer]>(client, "pong");
    server.pong("unsolicited");
    assert.equal(String((await unsolicited)[0]), "unsolicited");
    assert.throws(() => client.ping(Buffer.alloc(126)), { name: "RangeError", message: "The data size must not be greater than 125 bytes" });
    client.close();
    await shutdown(wss);
  });

  test("autoPong: false leaves answering to the program", async () => {
    const { wss, client, server } = await pair({ autoPong: false });
    let ponged = false;
    client.on("pong", () => (ponged = true));
    const pinged = next(server, "ping");
    client.ping("p");
    await pinged;
    await sleep(30);
    assert.equal(ponged, false);
    const answered = next<[Buffer]>(client, "pong");
    server.pong("by hand");
    assert.equal(String((await answered)[0]), "by hand");
    client.close();
    await shutdown(wss);
  });

  test("pause() stops message events and reading; resume() delivers what waited", async () => {
    const { wss, client, server } = await pair();
    server.pause();
    assert.equal(server.isPaused, true);
    assert.equal(server._socket!.isPaused(), true);
    let received = 0;
    server.on("message", () => received++);
    client.send("while paused");
    await sleep(30);
    assert.equal(received, 0);
    const got = next(server, "message");
    server.resume();
    assert.equal(server.isPaused, false);
    await got;
    assert.equal(received, 1);
    client.close();
    await shutdown(wss);
  });
});

describe("closing", () => {
  test("close(code, reason) reaches the peer; both see the code and a Buffer reason; readyState goes CLOSING then CLOSED", async () => {
    const { wss, client, server } = await pair();
    const serverClosed = next<[number, Buffer]>(server, "close");
    const clientClosed = closeOf(client);
    client.close(4000, "custom");
    assert.equal(client.readyState, WebSocket.CLOSING);
    const [code, reason] = await serverClosed;
    assert.equal(code, 4000);
    assert.ok(Buffer.isBuffer(reason));
    assert.equal(String(reason), "custom");
    assert.deepEqual(await clientClosed, { code: 4000, reason: "custom" });
    assert.equal(client.readyState, WebSocket.CLOSED);
    await shutdown(wss);
  });

  test("close() without a code is seen as 1005; bad codes and long reasons throw", async () => {
    const { wss, client, server } = await pair();
    assert.throws(() => client.close(1005), { name: "TypeError", message: "First argument must be a valid error code number" });
    assert.throws(() => client.close(1000, "x".repeat(124)), { name: "RangeError", message: "The message must not be greater than 123 bytes" });
    const serverClosed = closeOf(server);
    client.close();
    assert.deepEqual(await serverClosed, { code: 1005, reason: "" });
    await shutdown(wss);
  });

  test("terminate() drops the connection: the peer sees 1006", async () => {
    const { wss, client, server } = await pair();
    const serverClosed = closeOf(server);
    const clientClosed = closeOf(client);
    client.terminate();
    assert.equal(client.readyState, WebSocket.CLOSING);
    assert.deepEqual(await serverClosed, { code: 1006, reason: "" });
    assert.deepEqual(await clientClosed, { code: 1006, reason: "" });
    await shutdown(wss);
  });
});

describe("protocol errors", () => {
  test("each violation is an error with ws's code and message, then the peer gets the close code", async () => {
    const cases: Array<[Parameters<RawClient["sendFrame"]>[0], string, string, number]> = [
      [{ opcode: 5 }, "WS_ERR_INVALID_OPCODE", "Invalid WebSocket frame: invalid opcode 5", 1002],
      [{ opcode: Op.text, payload: "x", rsv: 2 }, "WS_ERR_UNEXPECTED_RSV_2_3", "Invalid WebSocket frame: RSV2 and RSV3 must be clear", 1002],
      [{ opcode: Op.text, payload: "x", rsv: 4 }, "WS_ERR_UNEXPECTED_RSV_1", "Invalid WebSocket frame: RSV1 must be clear", 1002],
      [{ opcode: Op.text, payload: "x", mask: false }, "WS_ERR_EXPECTED_MASK", "Invalid WebSocket frame: MASK must be set", 1002],
      [{ opcode: Op.ping, fin: false }, "WS_ERR_EXPECTED_FIN", "Invalid WebSocket frame: FIN must be set", 1002],
      [{ opcode: Op.close, payload: closePayload(999) }, "WS_ERR_INVALID_CLOSE_CODE", "Invalid WebSocket frame: invalid status code 999", 1002],
      [{ opcode: Op.ping, payload: Buffer.alloc(126) }, "WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", "Invalid WebSocket frame: invalid payload length 126", 1002],
    ];
    const { wss, port } = await listen();
    for (const [frame, code, message, closeCode] of cases) {
      const connected = next<[WebSocket]>(wss, "connection");
      const { client } = await RawClient.open(port);
      const [server] = await connected;
      const errored = next<[Error & { code: string }]>(server, "error");
      const serverClosed = closeOf(server);
      client.sendFrame(frame);
      const [error] = await errored;
      assert.equal(error.code, code);
      assert.equal(error.message, message);
      assert.equal(server.readyState, WebSocket.CLOSING, "the error comes at once, before the close");
      const close = await client.readFrame();
      assert.equal(close.closeCode, closeCode, code);
      client.destroy();
      assert.equal((await serverClosed).code, 1006, "the side that failed the connection saw no close frame");
    }
    await shutdown(wss);
  });

  test("without an 'error' listener a protocol error does not crash the process", async () => {
    const { wss, port } = await listen();
    const connected = next<[WebSocket]>(wss, "connection");
    const { client } = await RawClient.open(port);
    const [server] = await connected;
    const serverClosed = next(server, "close");
    client.sendFrame({ opcode: 5 });
    await client.readFrame();
    client.destroy();
    await serverClosed;
    await shutdown(wss);
  });

  test("a reset connection ends in close 1006 without an 'error' event", async () => {
    const { wss, client, server } = await pair();
    let errors = 0;
    client.on("error", () => errors++);
    const closed = closeOf(client);
    (server._socket as import("node:net").Socket).resetAndDestroy();
    assert.deepEqual(await closed, { code: 1006, reason: "" });
    assert.equal(errors, 0);
    await shutdown(wss);
  });
});

describe("the event-target API", () => {
  test("onmessage/onclose/onopen/onerror and addEventListener hand out event objects", async () => {
    const { wss, url } = await listen();
    wss.on("connection", (ws: WebSocket) => {
      ws.send("text");
      ws.send(Buffer.from([1]));
      ws.close(4100, "why");
    });
    const ws = new WebSocket(url);
    const seen: string[] = [];
    ws.onopen = (event) => seen.push(`open:${event.type}:${event.target === ws}`);
    ws.onmessage = (event) => seen.push(`message:${typeof event.data === "string" ? event.data : "bytes"}`);
    const listener = { handleEvent: (event: WebSocket.CloseEvent) => seen.push(`close:${event.code}:${event.reason}:${event.wasClean}`) };
    ws.addEventListener("close", listener);
    ws.addEventListener("close", listener); // added once
    await next(ws, "close");
    assert.deepEqual(seen, ["open:open:true", "message:text", "message:bytes", "close:4100:why:true"]);
    assert.equal(ws.listenerCount("close"), 1);
    ws.removeEventListener("close", listener);
    assert.equal(ws.listenerCount("close"), 0);
    await shutdown(wss);
  });

  test("an on* attribute holds one handler; setting a non-function removes it; ErrorEvent has the error", async () => {
    const ws = new WebSocket("ws://127.0.0.1:1");
    const first = (): void => undefined;
    ws.onclose = first;
    ws.onclose = () => undefined;
    assert.equal(ws.listenerCount("close"), 1);
    assert.notEqual(ws.onclose, first);
    ws.onclose = "nonsense" as never;
    assert.equal(ws.onclose, null);
    assert.equal(ws.listenerCount("close"), 0);
    const closed = next(ws, "close");
    const event = await new Promise<WebSocket.ErrorEvent>((resolve) => (ws.onerror = resolve));
    assert.equal(event.type, "error");
    assert.equal(event.message, event.error.message);
    await closed;
  });
});
