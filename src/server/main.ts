import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import { parseArgs } from "node:util";
import type { Handler, HandlerOptions } from "./handler.js";
import { DEFAULT_PORT } from "./options.js";
import { serve, type HawserServer } from "./serve.js";

/** Where to listen, from the command line as the original's GenericMain reads it. */
export interface ListenAddress {
  port: number;
  host: string | undefined;
}

/**
 * Reads `--port N` (also `-p`, `--listening-port`), `--host H` (also `--listening-host`) and
 * `--listen HOST:PORT`. Every other argument is ignored, as the original's GenericMain does:
 * they are the program's own (so a misspelt option is ignored too; the `hawser` command, which
 * owns all its arguments, refuses unknown ones instead).
 */
export function parseListenArguments(args: readonly string[]): ListenAddress {
  const { values } = parseArgs({
    args: [...args],
    strict: false,
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      "listening-port": { type: "string" },
      host: { type: "string" },
      "listening-host": { type: "string" },
      listen: { type: "string" },
    },
  });
  let port = DEFAULT_PORT;
  let host: string | undefined;
  const listen = stringValue(values.listen);
  if (listen !== undefined) {
    const colon = listen.lastIndexOf(":");
    if (colon === -1) throw new Error(`--listen expects HOST:PORT, got '${listen}'.`);
    host = listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1") || undefined;
    port = parsePort(listen.slice(colon + 1));
  }
  const portText = stringValue(values.port) ?? stringValue(values["listening-port"]);
  if (portText !== undefined) port = parsePort(portText);
  host = stringValue(values.host) ?? stringValue(values["listening-host"]) ?? host;
  return { port, host };
}

function stringValue(value: string | boolean | undefined): string | undefined {
  if (value === true) throw new Error("An option that needs a value was given none (e.g. --port 8085).");
  return value === false ? undefined : value;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Not a port number: '${text}'.`);
  return port;
}

/**
 * The seed's `mixin GenericMain!handler`: serves `handler` on the embedded HTTP server at the
 * port and host given on the command line (default port 8085, all interfaces), and shuts
 * down cleanly (close code 1001) on SIGINT or SIGTERM. It reads only the listening options
 * (see `parseListenArguments`) and ignores every other argument, leaving them to the program.
 */
export function genericMain(handler: Handler, options: HandlerOptions & { http2: true }, args?: readonly string[]): Promise<HawserServer<Http2SecureServer>>;
export function genericMain(handler: Handler, options?: HandlerOptions & { http2?: false }, args?: readonly string[]): Promise<HawserServer>;
export function genericMain(handler: Handler, options?: HandlerOptions, args?: readonly string[]): Promise<HawserServer<HttpServer | Http2SecureServer>>;
export async function genericMain(
  handler: Handler,
  options: HandlerOptions = {},
  args: readonly string[] = process.argv.slice(2),
): Promise<HawserServer<HttpServer | Http2SecureServer>> {
  const address = parseListenArguments(args);
  const server: HawserServer<HttpServer | Http2SecureServer> = await serve(handler, {
    ...options,
    port: options.port ?? address.port,
    host: options.host ?? address.host,
  });
  console.log(`hawser: listening on ${server.url.replace(/^ws/, "http")}`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return server;
}
