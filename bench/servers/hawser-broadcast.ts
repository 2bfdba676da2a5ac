// Broadcast server on hawser, for scenario (g). Every WebSocket that connects is a subscriber,
// whatever its path (the harness connects to /broadcast); a text message from any of them goes
// to all of them, the sender included.
// Usage: node --import tsx bench/servers/hawser-broadcast.ts --port N [--host H] [--deflate]
import { parseArgs } from "node:util";
import { serve } from "../../src/index.js";
import { BENCH_SERVER_LIMITS } from "../lib/limits.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9001" },
    host: { type: "string", default: "127.0.0.1" },
    deflate: { type: "boolean", default: false },
  },
});

type Payload = string | Uint8Array;
const TOPIC = "broadcast";

// Structural views of the optional pub/sub members: the library grows beside this file, so the
// benchmark asks at run time whether topics exist instead of failing to compile without them.
interface Subscriber {
  send(data: Payload): unknown;
  subscribe?: (topic: string) => unknown;
}
interface Publisher {
  publish?: (topic: string, data: Payload) => unknown;
}

const sockets = new Set<Subscriber>();
let publisher: Publisher = {};

/** The payload of one received message, whichever shape the iterator yields. */
function payloadOf(msg: unknown): Payload | undefined {
  if (typeof msg === "string" || msg instanceof Uint8Array) return msg;
  if (typeof msg !== "object" || msg === null) return undefined;
  const m = msg as { opcode?: unknown; textData?: unknown; data?: unknown };
  if (m.opcode === 1 && typeof m.textData === "string") return m.textData;
  if (typeof m.data === "string" || m.data instanceof Uint8Array) return m.data;
  if (typeof m.textData === "string") return m.textData;
  return undefined;
}

function broadcast(data: Payload): void {
  if (typeof publisher.publish === "function") {
    publisher.publish(TOPIC, data);
    return;
  }
  for (const socket of sockets) socket.send(data);
}

const server = await serve(
  async (cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("ws only\n", true);
      return;
    }
    const ws = cgi.acceptWebsocket();
    const subscriber: Subscriber = ws;
    // Register before the first await so a message published right after the 101 reaches us.
    if (typeof publisher.publish === "function" && typeof subscriber.subscribe === "function") {
      subscriber.subscribe(TOPIC);
    } else {
      sockets.add(subscriber);
    }
    try {
      for await (const msg of ws) {
        const data = payloadOf(msg);
        if (data !== undefined) broadcast(data);
      }
    } finally {
      sockets.delete(subscriber);
    }
  },
  { port: Number(values.port), host: values.host, perMessageDeflate: values.deflate, ...BENCH_SERVER_LIMITS },
);
publisher = server as unknown as Publisher;

console.log(JSON.stringify({ ready: true, server: "hawser-broadcast", port: Number(values.port), publish: typeof publisher.publish === "function" }));
