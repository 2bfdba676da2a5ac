// Several hawser processes behind one port (node:cluster), sharing topics through Redis.
// Run it:  npx tsx examples/cluster-chat.ts --port 8090 --workers 3 [--redis redis://127.0.0.1:6379]
// then connect WebSocket clients to ws://127.0.0.1:8090/ (e.g. `npx hawser connect`): the
// kernel spreads them over the workers, and every text one of them sends reaches all the
// others, whichever worker holds them. Each client is told which worker it landed on.
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { serve, type Cgi } from "hawser";
import { RedisAdapter } from "hawser/redis";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8090" },
    host: { type: "string", default: "127.0.0.1" },
    workers: { type: "string", default: "2" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
  },
});
const TOPIC = "cluster-chat";

if (cluster.isPrimary) {
  const count = Number(values.workers);
  let listening = 0;
  cluster.on("listening", (_worker, address) => {
    // Every worker shares the one port (with --port 0, the same random one).
    if (++listening === count) console.log(`cluster-chat: ${count} workers, listening on http://${values.host}:${address.port}/`);
  });
  cluster.on("exit", (worker, code) => {
    if (code !== 0) console.error(`cluster-chat: worker ${worker.process.pid} exited with ${code}`);
  });
  for (let i = 0; i < count; i++) cluster.fork();
  const stop = (): void => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} else {
  const worker = process.pid;
  // One adapter per process: it relays this worker's publishes to the others and back.
  const adapter = new RedisAdapter({ url: values.redis });
  adapter.on("down", (error) => console.error(`worker ${worker}: Redis lost (${error.message}); chatting within this worker only`));
  adapter.on("up", () => console.error(`worker ${worker}: Redis reachable`));

  async function chat(cgi: Cgi): Promise<void> {
    if (!cgi.websocketRequested()) {
      cgi.write(`cluster-chat worker ${worker}: connect a WebSocket client to this URL.\n`, true);
      return;
    }
    const ws = cgi.acceptWebsocket();
    await ws.subscribe(TOPIC);
    ws.send(JSON.stringify({ welcome: worker }));
    ws.ontextmessage = (text) => {
      // Everyone subscribed, on every worker, but the sender.
      ws.publish(TOPIC, JSON.stringify({ worker, text }));
    };
  }

  const server = await serve(chat, { port: Number(values.port), host: values.host, pubsubAdapter: adapter });
  process.once("SIGTERM", () => {
    void server.close().then(() => process.exit(0));
  });
}
