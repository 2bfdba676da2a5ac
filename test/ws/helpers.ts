// Helpers for the `hawser/ws` face's tests: servers on port 0, events as promises with
// deadlines, and the close a socket saw.
import type { Buffer } from "node:buffer";
import type { EventEmitter } from "node:events";
import { withTimeout } from "../helpers/wait.js";
import WebSocket, { WebSocketServer, type ServerOptions } from "../../src/ws/index.js";

export { WebSocket, WebSocketServer };

/** How long any single event may take in these tests. */
export const EVENT_MS = 3000;

/**
 * The next `event` of `emitter` (its arguments), failing the test after EVENT_MS. Unlike
 * events.once(), it adds no 'error' listener of its own: tests see what a program sees.
 */
export function next<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string): Promise<T> {
  return withTimeout(new Promise<T>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T))), EVENT_MS, `'${event}'`);
}

/** A listening WebSocketServer on 127.0.0.1 and a free port, with its ws:// URL. */
export async function listen(options: Omit<ServerOptions, "port"> = {}): Promise<{ wss: WebSocketServer; url: string; port: number }> {
  const wss = new WebSocketServer({ ...options, port: 0, host: "127.0.0.1" });
  await next(wss, "listening");
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("the server has no TCP address");
  return { wss, url: `ws://127.0.0.1:${address.port}`, port: address.port };
}

/** Closes a server and every socket it still has. */
export async function shutdown(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** Opens a client and waits for `open`. */
export async function open(url: string, ...args: [string[]?, WebSocket.ClientOptions?]): Promise<WebSocket> {
  const ws = new WebSocket(url, args[0], args[1]);
  await next(ws, "open");
  return ws;
}

/** A client and the server side of its connection. */
export async function pair(
  serverOptions: Omit<ServerOptions, "port"> = {},
  clientOptions: WebSocket.ClientOptions = {},
): Promise<{ wss: WebSocketServer; client: WebSocket; server: WebSocket; url: string }> {
  const { wss, url } = await listen(serverOptions);
  const accepted = next<[WebSocket]>(wss, "connection");
  const client = await open(url, [], clientOptions);
  const [server] = await accepted;
  return { wss, client, server, url };
}

/** Resolves with the code and reason (as text) of a socket's `close` event. */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return next<[number, Buffer]>(ws, "close").then(([code, reason]) => ({ code, reason: reason.toString() }));
}

type Received = [WebSocket.RawData, boolean];
/** N of them, as a tuple when N is a literal (so tests can destructure them). */
type ReceivedTuple<N extends number, R extends Received[] = []> = number extends N
  ? Received[]
  : R["length"] extends N
    ? R
    : ReceivedTuple<N, [...R, Received]>;

/** Collects `count` messages of a socket as [data, isBinary]. */
export function messages<N extends number>(ws: WebSocket, count: N): Promise<ReceivedTuple<N>> {
  const received: Received[] = [];
  return withTimeout(
    new Promise((resolve) => {
      ws.on("message", (data, isBinary) => {
        received.push([data, isBinary]);
        if (received.length === count) resolve(received as ReceivedTuple<N>);
      });
    }),
    EVENT_MS,
    `${count} messages`,
  );
}
