// The echo and broadcast server of the benchmark's scenarios, written against ws's API the way a
// ws user writes it. ws-echo.mjs runs it on `ws` and hawser-ws-echo.mjs on `hawser/ws`: the
// same code, only the import differs, so the two rows compare the implementations alone.
//   any path but /broadcast: echo every message with its opcode
//   /broadcast: a message from any client goes to every /broadcast client, the sender included
import { parseArgs } from "node:util";

/** Reads --port, --host and --deflate, as every server of bench/servers takes them. */
export function serverArguments() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "9001" },
      host: { type: "string", default: "127.0.0.1" },
      deflate: { type: "boolean", default: false },
    },
  });
  return { port: Number(values.port), host: values.host, deflate: values.deflate };
}

/**
 * Starts the server on `WebSocketServer` (ws's class or a drop-in) and prints the harness's
 * ready line, with `describe()`'s fields, once it listens.
 */
export function startWsApiServer(WebSocketServer, name, { port, host, deflate }, describe = () => ({})) {
  const wss = new WebSocketServer({
    port,
    host,
    perMessageDeflate: deflate,
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
    console.log(JSON.stringify({ ready: true, server: name, port: wss.address().port, deflate, ...describe() }));
  });
  return wss;
}
