// `for await (const message of socket)` on both ends of a connection, ending cleanly on close.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { connect, WebSocketOpcode, type Cgi } from "../../src/index.js";
import { startServer } from "../helpers/server.js";
import { deferred, withTimeout } from "../helpers/wait.js";

test("server and client both iterate messages and their loops end when the connection closes", async () => {
  const serverLoop = deferred<string[]>();
  const server = await startServer(
    async (cgi: Cgi) => {
      const socket = cgi.acceptWebsocket();
      const seen: string[] = [];
      // The server echoes with for-await until the client closes.
      for await (const message of socket) {
        seen.push(message.opcode === WebSocketOpcode.text ? message.textData : `binary:${message.data.length}`);
        socket.send(message.opcode === WebSocketOpcode.text ? message.textData : message.data);
      }
      serverLoop.resolve(seen);
    },
    { pingIntervalMs: 0 },
  );
  after(() => server.close());

  const client = await connect(server.url, { pingFrequency: 0 });
  client.send("one");
  client.send(new Uint8Array(3));
  client.send("three");
  const received: string[] = [];
  for await (const message of client) {
    received.push(message.opcode === WebSocketOpcode.text ? message.textData : `binary:${message.data.length}`);
    if (received.length === 3) client.close(1000, "enough");
  }
  assert.deepEqual(received, ["one", "binary:3", "three"]);
  assert.equal(client.readyState, client.CLOSED);
  assert.deepEqual(await withTimeout(serverLoop.promise, 2000, "the server's loop to end"), ["one", "binary:3", "three"]);
  const end = await client.closed;
  assert.deepEqual([end.code, end.wasClean], [1000, true]);
});

test("a client loop ends when the server closes, after every message sent before the close", async () => {
  const server = await startServer(
    (cgi: Cgi) => {
      const socket = cgi.acceptWebsocket();
      for (let i = 0; i < 5; i++) socket.send(`m${i}`);
      socket.close(4000, "that is all");
    },
    { pingIntervalMs: 0 },
  );
  after(() => server.close());
  const client = await connect(server.url, { pingFrequency: 0 });
  const received: string[] = [];
  for await (const message of client) received.push(message.textData);
  assert.deepEqual(received, ["m0", "m1", "m2", "m3", "m4"]);
  const end = await client.closed;
  assert.deepEqual([end.code, end.reason, end.wasClean], [4000, "that is all", true]);
  // Iterating a closed socket ends at once.
  for await (const message of client) assert.fail(`unexpected ${message.textData}`);
});

test("a client loop ends (no throw) when the connection drops", async () => {
  const server = await startServer(
    (cgi: Cgi) => {
      const socket = cgi.acceptWebsocket();
      socket.send("before");
      setTimeout(() => socket.terminate(), 20);
    },
    { pingIntervalMs: 0 },
  );
  after(() => server.close());
  const client = await connect(server.url, { pingFrequency: 0 });
  const received: string[] = [];
  for await (const message of client) received.push(message.textData);
  assert.deepEqual(received, ["before"]);
  assert.equal((await client.closed).code, 1006);
});
