// Pub/sub fan-out server on Bun.serve (uWebSockets topics), beside bench/servers/hawser-pubsub.ts
// for bench/pubsub.ts. Every WebSocket subscribes to one topic; every message any of them
// sends is published to the topic with server.publish, so it reaches all subscribers, the
// sender included (what the load generator's broadcast mode counts).
// Usage: bun bench/servers/bun-pubsub.js --port N [--host H]
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

const TOPIC = "bench";

const server = Bun.serve({
  port: Number(values.port),
  hostname: values.host,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response("ws only\n", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    idleTimeout: 960, // the longest Bun allows: quiet subscribers must not be reaped
    // Bun's default limit drops a subscriber past 16 MiB buffered; hawser's is 4 MiB. Keep Bun's.
    open(ws) {
      ws.subscribe(TOPIC);
    },
    message(_ws, message) {
      server.publish(TOPIC, message);
    },
  },
});

console.log(JSON.stringify({ ready: true, server: "bun-pubsub", port: server.port, bun: Bun.version }));
