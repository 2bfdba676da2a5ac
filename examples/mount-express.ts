// hawser beside an Express app: Express serves the pages (and logs users in), hawser the
// WebSocket at /ws, through the node:http server that app.listen() returns.
// Run it:  npx tsx examples/mount-express.ts --port 8080
import type { AddressInfo } from "node:net";
import express from "express";
import { HandlerHost, parseListenArguments } from "hawser";
import { authenticatedEcho, closeWebSockets, createSession, isMainModule, type RunningExample } from "./mount-handler.js";

export async function start(port = 0, hostname = "127.0.0.1"): Promise<RunningExample> {
  const app = express();
  app.get("/", (_req, res) => {
    res.type("text/plain").send("Express app: GET /login for a session cookie, then open ws://HOST/ws\n");
  });
  app.get("/login", (_req, res) => {
    res.cookie("session", createSession("ann"), { httpOnly: true, sameSite: "strict" });
    res.type("text/plain").send("logged in as ann\n");
  });

  const host = new HandlerHost(authenticatedEcho);
  const server = app.listen(port, hostname);
  server.on("upgrade", host.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      await closeWebSockets(host);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

if (isMainModule(import.meta.url)) {
  const { port, host } = parseListenArguments(process.argv.slice(2));
  const app = await start(port, host ?? "127.0.0.1");
  console.log(`mount-express: listening on http://${host ?? "127.0.0.1"}:${app.port}/`);
}
