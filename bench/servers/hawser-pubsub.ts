// Pub/sub fan-out server on hawser for bench/pubsub.ts. Every WebSocket subscribes to one
// topic; every message any of them sends goes out with server.publish, to all subscribers
// (the sender included) on this process and, with --redis, on every process sharing the Redis.
// Usage: node --import tsx bench/servers/hawser-pubsub.ts --port N [--host H] [--redis URL --prefix P]
import { parseArgs } from "node:util";
import type { RedisAdapter } from "../../src/adapters/redis.js";
import { serve } from "../../src/index.js";
import { BENCH_SERVER_LIMITS } from "../lib/limits.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
    redis: { type: "string" },
    prefix: { type: "string", default: "hawser-bench:" },
  },
});

const TOPIC = "bench";
// Loaded only with --redis: the adapter needs the `redis` package.
let pubsubAdapter: RedisAdapter | undefined;
if (values.redis) {
  const redis = await import("../../src/adapters/redis.js");
  pubsubAdapter = new redis.RedisAdapter({ url: values.redis, channelPrefix: values.prefix });
}

const server = await serve(
  (cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("ws only\n", true);
      return;
    }
    const ws = cgi.acceptWebsocket();
    ws.subscribe(TOPIC);
    ws.onmessage = (event) => {
      server.publish(TOPIC, event.data);
    };
  },
  {
    port: Number(values.port),
    host: values.host,
    perMessageDeflate: false,
    pingIntervalMs: 0,
    ...BENCH_SERVER_LIMITS,
    ...(pubsubAdapter ? { pubsubAdapter } : {}),
  },
);
// With Redis, say ready only once publishes are relayed.
if (pubsubAdapter) await pubsubAdapter.ready();

console.log(JSON.stringify({ ready: true, server: "hawser-pubsub", port: server.port, redis: values.redis ?? null }));
// Exit normally on SIGINT, so `node --cpu-prof` writes its profile.
process.once("SIGINT", () => process.exit(0));
