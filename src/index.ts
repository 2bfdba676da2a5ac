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
export { attachHttp2, type ConnectionCloser } from "./server/http2.js";
export { PubSub, DEFAULT_MAX_PUBLISH_BUFFER_BYTES, SLOW_SUBSCRIBER_REASON, type PubSubOptions, type TopicListener } from "./server/pubsub.js";
export {
  MemoryAdapter,
  MemoryBus,
  PubSubAdapterEvents,
  PublishRefusedError,
  DEFAULT_HISTORY_LIMITS,
  type HistoryLimits,
  type MemoryBusOptions,
  type OrderedPubSubAdapter,
  type PubSubAdapter,
  type PubSubAdapterEvent,
  type RemoteDelivery,
  type TopicHistory,
  type TopicMessage,
} from "./server/pubsub-adapter.js";
export type { PublishOptions, PubSubMessage, SubscribeOptions, Subscription } from "./websocket/topics.js";
export type { SendOptions } from "./websocket/message-data.js";
export { setZlibConcurrency } from "./extensions/zlib-limiter.js";
export type { PerMessageDeflateOptions } from "./extensions/deflate-negotiation.js";
export { ClientWebSocket } from "./client/client-websocket.js";
export { connect } from "./client/connect.js";
export { DEFAULT_CLIENT_CONFIG, type ClientConfig, type ClientConfig as Config, type ConnectConfig } from "./client/config.js";
export { DEFAULT_RECONNECT, type ReconnectOptions, type ReconnectingEvent, type ReconnectedEvent, type UnsentMessage } from "./client/reconnect.js";
export { WebSocketHandshakeError } from "./client/errors.js";
export { connectHttp2, type Http2ConnectOptions } from "./client/http2.js";
export { genericMain, parseListenArguments, type ListenAddress } from "./server/main.js";
export { DEFAULT_PORT, DEFAULT_SOCKET_OPTIONS, DEFAULT_SERVER_LIMITS, type ServerOptions, type SocketOptions } from "./server/options.js";
export { DEFAULT_CONNECTION_LIMITS } from "./server/security-options.js";
export { DEFAULT_MESSAGE_RATE_LIMIT } from "./security/rate-limit.js";
export type { SecurityOptions } from "./server/security-options.js";
export type { AllowedOrigins, OriginCheck, OriginRequest } from "./security/origin-policy.js";
export type { TrustProxy } from "./security/forwarded.js";
export type { RateLimit } from "./protocol/rate-budget.js";
