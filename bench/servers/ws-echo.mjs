// Echo (and broadcast) server on the `ws` npm package.
// Usage: node bench/servers/ws-echo.mjs --port N [--host H] [--deflate]
//   any path but /broadcast: echo every message with its opcode
//   /broadcast: a message from any client goes to every /broadcast client, the sender included
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
    deflate: { type: "boolean", default: false },
  },
});

const wss = new WebSocketServer({
  port: Number(values.port),
  host: values.host,
  perMessageDeflate: values.deflate,
  maxPayload: 64 * 1024 * 1024, // above the 4 MiB of scenario (e) with room to spare
  clientTracking: false, // the echo needs no client set; broadcast keeps its own
});

const subscribers = new Set();

wss.on("connection", (ws, req) => {
  ws.on("error", () => ws.terminate());
  if (req.url === "/broadcast") {
    subscribers.add(ws);
    ws.on("close", () => subscribers.delete(ws));
    ws.on("message", (data, isBinary) => {
      for (const client of subscribers) {
        if (client.readyState === client.OPEN) client.send(data, { binary: isBinary });
      }
    });
    return;
  }
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});

wss.on("listening", () => {
  console.log(JSON.stringify({ ready: true, server: "ws", port: wss.address().port, ...nativeHelpers() }));
});

// Proof that ws runs with its native helpers, read from ws's own modules (same require cache):
// masking comes from bufferutil; UTF-8 checks from Node's buffer.isUtf8 (ws prefers it over
// utf-8-validate when Node has it, as Node 20 does).
function nativeHelpers() {
  const require = createRequire(import.meta.url);
  const wsDir = path.dirname(require.resolve("ws"));
  const bufferUtil = require(path.join(wsDir, "lib", "buffer-util.js"));
  const bufferutil = String(bufferUtil.unmask).includes("bufferUtil.unmask") ? "native" : "js-fallback";
  const utf8 = typeof require("node:buffer").isUtf8 === "function" ? "buffer.isUtf8" : "utf-8-validate or js";
  return { bufferutil, utf8, deflate: values.deflate };
}
