import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { MessageCodec } from "../protocol/codec.js";
import type { MaskSource } from "../protocol/mask.js";
import { ReadyState } from "../protocol/opcodes.js";
import type { RateLimit } from "../protocol/rate-budget.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { listenerFor } from "./listener.js";
import type { WebSocket } from "./websocket.js";

/** What a face socket is run with, from the server's or the client's options. */
export interface SocketSettings {
  allowSynchronousEvents: boolean;
  autoPong: boolean;
  /** The largest message accepted; 0 or less for no limit. */
  maxPayload: number;
  /** Accepted as `ws` takes them and shown on `_receiver`; hawser bounds a message by its bytes. */
  maxBufferedChunks: number;
  maxFragments: number;
  skipUTF8Validation: boolean;
  closeTimeout: number;
  /** hawser: how fast the peer may send (a server's `messageRateLimit`); none when absent. */
  rateLimit?: RateLimit;
  /** Told each time the peer outruns `rateLimit`. */
  onRateLimited?: (action: RateLimit["action"]) => void;
}

/**
 * Binds a face socket to its open connection: a hawser transport with `ws`'s settings,
 * reporting to the socket's listener. The transport's `start` then feeds what came with the
 * handshake; the server and the client call it once their callbacks have run.
 */
export function attachTransport(
  ws: WebSocket,
  socket: Duplex,
  settings: SocketSettings,
  codec: MessageCodec | null,
  maskSource: MaskSource | undefined,
): SocketTransport {
  const limit = settings.maxPayload > 0 ? settings.maxPayload : Number.POSITIVE_INFINITY;
  const receiver = listenerFor(ws, settings.allowSynchronousEvents);
  const transport = new SocketTransport(
    socket,
    {
      role: ws._isServer ? "server" : "client",
      ...(maskSource ? { maskSource } : {}),
      ...(codec ? { codec } : {}),
      maxMessageBytes: limit,
      maxFrameBytes: limit,
      closeTimeoutMs: settings.closeTimeout,
      // `ws` sends no pings of its own: programs run their own heartbeat.
      pingIntervalMs: 0,
      pongTimeoutMs: settings.closeTimeout,
      // `ws` never refuses a send: programs watch bufferedAmount themselves.
      maxSendBufferBytes: Number.POSITIVE_INFINITY,
      autoPong: settings.autoPong,
      validateUtf8: !settings.skipUTF8Validation,
      ...(settings.rateLimit ? { rateLimit: settings.rateLimit } : {}),
      ...(settings.onRateLimited ? { onRateLimited: settings.onRateLimited } : {}),
    },
    receiver,
  );
  // `ws` leaves no idle timeout on the socket (node:http sets one on server sockets).
  if (typeof (socket as Socket).setTimeout === "function") (socket as Socket).setTimeout(0);
  ws._receiver = receiver;
  ws._settings = settings;
  ws._transport = transport;
  ws._codec = codec;
  ws._socket = socket;
  if (ws._binaryType === "fragments") transport.connection.recordFragments(true);
  ws._readyState = ReadyState.OPEN;
  return transport;
}
