import type { ClientRequest, ClientRequestArgs, IncomingMessage } from "node:http";
import type * as Types from "./types.js";
import type { WebSocket } from "./websocket.js";

/** The events a socket emits and their arguments. */
export interface WebSocketEvents {
  open: [];
  message: [data: Types.RawData, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  error: [error: Error];
  close: [code: number, reason: Buffer];
  upgrade: [response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
  "unexpected-response": [request: ClientRequest, response: IncomingMessage];
}

/**
 * The socket class as a server's `WebSocket` option takes it (this class or a subclass): its
 * constructors and constants, without the members `Server`, `WebSocketServer`, `WebSocket`
 * and `createWebSocketStream`. @types/ws leaves those out of its class type too, so a class
 * typed by either fits the other's servers.
 */
export type WebSocketClass = Omit<typeof WebSocket, "WebSocket" | "WebSocketServer" | "Server" | "createWebSocketStream"> & {
  new (address: null): WebSocket;
  new (address: string | URL, options?: Types.ClientOptions | ClientRequestArgs): WebSocket;
  new (address: string | URL, protocols?: string | string[], options?: Types.ClientOptions | ClientRequestArgs): WebSocket;
};
