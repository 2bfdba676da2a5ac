// Broadcast server on hawser, for scenario (g). Every WebSocket that connects subscribes to one
// topic, whatever its path (the harness connects to /broadcast); a message from any of them is
// published to all of them, the sender included: framed once, written to each subscriber in
// the batch of the turn that read it.
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

const TOPIC = "broadcast";

const server = await serve(
  (cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("ws only\n", true);
      return;
    }
    const ws = cgi.acceptWebsocket();
    // The subscription is in place when subscribe() returns (its promise only reports the
    // topic's offset), so a message published right after the 101 reaches this socket.
    void ws.subscribe(TOPIC);
    // The bytes as received, text or binary as they came: nothing decoded to be encoded again.
    ws.onmessage = (event) => {
      server.publish(TOPIC, event.rawData, { binary: event.isBinary });
    };
  },
  { port: Number(values.port), host: values.host, perMessageDeflate: values.deflate, ...BENCH_SERVER_LIMITS },
);

console.log(JSON.stringify({ ready: true, server: "hawser-broadcast", port: Number(values.port), publish: true }));
