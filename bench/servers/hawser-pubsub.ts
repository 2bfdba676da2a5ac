// Pub/sub fan-out server on hawser for bench/pubsub.ts. Every WebSocket subscribes to one
// topic; every message any of them sends goes out with server.publish, to all subscribers
// (the sender included) on this process and, with --redis, on every process sharing the Redis.
// With --streams the adapter is RedisStreamsAdapter (ordered, durable) instead of RedisAdapter.
// Usage: node --import tsx bench/servers/hawser-pubsub.ts --port N [--host H] [--redis URL --prefix P [--streams]]
import { parseArgs } from "node:util";
import { serve, type PubSubAdapter } from "../../src/index.js";
import { BENCH_SERVER_LIMITS } from "../lib/limits.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
    redis: { type: "string" },
    prefix: { type: "string", default: "hawser-bench:" },
    streams: { type: "boolean", default: false },
  },
});

const TOPIC = "bench";
// Loaded only with --redis: the adapter needs the `redis` package.
let pubsubAdapter: PubSubAdapter | undefined;
let ready: Promise<void> = Promise.resolve();
if (values.redis) {
  const redis = await import("../../src/adapters/redis.js");
  if (values.streams) {
    const adapter = new redis.RedisStreamsAdapter({ url: values.redis, keyPrefix: values.prefix });
    ready = adapter.ready();
    pubsubAdapter = adapter;
  } else {
    const adapter = new redis.RedisAdapter({ url: values.redis, channelPrefix: values.prefix });
    ready = adapter.ready();
    pubsubAdapter = adapter;
  }
}

const server = await serve(
  (cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("ws only\n", true);
      return;
    }
    const ws = cgi.acceptWebsocket();
    // Never rejects, and nothing to wait for: the topic is live on the adapter (listen() below)
    // before the server says ready and the load generator connects.
    void ws.subscribe(TOPIC);
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
// With Redis, say ready only once publishes are relayed, and the topic is read from the start.
await ready;
await server.pubsub.listen(TOPIC, () => undefined);

console.log(JSON.stringify({ ready: true, server: "hawser-pubsub", port: server.port, redis: values.redis ?? null }));
// Exit normally on SIGINT, so `node --cpu-prof` writes its profile.
process.once("SIGINT", () => process.exit(0));
