// hawser on a plain node:http server that also serves the application's own pages.
// Run it:  npx tsx examples/mount-http.ts --port 8080
// then:    npx hawser connect ws://127.0.0.1:8080/ws -H "Authorization: Bearer token-for-ben"
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HandlerHost, parseListenArguments } from "hawser";
import { authenticatedEcho, closeWebSockets, createSession, isMainModule, type RunningExample } from "./mount-handler.js";

export async function start(port = 0, hostname = "127.0.0.1"): Promise<RunningExample> {
  const host = new HandlerHost(authenticatedEcho);
  const server = createServer((req, res) => {
    // The application's own routes; hawser sees only the upgrade requests.
    if (req.url === "/login") {
      res.setHeader("Set-Cookie", `session=${createSession("ann")}; HttpOnly; SameSite=Strict; Path=/`);
      res.end("logged in as ann\n");
      return;
    }
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end("node:http app: GET /login for a session cookie, then open ws://HOST/ws\n");
  });
  server.on("upgrade", host.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(port, hostname, resolve));
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
  console.log(`mount-http: listening on http://${host ?? "127.0.0.1"}:${app.port}/`);
}
