// hawser beside a Fastify app: Fastify serves the routes, hawser the WebSocket, through
// Fastify's underlying node:http server (`app.server`) and its "upgrade" event.
// Run it:  npx tsx examples/mount-fastify.ts --port 8080
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { HandlerHost, parseListenArguments } from "hawser";
import { authenticatedEcho, closeWebSockets, createSession, isMainModule, type RunningExample } from "./mount-handler.js";

export async function start(port = 0, hostname = "127.0.0.1"): Promise<RunningExample> {
  const app = Fastify();
  app.get("/", async () => "Fastify app: GET /login for a session cookie, then open ws://HOST/ws\n");
  app.get("/login", async (_request, reply) => {
    reply.header("Set-Cookie", `session=${createSession("ann")}; HttpOnly; SameSite=Strict; Path=/`);
    return "logged in as ann\n";
  });

  const host = new HandlerHost(authenticatedEcho);
  // Fastify answers only "request" events: the upgrade requests are left to us.
  app.server.on("upgrade", host.handleUpgrade);
  await app.listen({ port, host: hostname });
  return {
    port: (app.server.address() as AddressInfo).port,
    async close() {
      await closeWebSockets(host);
      await app.close();
    },
  };
}

if (isMainModule(import.meta.url)) {
  const { port, host } = parseListenArguments(process.argv.slice(2));
  const app = await start(port, host ?? "127.0.0.1");
  console.log(`mount-fastify: listening on http://${host ?? "127.0.0.1"}:${app.port}/`);
}
