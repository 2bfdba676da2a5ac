// hawser/ws against the real `ws` package (a devDependency): its client against a hawser/ws
// server, and the hawser/ws client against a `ws` server, with and without permessage-deflate.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import RealWebSocket, { WebSocketServer as RealWebSocketServer } from "ws";
import { withTimeout } from "../helpers/wait.js";
import { EVENT_MS, listen, next, shutdown, WebSocket, WebSocketServer } from "./helpers.js";

type AnySocket = WebSocket | RealWebSocket;
type AnyServer = WebSocketServer | RealWebSocketServer;

const DEFLATE_SETTINGS = [false, { threshold: 0 }] as const;

/** Every message a socket receives, as [bytes, isBinary]. */
function inbox(ws: AnySocket, count: number): Promise<Array<[Buffer, boolean]>> {
  const received: Array<[Buffer, boolean]> = [];
  return withTimeout(
    new Promise((resolve) => {
      (ws as RealWebSocket).on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
        received.push([bytes, isBinary]);
        if (received.length === count) resolve(received);
      });
    }),
    EVENT_MS,
    `${count} messages`,
  );
}

function closeOf(ws: AnySocket): Promise<[number, string]> {
  return withTimeout(
    new Promise((resolve) => (ws as RealWebSocket).once("close", (code: number, reason: Buffer) => resolve([code, String(reason)]))),
    EVENT_MS,
    "close",
  );
}

async function realServer(perMessageDeflate: false | { threshold: number }): Promise<{ wss: RealWebSocketServer; url: string }> {
  const wss = new RealWebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate });
  await new Promise((resolve) => wss.once("listening", resolve));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

async function closeServer(wss: AnyServer): Promise<void> {
  for (const client of wss.clients ?? []) client.terminate();
  await new Promise((resolve) => wss.close(() => resolve(undefined)));
}

/** Runs one exchange between a client and the server-side socket of its connection. */
async function exchange(client: AnySocket, server: AnySocket, compressed: boolean): Promise<void> {
  const big = Buffer.alloc(200_000, 7);
  const atServer = inbox(server, 4);
  client.send("hello");
  client.send(big);
  (client as RealWebSocket).send("frag-", { fin: false });
  (client as RealWebSocket).send("mented");
  client.send(Buffer.from("bytes as text"), { binary: false });
  const received = await atServer;
  assert.deepEqual(received[0], [Buffer.from("hello"), false]);
  assert.ok(received[1]![0].equals(big));
  assert.equal(received[1]![1], true);
  assert.deepEqual(received[2], [Buffer.from("frag-mented"), false]);
  assert.equal(received[3]![1], false, "bytes sent with binary: false arrive as text");

  const pong = new Promise<Buffer>((resolve) => (client as RealWebSocket).once("pong", resolve));
  client.ping("are you there");
  assert.equal(String(await pong), "are you there");

  const atClient = inbox(client, 2);
  server.send(big, { compress: compressed });
  (server as RealWebSocket).send("server ", { fin: false });
  (server as RealWebSocket).send("fragments");
  const back = await atClient;
  assert.ok(back[0]![0].equals(big));
  assert.deepEqual(back[1], [Buffer.from("server fragments"), false]);

  const closedAtServer = closeOf(server);
  const closedAtClient = closeOf(client);
  client.close(4321, "done");
  assert.deepEqual(await closedAtServer, [4321, "done"]);
  assert.deepEqual(await closedAtClient, [4321, "done"]);
}

describe("interop with the ws package", () => {
  for (const deflate of DEFLATE_SETTINGS) {
    const label = deflate ? "with permessage-deflate" : "without compression";

    test(`ws's client against a hawser/ws server, ${label}`, async () => {
      const { wss, url } = await listen({ perMessageDeflate: deflate });
      const accepted = next<[WebSocket]>(wss, "connection");
      const client = new RealWebSocket(url, { perMessageDeflate: deflate });
      await new Promise((resolve) => client.once("open", resolve));
      const [server] = await accepted;
      assert.equal(client.extensions, deflate ? "permessage-deflate" : "");
      assert.equal(server.extensions, client.extensions);
      await exchange(client, server, Boolean(deflate));
      await shutdown(wss);
    });

    test(`the hawser/ws client against a ws server, ${label}`, async () => {
      const { wss, url } = await realServer(deflate);
      const accepted = new Promise<RealWebSocket>((resolve) => wss.once("connection", resolve));
      const client = new WebSocket(url, { perMessageDeflate: deflate });
      await next(client, "open");
      const server = await accepted;
      assert.equal(client.extensions, deflate ? "permessage-deflate" : "");
      await exchange(client, server, Boolean(deflate));
      await closeServer(wss);
    });
  }

  test("binaryType 'fragments' hands out the frames a ws peer sent", async () => {
    const { wss, url } = await realServer(false);
    wss.on("connection", (ws: RealWebSocket) => {
      ws.send(Buffer.from("one"), { fin: false });
      ws.send(Buffer.from("two"), { fin: false });
      ws.send(Buffer.from("three"));
    });
    const client = new WebSocket(url);
    client.binaryType = "fragments";
    const [data, isBinary] = await next<[Buffer[], boolean]>(client, "message");
    assert.equal(isBinary, true);
    assert.deepEqual(data.map(String), ["one", "two", "three"]);
    client.close();
    await closeServer(wss);
  });

  test("a protocol error from a ws peer's point of view: our server's close code reaches it", async () => {
    const { wss, url } = await listen({ maxPayload: 10 });
    const client = new RealWebSocket(url);
    await new Promise((resolve) => client.once("open", resolve));
    const closed = closeOf(client);
    client.send("far more than ten bytes");
    assert.equal((await closed)[0], 1009);
    await shutdown(wss);
  });
});
