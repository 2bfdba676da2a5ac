import type { Buffer } from "node:buffer";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { ClientWebSocket, type ClientConfig, type WebSocketMessageEvent } from "../index.js";

export const CONNECT_USAGE = `Usage: hawser connect URL [options]

An interactive WebSocket client: each line read from stdin is sent as a text message, and
every message received is printed on stdout (binary ones as <binary N bytes: hex…>).
Piped stdin works: when it ends, hawser waits for replies (--wait), then closes with 1000.

Options:
  -H, --header NAME:VALUE   add a request header (repeatable)
  -s, --subprotocol NAME    offer a subprotocol (repeatable)
      --origin URL          send this Origin header
      --ping SECONDS        ping after SECONDS of silence; the server counts as gone after
                            3 x SECONDS without a reply (0: no pings; default 5, gone after 60)
  -w, --wait SECONDS        after stdin ends, close once the server has been quiet this long (default 0.5)
      --no-check            do not verify the server's TLS certificate (self-signed wss://)
      --proxy URL           connect through this HTTP proxy (http://[user:password@]host:port
                            or https://...); --proxy "" connects directly. Default: $https_proxy
                            / $HTTPS_PROXY for wss://, $http_proxy / $HTTP_PROXY for ws://
      --noproxy HOSTS       hosts to reach without the proxy (comma-separated, as $NO_PROXY,
                            which it replaces; "" for none)
  -h, --help                show this help

Exit status: 0 when the connection closed normally (code 1000, 1001, or a close without a
code), 1 when it could not be opened or ended otherwise, 2 for a usage error.
`;

export interface ConnectIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Whether stdin is a terminal: received messages then get a "< " prefix. */
  interactive: boolean;
}

const NORMAL_CLOSE_CODES = new Set([1000, 1001, 1005]);
const HEX_PREFIX_BYTES = 16;

/** `hawser connect`: resolves with the exit status. */
export async function runConnect(args: readonly string[], io: ConnectIo = defaultIo()): Promise<number> {
  let parsed;
  try {
    parsed = parseConnectArguments(args);
  } catch (error) {
    io.stderr.write(`hawser connect: ${(error as Error).message}\n\n${CONNECT_USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    io.stdout.write(CONNECT_USAGE);
    return 0;
  }
  const { url, config, waitMs } = parsed;
  let socket: ClientWebSocket;
  try {
    socket = new ClientWebSocket(url, config);
  } catch (error) {
    io.stderr.write(`hawser connect: ${(error as Error).message}\n`);
    return 2;
  }
  let quietTimer: NodeJS.Timeout | null = null;
  let stdinEnded = false;
  const closeWhenQuiet = (): void => {
    if (quietTimer) clearTimeout(quietTimer);
    quietTimer = setTimeout(() => socket.close(1000), waitMs);
  };
  socket.onmessage = (event) => {
    io.stdout.write(`${io.interactive ? "< " : ""}${formatMessage(event)}\n`);
    if (stdinEnded) closeWhenQuiet();
  };
  socket.onerror = (error) => io.stderr.write(`hawser connect: ${error.message}\n`);
  try {
    await socket.connect();
  } catch {
    return 1; // onerror has said why
  }
  io.stderr.write(`Connected to ${socket.url}${socket.protocol ? ` (subprotocol ${socket.protocol})` : ""}.\n`);

  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  lines.on("line", (line) => {
    if (socket.readyState === socket.OPEN) socket.send(line);
  });
  lines.on("close", () => {
    stdinEnded = true;
    closeWhenQuiet();
  });
  const onSigint = (): void => socket.close(1000);
  process.on("SIGINT", onSigint);

  const event = await socket.closed;
  process.off("SIGINT", onSigint);
  if (quietTimer) clearTimeout(quietTimer);
  lines.close();
  io.stdin.pause();
  io.stderr.write(`Disconnected (code ${event.code}${event.reason ? `, reason "${event.reason}"` : ""}${event.wasClean ? "" : ", not clean"}).\n`);
  return event.wasClean && NORMAL_CLOSE_CODES.has(event.code) ? 0 : 1;
}

interface ConnectArguments {
  url: string;
  config: ClientConfig;
  waitMs: number;
}

/** Reads the command line; throws an Error that says what is wrong. */
export function parseConnectArguments(args: readonly string[]): ConnectArguments | "help" {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      header: { type: "string", short: "H", multiple: true },
      subprotocol: { type: "string", short: "s", multiple: true },
      origin: { type: "string" },
      ping: { type: "string" },
      wait: { type: "string", short: "w" },
      "no-check": { type: "boolean" },
      proxy: { type: "string" },
      noproxy: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new Error(positionals.length === 0 ? "a URL is required, e.g. ws://localhost:8085/" : "give exactly one URL.");
  const config: ClientConfig = {};
  const headers = (values.header ?? []).map((header) => {
    if (header.indexOf(":") <= 0) throw new Error(`-H expects NAME:VALUE, got '${header}'.`);
    return header;
  });
  if (headers.length > 0) config.additionalHeaders = headers;
  if (values.subprotocol && values.subprotocol.length > 0) config.protocol = values.subprotocol;
  if (values.origin !== undefined) config.origin = values.origin;
  if (values["no-check"]) config.verifyPeer = false;
  if (values.proxy !== undefined) config.proxy = values.proxy === "" ? false : values.proxy;
  if (values.noproxy !== undefined) config.noProxy = values.noproxy;
  if (values.ping !== undefined) {
    const seconds = parseSeconds(values.ping, "--ping");
    config.pingFrequency = seconds * 1000;
    if (seconds > 0) config.timeoutFromInactivity = seconds * 3000;
  }
  const waitMs = values.wait === undefined ? 500 : parseSeconds(values.wait, "--wait") * 1000;
  return { url: positionals[0]!, config, waitMs };
}

function parseSeconds(text: string, option: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`${option} expects a number of seconds, got '${text}'.`);
  return value;
}

/** Text as is; binary as `<binary N bytes: 0a1b…>` with the first 16 bytes in hex. */
export function formatMessage(event: WebSocketMessageEvent): string {
  if (!event.isBinary) return event.data as string;
  const data = event.data as Buffer;
  if (data.length === 0) return "<binary 0 bytes>";
  const hex = data.subarray(0, HEX_PREFIX_BYTES).toString("hex");
  return `<binary ${data.length} bytes: ${hex}${data.length > HEX_PREFIX_BYTES ? "…" : ""}>`;
}

function defaultIo(): ConnectIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, interactive: process.stdin.isTTY === true };
}
