// Every member of the seed's client WebSocket (../shared/seed/websocket-api.txt), against a
// hawser server whose server-side sockets the test can see.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, describe, test } from "node:test";
import { ClientWebSocket, CloseEvent, connect, DEFAULT_CLIENT_CONFIG, WebSocket, WebSocketOpcode } from "../../src/index.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, withTimeout } from "../helpers/wait.js";
import { Op } from "../helpers/frames.js";
import { startRawServer } from "./raw-server.js";

const server = await startSocketServer({ pingIntervalMs: 0 });
after(() => server.close());

/** Connects a client and returns it with the server's side of the connection. */
async function pair(config = {}) {
  const client = new ClientWebSocket(server.url, { pingFrequency: 0, ...config });
  const [accepted] = await Promise.all([server.nextSocket(), client.connect()]);
  return { client, peer: accepted.socket };
}

describe("seed client", () => {
  test("CONNECTING/OPEN/CLOSING/CLOSED constants and readyState through a connection's life", async () => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const client = new ClientWebSocket(server.url, { pingFrequency: 0 });
    assert.deepEqual([client.CONNECTING, client.OPEN, client.CLOSING, client.CLOSED], [0, 1, 2, 3]);
    assert.ok(client instanceof WebSocket, "the client is the same WebSocket class as the server's");
    assert.equal(client.readyState, client.CONNECTING);
    const opened = client.connect();
    assert.equal(client.readyState, client.CONNECTING);
    const { socket: peer } = await server.nextSocket();
    await opened;
    assert.equal(client.readyState, client.OPEN);
    peer.onmessage = () => undefined; // keep reading
    client.close();
    assert.equal(client.readyState, client.CLOSING);
    await client.closed;
    assert.equal(client.readyState, client.CLOSED);
  });

  test("onopen fires once, before connect() resolves; connect() twice is one connection", async () => {
    const client = new ClientWebSocket(server.url, { pingFrequency: 0 });
    const seen: string[] = [];
    client.onopen = () => seen.push(`open ${client.readyState}`);
    const first = client.connect();
    assert.equal(client.connect(), first);
    await first.then(() => seen.push("resolved"));
    assert.deepEqual(seen, ["open 1", "resolved"]);
    await server.nextSocket();
    client.terminate();
  });

  test("send(text) and send(bytes) arrive as text and binary; onmessage, ontextmessage, onbinarymessage", async () => {
    const { client, peer } = await pair();
    const received: string[] = [];
    peer.onmessage = (event) => peer.send(event.data);
    client.onmessage = (event) => received.push(`message ${event.isBinary ? "binary" : "text"} ${Buffer.from(event.data).toString("hex")}`);
    client.ontextmessage = (text) => received.push(`text ${text}`);
    client.onbinarymessage = (data) => received.push(`binary ${data.toString("hex")}`);
    assert.equal(client.send("héllo"), true);
    assert.equal(client.send(new Uint8Array([1, 2, 3])), true);
    client.send(new Uint8Array([4, 5]).buffer);
    await withTimeout(
      waitFor(() => received.length === 6),
      2000,
      "three echoes",
    );
    assert.deepEqual(received, [
      `message text ${Buffer.from("héllo").toString("hex")}`,
      "text héllo",
      "message binary 010203",
      "binary 010203",
      "message binary 0405",
      "binary 0405",
    ]);
    client.terminate();
  });

  test("waitForNextMessage(), isMessageBuffered() and waitForNextMessageWouldBlock()", async () => {
    const { client, peer } = await pair();
    assert.equal(client.isMessageBuffered(), false);
    assert.equal(client.waitForNextMessageWouldBlock(), true);
    const pending = client.waitForNextMessage();
    peer.send("first");
    const first = await pending;
    assert.equal(first.opcode, WebSocketOpcode.text);
    assert.equal(first.textData, "first");
    peer.send(Buffer.from([7, 7]));
    await withTimeout(
      waitFor(() => client.isMessageBuffered()),
      2000,
      "a buffered message",
    );
    assert.equal(client.waitForNextMessageWouldBlock(), false);
    const second = await client.waitForNextMessage();
    assert.equal(second.opcode, WebSocketOpcode.binary);
    assert.deepEqual([...second.data], [7, 7]);
    peer.close(4001, "bye");
    const end = await client.waitForNextMessage();
    assert.equal(end.opcode, WebSocketOpcode.close);
    assert.equal(end.code, 4001);
    assert.equal(end.reason, "bye");
    assert.equal(end.wasClean, true);
  });

  test("ping(data) gets the server's pong at onpong; pong(data) reaches the server; pings are answered", async () => {
    const { client, peer } = await pair();
    const pong = new Promise<Buffer>((resolve) => (client.onpong = resolve));
    client.ping("marco");
    assert.equal((await withTimeout(pong, 2000, "pong")).toString(), "marco");
    const serverGotPong = new Promise<Buffer>((resolve) => (peer.onpong = resolve));
    client.pong(new Uint8Array([1, 2]));
    assert.deepEqual([...(await withTimeout(serverGotPong, 2000, "unsolicited pong"))], [1, 2]);
    const answered = new Promise<Buffer>((resolve) => (peer.onpong = resolve));
    const clientSawPing = new Promise<Buffer>((resolve) => (client.onping = resolve));
    peer.ping("polo");
    assert.equal((await withTimeout(clientSawPing, 2000, "ping")).toString(), "polo");
    assert.equal((await withTimeout(answered, 2000, "automatic pong")).toString(), "polo");
    assert.throws(() => client.ping(Buffer.alloc(126)), /at most 125/);
    client.terminate();
  });

  test("close(code, reason) reaches the server; onclose gets CloseEvent{code, reason, wasClean}", async () => {
    const { client, peer } = await pair();
    peer.onmessage = () => undefined;
    const serverSaw = peer.closed;
    const events: CloseEvent[] = [];
    client.onclose = (event) => events.push(event);
    client.close(4002, "done here");
    const seenByServer = await serverSaw;
    assert.equal(seenByServer.code, 4002);
    assert.equal(seenByServer.reason, "done here");
    const event = await client.closed;
    assert.equal(events.length, 1);
    assert.ok(event instanceof CloseEvent);
    assert.equal(event.code, 4002, "the server echoed our code");
    assert.equal(event.wasClean, true);
    assert.throws(() => new ClientWebSocket(server.url).close(999), /Close code 999 cannot be sent/);
  });

  test("a server-initiated close: onclose with the server's code and reason", async () => {
    const { client, peer } = await pair();
    const closed = new Promise<CloseEvent>((resolve) => (client.onclose = resolve));
    peer.close(1001, "going away");
    const event = await withTimeout(closed, 2000, "onclose");
    assert.deepEqual([event.code, event.reason, event.wasClean], [1001, "going away", true]);
    assert.equal(client.send("late"), false, "sending after the close is a no-op that says so");
  });

  test("onerror, then onclose 1006 when the server drops the connection or breaks the protocol", async () => {
    const { client, peer } = await pair();
    const events: string[] = [];
    client.onerror = (error) => events.push(`error ${error.message}`);
    client.onclose = (event) => events.push(`close ${event.code} ${event.wasClean}`);
    peer.terminate();
    await client.closed;
    assert.deepEqual(events.slice(-1), ["close 1006 false"]);

    const big = await pair({ maximumMessageSize: 1000 });
    const bigEvents: string[] = [];
    big.client.onerror = (error) => bigEvents.push(`error ${error.message}`);
    big.client.onclose = (event) => bigEvents.push(`close ${event.code}`);
    big.peer.send(Buffer.alloc(1001));
    const serverSaw = await big.peer.closed;
    assert.equal(serverSaw.code, 1009, "the client refused the message as too big");
    await big.client.closed;
    assert.match(bigEvents[0]!, /^error .*1009/);
    assert.equal(bigEvents[1], "close 1006");
  });

  test("after the closing handshake the client waits for the server to close TCP first (RFC 6455 7.1.1)", async (t) => {
    let clientEnded = false;
    const raw = await startRawServer((connection) => {
      connection.accept();
      connection.socket.on("end", () => (clientEnded = true));
      connection.sendFrame({ opcode: Op.close, payload: Buffer.from([0x03, 0xe8, 0x6f, 0x6b]) }); // 1000 "ok"
    });
    t.after(() => raw.close());
    const client = await connect(raw.url, { pingFrequency: 0 });
    const echoed = await raw.connections[0]!.frame(0);
    assert.equal(echoed.opcode, Op.close);
    assert.equal(echoed.closeCode, 1000, "the client echoes the server's code");
    await sleep(150);
    assert.equal(clientEnded, false, "the client must not close the TCP connection first");
    raw.connections[0]!.socket.end();
    const event = await withTimeout(client.closed, 2000, "the close");
    assert.deepEqual([event.code, event.reason, event.wasClean], [1000, "ok", true]);
  });

  test("a server that never closes TCP after the handshake is cut after closeTimeoutMs", async (t) => {
    const raw = await startRawServer((connection) => {
      connection.accept();
      connection.sendFrame({ opcode: Op.close, payload: Buffer.from([0x03, 0xe8]) });
    });
    t.after(() => raw.close());
    const client = await connect(raw.url, { pingFrequency: 0, closeTimeoutMs: 100 });
    const started = Date.now();
    const event = await withTimeout(client.closed, 2000, "the close");
    assert.ok(Date.now() - started < 1000);
    assert.equal(event.code, 1000);
  });

  test("send() before connect() says what to do", () => {
    const client = new ClientWebSocket(server.url);
    assert.throws(() => client.send("x"), /before the connection opened: wait for onopen \(or await connect\(\)\)/);
  });

  test("connect(url, config) resolves to an open client; url is normalized; defaults are the original's", async () => {
    const client = await connect(server.url.replace("ws:", "http:") + "/path?x=1", { pingFrequency: 0 });
    assert.equal(client.url, `${server.url}/path?x=1`);
    assert.equal(client.readyState, WebSocket.OPEN);
    assert.equal(DEFAULT_CLIENT_CONFIG.pingFrequency, 5000);
    assert.equal(DEFAULT_CLIENT_CONFIG.maximumMessageSize, 10 * 1024 * 1024);
    await server.nextSocket();
    client.terminate();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
