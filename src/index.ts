// The public API of hawser, and nothing else.
export { WebSocketOpcode, ReadyState } from "./protocol/opcodes.js";
export { CloseCode } from "./protocol/close.js";
export { WebSocket, type WebSocketData, type WebSocketMessageEvent } from "./websocket/websocket.js";
export { WebSocketFrame, CloseEvent } from "./websocket/frame.js";
export { WebSocketProtocolError } from "./transport/socket-transport.js";
export { Cgi } from "./server/cgi.js";
export { HttpError } from "./server/http-error.js";
export { HandlerHost, type Handler, type HandlerOptions } from "./server/handler.js";
export { serve, HawserServer } from "./server/serve.js";
export { genericMain, parseListenArguments, type ListenAddress } from "./server/main.js";
export {
  DEFAULT_PORT,
  DEFAULT_SOCKET_OPTIONS,
  DEFAULT_SERVER_LIMITS,
  type ServerOptions,
  type SocketOptions,
} from "./server/options.js";
