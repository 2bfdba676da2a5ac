// Echo (and broadcast) server on Bun.serve, whose WebSocket server is uWebSockets.
// Usage: bun bench/servers/bun-echo.js --port N [--host H] [--deflate]
//   any path but /broadcast: echo every message with its opcode
//   /broadcast: a message from any client goes to every /broadcast client, the sender included
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
    deflate: { type: "boolean", default: false },
  },
});

const TOPIC = "broadcast";

const server = Bun.serve({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, srv) {
    const broadcast = new URL(req.url).pathname === "/broadcast";
    if (srv.upgrade(req, { data: { broadcast } })) return undefined;
    return new Response("ws only\n", { status: 426 });
  },
  websocket: {
    perMessageDeflate: values.deflate,
    maxPayloadLength: 64 * 1024 * 1024, // above the 4 MiB of scenario (e)
    idleTimeout: 960, // the longest Bun allows: idle connections (f) must not be reaped
    open(ws) {
      if (ws.data.broadcast) ws.subscribe(TOPIC);
    },
    message(ws, message) {
      // server.publish reaches every subscriber; ws.publish would skip the sender.
      if (ws.data.broadcast) server.publish(TOPIC, message);
      else ws.send(message);
    },
  },
});

console.log(JSON.stringify({ ready: true, server: "bun", port: server.port, bun: Bun.version, deflate: values.deflate }));
