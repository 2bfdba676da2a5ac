// Interop: hawser's client against the `ws` npm server: every frame-length encoding, text and
// binary, fragmented messages, pings both ways, closes both ways with codes and reasons.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { WebSocketServer, type WebSocket as WsSocket } from "ws";
import { ClientWebSocket, connect, WebSocketOpcode } from "../../src/index.js";
import { INTEROP_SERVER_CLOSES, INTEROP_SIZES, MiB, randomPayload, randomText, sizeLabel } from "../helpers/payloads.js";
import { waitUntil, withTimeout } from "../helpers/wait.js";

const CONFIG = { maximumMessageSize: 32 * MiB, pingFrequency: 0 };
/** What the `ws` server saw when a connection closed, by request path. */
const serverCloses = new Map<string, { code: number; reason: string }>();
let wss: WebSocketServer;
let base: string;

before(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * MiB, handleProtocols: (protocols) => (protocols.has("chat") ? "chat" : false) });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  base = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  wss.on("connection", (ws: WsSocket, request: IncomingMessage) => {
    const url = new URL(request.url ?? "/", base);
    ws.on("close", (code, reason) => serverCloses.set(request.url ?? "", { code, reason: reason.toString() }));
    switch (url.pathname) {
      case "/echo":
        ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
        break;
      case "/fragments":
        ws.send("frag", { fin: false });
        ws.send("men", { fin: false });
        ws.send("ted ✓", { fin: true });
        ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
        ws.send(Buffer.alloc(0), { binary: true, fin: false });
        ws.send(Buffer.from([3]), { binary: true, fin: true });
        break;
      case "/ping":
        ws.on("pong", (data) => ws.send(`pong:${data.toString()}`));
        ws.ping("from ws");
        break;
      case "/close":
        ws.close(Number(url.searchParams.get("code")), url.searchParams.get("reason") ?? "");
        break;
    }
  });
});
after(
  () =>
    new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    }),
);

async function open(path: string, config = {}): Promise<ClientWebSocket> {
  return connect(`${base}${path}`, { ...CONFIG, ...config });
}

function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  if (!actual.equals(expected)) assert.fail(`${what}: contents differ`);
}

describe("hawser client ↔ ws server", () => {
  for (const size of INTEROP_SIZES) {
    test(`text and binary of ${sizeLabel(size)} come back byte for byte`, async () => {
      const client = await open("/echo");
      const text = randomText(size);
      client.send(text);
      const echoedText = await withTimeout(client.recv(), 30_000, "the text echo");
      assert.equal(echoedText.opcode, WebSocketOpcode.text);
      assertSameBytes(echoedText.data, Buffer.from(text), "text echo");
      const bytes = randomPayload(size);
      client.send(bytes);
      const echoedBytes = await withTimeout(client.recv(), 30_000, "the binary echo");
      assert.equal(echoedBytes.opcode, WebSocketOpcode.binary);
      assertSameBytes(echoedBytes.data, bytes, "binary echo");
      client.close();
      await client.closed;
    });
  }

  test("fragmented text and binary messages are reassembled", async () => {
    const client = await open("/fragments");
    const text = await client.recv();
    assert.equal(text.opcode, WebSocketOpcode.text);
    assert.equal(text.textData, "fragmented ✓");
    const binary = await client.recv();
    assert.equal(binary.opcode, WebSocketOpcode.binary);
    assert.deepEqual([...binary.data], [1, 2, 3]);
    client.close();
    await client.closed;
  });

  test("the server's ping is answered with its payload; the client's ping gets the server's pong", async () => {
    const client = new ClientWebSocket(`${base}/ping`, CONFIG);
    const pings: string[] = [];
    client.onping = (data) => pings.push(data.toString());
    await client.connect();
    assert.equal((await client.recv()).textData, "pong:from ws");
    assert.deepEqual(pings, ["from ws"]);
    const pong = new Promise<Buffer>((resolve) => (client.onpong = resolve));
    client.ping(Buffer.from("from hawser"));
    assert.equal((await withTimeout(pong, 2000, "the pong")).toString(), "from hawser");
    client.close();
    await client.closed;
  });

  test("a client close with a code and reason reaches ws, and the close is clean", async () => {
    const client = await open("/echo?close-test");
    client.close(4321, "client says bye ✓");
    const event = await client.closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4321, "client says bye ✓", true]);
    await waitUntil(() => serverCloses.has("/echo?close-test"), 2000, "ws to report the close");
    assert.deepEqual(serverCloses.get("/echo?close-test"), { code: 4321, reason: "client says bye ✓" });
  });

  for (const [code, reason] of INTEROP_SERVER_CLOSES) {
    test(`a server close ${code} ${JSON.stringify(reason)} is reported with the same code and reason`, async () => {
      const client = await open(`/close?code=${code}&reason=${encodeURIComponent(reason)}`);
      const event = await withTimeout(client.closed, 5000, "the close");
      assert.deepEqual([event.code, event.reason, event.wasClean], [code, reason, true]);
    });
  }

  test("subprotocol negotiation with ws's handleProtocols", async () => {
    const client = await open("/echo", { protocol: ["superchat", "chat"] });
    assert.equal(client.protocol, "chat");
    client.close();
    await client.closed;
  });
});
