// examples/socket-io.ts, the README's Socket.IO example: imported as a test would, and run as a
// program. Its WebSockets must be hawser/ws's (the example imports it directly, not the switch).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import RealWebSocket from "ws";
import { assertBuilt, startProgram } from "../helpers/cli.js";
import { deferred, waitUntil, withTimeout } from "../helpers/wait.js";

interface RunningChat {
  readonly port: number;
  readonly io: import("socket.io").Server;
  close(): Promise<void>;
}

async function connect(url: string): Promise<ClientSocket> {
  const client = connectClient(url, { forceNew: true, reconnection: false });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    }),
    5000,
    `socket.io-client to connect to ${url}`,
  );
  return client;
}

/** Two clients chat: the sender gets the ack, the other one the message. */
async function checkChat(url: string): Promise<{ ann: ClientSocket; ben: ClientSocket }> {
  const ann = await connect(url);
  const ben = await connect(url);
  const heard = deferred<unknown>();
  ben.once("chat", (message: unknown) => heard.resolve(message));
  assert.equal(await ann.timeout(5000).emitWithAck("chat", "hello from ann ✓"), "delivered to 1");
  assert.deepEqual(await withTimeout(heard.promise, 5000, "ben to hear ann"), { from: ann.id, text: "hello from ann ✓" });
  return { ann, ben };
}

describe("examples/socket-io.ts: Socket.IO with wsEngine: hawser/ws's WebSocketServer", () => {
  let chat: RunningChat;
  before(async () => {
    assertBuilt();
    const example = (await import("../../examples/socket-io.js")) as { start(port: number): Promise<RunningChat> };
    chat = await example.start(0);
  });
  after(() => chat?.close());

  test("clients chat with acknowledgements, over WebSockets that are hawser/ws's", async () => {
    const { WebSocket: HawserWebSocket } = await import("hawser/ws");
    const { ann, ben } = await checkChat(`http://127.0.0.1:${chat.port}`);
    try {
      for (const client of [ann, ben]) {
        await waitUntil(() => client.io.engine.transport.name === "websocket", 5000, "the upgrade to websocket");
        // engine.io replaces conn.transport when the upgrade lands on the server (a moment after
        // the client switched), so it is read afresh on each check, never kept from before.
        const serverTransport = () => chat.io.sockets.sockets.get(client.id!)?.conn.transport as unknown as { name: string; socket?: unknown } | undefined;
        await waitUntil(() => serverTransport()?.name === "websocket", 5000, "the server side of the upgrade");
        const transport = serverTransport()!;
        assert.ok(transport.socket instanceof HawserWebSocket, "the server's socket is hawser/ws's WebSocket");
        assert.ok(!(transport.socket instanceof RealWebSocket), "and not one of ws's");
      }
    } finally {
      ann.close();
      ben.close();
    }
  });

  test("npx tsx examples/socket-io.ts --port 0 listens and serves the same chat", async () => {
    const file = fileURLToPath(new URL("../../examples/socket-io.ts", import.meta.url));
    const program = await startProgram(file, ["--port", "0", "--host", "127.0.0.1"], ["--import", "tsx"]);
    try {
      const { ann, ben } = await checkChat(program.httpUrl);
      ann.close();
      ben.close();
    } finally {
      await program.stop();
    }
  });
});
