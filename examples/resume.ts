// Durable topics: every message a subscriber gets carries its offset, and a client that comes
// back with ?since=OFFSET first gets what it missed (from Redis Streams), then live messages.
// Run it:  npx tsx examples/resume.ts --port 8091 [--redis redis://127.0.0.1:6379]
// and a client that reconnects and resumes by itself: npx tsx examples/resume-client.ts
import { parseArgs } from "node:util";
import { CloseCode, serve, type Cgi, type PubSubMessage } from "hawser";
import { RedisStreamsAdapter } from "hawser/redis";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8091" },
    host: { type: "string", default: "127.0.0.1" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
  },
});
const TOPIC = "news";

/** What each subscriber is sent for a message: its text and its offset. */
const withOffset = (message: PubSubMessage) => JSON.stringify({ offset: message.offset, text: message.data.toString() });

async function news(cgi: Cgi): Promise<void> {
  if (!cgi.websocketRequested()) {
    cgi.write("Connect a WebSocket client; add ?since=OFFSET to resume.\n", true);
    return;
  }
  const ws = cgi.acceptWebsocket();
  const since = cgi.query.get("since");
  // History after `since` first, then live: no gap and no duplicate between the two.
  const { offset, truncated } = await ws.subscribe(TOPIC, since ? { since, format: withOffset } : { format: withOffset });
  // Where the client stands now, even if no message comes before it drops; and whether
  // messages after `since` were trimmed from the history already.
  ws.send(JSON.stringify({ caughtUp: offset, truncated }));
  ws.ontextmessage = (text) => {
    // To everyone else; resolves once Redis has it (or refuses it: Redis away too long).
    ws.publishConfirmed(TOPIC, text).then(
      (offset) => ws.send(JSON.stringify({ published: offset })),
      () => ws.close(CloseCode.tryAgainLater, "cannot publish now"),
    );
  };
}

const adapter = new RedisStreamsAdapter({ url: values.redis });
const server = await serve(news, { port: Number(values.port), host: values.host, pubsubAdapter: adapter });
await adapter.ready();
console.log(`resume: listening on http://${values.host}:${server.port}/`);
process.once("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
