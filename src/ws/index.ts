// hawser/ws: `ws` 8's API on hawser. `import WebSocket, { WebSocketServer } from "hawser/ws"`
// (or `require("hawser/ws")`, the WebSocket class itself) in place of "ws".
import { WebSocketServer } from "./server.js";
import { createWebSocketStream } from "./stream.js";
import { WebSocket } from "./websocket.js";

WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export default WebSocket;
export { WebSocket, WebSocketServer, createWebSocketStream };
export type {
  AddressInfo,
  BinaryType,
  BufferLike,
  CertMeta,
  ClientOptions,
  CloseEvent,
  Data,
  ErrorEvent,
  Event,
  EventListenerOptions,
  FinishRequestCallback,
  MessageEvent,
  PerMessageDeflateOptions,
  RawData,
  SendCallback,
  SendOptions,
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  WebSocketEventMap,
} from "./types.js";
export type { WsError } from "./errors.js";
