// A hawser echo server in a child process of its own, so that the hardening tests can measure
// what an attack costs the server (RSS, heap, buffers) without the test runner's own memory in
// the figures. Started by `startMemoryServer()` in memory-child.ts; commands arrive over IPC.
//
// argv[2]: JSON HandlerOptions. Every accepted socket echoes what it receives.
import type { HandlerOptions } from "../../src/server/handler.js";
import { serve } from "../../src/server/serve.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import type { ChildCommand, ChildReply, MemoryFigures } from "./memory-child.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("memory-server.ts needs --expose-gc");

const options = JSON.parse(process.argv[2] ?? "{}") as HandlerOptions;
const sockets: WebSocket[] = [];

/** The reassembly buffer of a socket's connection: private, read here for the measurement only. */
function bufferedMessageBytes(socket: WebSocket): number {
  const inner = socket as unknown as { transport: { connection: { bufferedMessageBytes: number } } | null };
  return inner.transport?.connection.bufferedMessageBytes ?? 0;
}

function figures(): MemoryFigures {
  const usage = process.memoryUsage();
  let reassembly = 0;
  let unsent = 0;
  for (const socket of sockets) {
    reassembly += bufferedMessageBytes(socket);
    unsent += socket.bufferedAmount;
  }
  return { rss: usage.rss, heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers, reassembly, unsent };
}

let baseline = figures();
let peak = { ...baseline };

function sample(): void {
  const now = figures();
  for (const key of Object.keys(peak) as Array<keyof MemoryFigures>) peak[key] = Math.max(peak[key], now[key]);
}
// Sampling between reads: a large read is handled in one go, so peaks inside it are missed,
// but what is held across reads (the attack's lasting cost) is seen.
const sampler = setInterval(sample, 5);

const server = await serve(
  (cgi) => {
    if (!cgi.websocketRequested()) {
      cgi.write("memory test server\n", true);
      return;
    }
    const socket = cgi.acceptWebsocket();
    sockets.push(socket);
    socket.onerror = () => undefined;
    socket.onmessage = (event) => socket.send(event.data);
    void socket.closed.then(() => sockets.splice(sockets.indexOf(socket), 1));
  },
  { ...options, host: "127.0.0.1", port: 0 },
);

function reply(message: ChildReply): void {
  process.send!(message);
}

process.on("message", (command: ChildCommand) => {
  switch (command.type) {
    case "baseline":
      gc();
      baseline = figures();
      peak = { ...baseline };
      reply({ type: "baseline", baseline });
      break;
    case "stats":
      sample();
      if (command.collect) gc();
      reply({ type: "stats", baseline, peak, now: figures(), clients: server.host.clients.size });
      break;
    case "push": {
      // Fresh buffers for every send, as an application producing data per client would.
      const accepted: number[] = [];
      for (const socket of sockets) {
        let count = 0;
        while (count < command.most && socket.send(Buffer.alloc(command.size, count & 0xff))) count++;
        accepted.push(count);
      }
      sample();
      reply({ type: "pushed", accepted, buffered: sockets.map((socket) => socket.bufferedAmount) });
      break;
    }
    case "exit":
      clearInterval(sampler);
      void server.close().then(() => process.exit(0));
      break;
  }
});

reply({ type: "ready", port: server.port });
