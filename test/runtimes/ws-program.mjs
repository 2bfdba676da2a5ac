// A small `ws` program on hawser/ws, run by test/runtimes/runtimes.test.ts under Bun and Deno
// (and Node, as the reference): a WebSocketServer on a free port and a WebSocket client, both
// from "hawser/ws" as a `ws` user writes them, with permessage-deflate, exchanging text and
// binary messages, a ping and its pong, and a close with a code and reason. Plain JavaScript, imported by package name. It
// prints one JSON report of what each side saw.
//
//   RUNTIME ws-program.mjs
import { Buffer } from "node:buffer";
import process from "node:process";
import WebSocket, { WebSocketServer } from "hawser/ws";

const report = { server: [], client: [] };
const timeout = setTimeout(() => {
  process.stdout.write(JSON.stringify({ ...report, timedOut: true }));
  process.exit(1);
}, 20_000);

function pattern(size) {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return bytes;
}

/** A received message, as a comparable summary: kind, length, and its start (text) or whether it matches pattern() (binary). */
function summary(data, isBinary) {
  if (!isBinary) {
    const text = data.toString();
    return ["text", text.length, text.slice(0, 21)];
  }
  return ["binary", data.length, Buffer.isBuffer(data) && data.equals(pattern(data.length))];
}

const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: true });
await new Promise((resolve, reject) => {
  wss.once("listening", resolve);
  wss.once("error", reject);
});
const { port } = wss.address();

// The server echoes every message, and reports what it saw.
const serverClosed = new Promise((resolve) => {
  wss.on("connection", (ws, req) => {
    report.server.push(["connection", req.url, ws.protocol]);
    ws.on("message", (data, isBinary) => {
      report.server.push(["message", ...summary(data, isBinary)]);
      ws.send(data, { binary: isBinary });
    });
    ws.on("ping", (data) => report.server.push(["ping", data.toString()]));
    ws.on("error", (error) => report.server.push(["error", error.message]));
    ws.on("close", (code, reason) => {
      report.server.push(["close", code, reason.toString()]);
      resolve();
    });
  });
});

const client = new WebSocket(`ws://127.0.0.1:${port}/path?x=1`, ["chat"]);
const clientClosed = new Promise((resolve) => {
  const expected = 4;
  let echoes = 0;
  client.on("open", () => {
    report.client.push(["open", client.readyState, client.protocol, client.extensions]);
    client.send("hello from the client");
    client.send("é".repeat(5000));
    client.send(pattern(70_000));
    client.send(pattern(0), { binary: true });
  });
  client.on("message", (data, isBinary) => {
    report.client.push(["message", ...summary(data, isBinary)]);
    if (++echoes === expected) client.ping("are you there");
  });
  client.on("pong", (data) => {
    report.client.push(["pong", data.toString()]);
    client.close(4001, "client done");
  });
  client.on("error", (error) => report.client.push(["error", error.message]));
  client.on("close", (code, reason) => {
    report.client.push(["close", code, reason.toString(), client.readyState]);
    resolve();
  });
});

await Promise.all([clientClosed, serverClosed]);
await new Promise((resolve) => wss.close(resolve));
clearTimeout(timeout);
process.stdout.write(JSON.stringify(report));
