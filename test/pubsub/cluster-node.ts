// One hawser process of the multi-process tests (cluster.test.ts): a server on a free port
// whose pub/sub goes through the Redis adapter. Clients drive it with JSON text commands:
//   {"op":"sub"|"unsub","topic":T,"id":N}  -> answers {"ack":N} (a sub once Redis confirmed it)
//   {"op":"pub","topic":T,"data":D}         -> server.publish(T, D)   (no answer: order matters)
//   {"op":"spub","topic":T,"data":D}        -> socket.publish(T, D)   (all subscribers but the sender)
// Everything else a client receives is a published message, as published.
// Prints JSON lines on stdout: {"port":P} when listening, {"event":"down"|"up"} from the adapter.
// Usage: node --import tsx test/pubsub/cluster-node.ts --redis URL --prefix P [--reconnect-ms N]
import { parseArgs } from "node:util";
import { RedisAdapter } from "../../src/adapters/redis.js";
import { serve } from "../../src/index.js";

const { values } = parseArgs({
  options: {
    redis: { type: "string" },
    prefix: { type: "string" },
    "reconnect-ms": { type: "string", default: "100" },
  },
});
if (!values.redis || !values.prefix) throw new Error("usage: cluster-node.ts --redis URL --prefix P");

interface Command {
  op: "sub" | "unsub" | "pub" | "spub";
  topic: string;
  id?: number;
  data?: string;
}

const adapter = new RedisAdapter({
  url: values.redis,
  channelPrefix: values.prefix,
  maxReconnectDelayMs: Number(values["reconnect-ms"]),
});
const say = (line: object): void => void process.stdout.write(JSON.stringify(line) + "\n");
adapter.on("down", () => say({ event: "down" }));
adapter.on("up", () => say({ event: "up" }));

const server = await serve(
  (cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("cluster test node\n", true);
      return;
    }
    const ws = cgi.acceptWebsocket();
    ws.ontextmessage = (text) => {
      const command = JSON.parse(text) as Command;
      switch (command.op) {
        case "sub":
          void ws.subscribe(command.topic).then(() => ws.send(JSON.stringify({ ack: command.id })));
          break;
        case "unsub":
          ws.unsubscribe(command.topic);
          ws.send(JSON.stringify({ ack: command.id }));
          break;
        case "pub":
          server.publish(command.topic, command.data ?? "");
          break;
        case "spub":
          ws.publish(command.topic, command.data ?? "");
          break;
      }
    };
  },
  { host: "127.0.0.1", port: 0, pubsubAdapter: adapter, pingIntervalMs: 0 },
);
await adapter.ready();
say({ port: server.port });

process.once("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
