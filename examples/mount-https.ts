// hawser on a node:https server: the same handler, wss:// instead of ws://.
// Make a certificate for a try (browsers will warn about it):
//   openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj /CN=localhost
// Run it:  npx tsx examples/mount-https.ts --port 8443 --cert cert.pem --key key.pem
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { HandlerHost, parseListenArguments } from "hawser";
import { authenticatedEcho, closeWebSockets, isMainModule, type RunningExample } from "./mount-handler.js";

export async function start(port: number, tls: { cert: string | Buffer; key: string | Buffer }, hostname = "127.0.0.1"): Promise<RunningExample> {
  const host = new HandlerHost(authenticatedEcho);
  const server = createServer(tls, host.handleRequest);
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
  const args = process.argv.slice(2);
  const { values } = parseArgs({ args, strict: false, options: { cert: { type: "string" }, key: { type: "string" } } });
  if (typeof values.cert !== "string" || typeof values.key !== "string") {
    console.error("mount-https: give --cert cert.pem --key key.pem (see the comment at the top for openssl).");
    process.exit(2);
  }
  const { port, host } = parseListenArguments(args);
  const app = await start(port, { cert: readFileSync(values.cert), key: readFileSync(values.key) }, host ?? "127.0.0.1");
  console.log(`mount-https: listening on https://${host ?? "127.0.0.1"}:${app.port}/`);
}
