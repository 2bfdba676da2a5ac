// hawser/web: the browser's WebSocket API (WHATWG WebSockets Standard) for Node.js.
export { WebSocket, type BinaryType, type WebSocketSendData } from "./client/web-socket.js";
export { CloseEvent, type CloseEventInit } from "./client/web-events.js";
export type { ClientConfig } from "./client/config.js";
