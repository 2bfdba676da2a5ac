import type { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { buildAcceptResponse, type UpgradeRequest } from "../protocol/handshake.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { RateLimit } from "../protocol/rate-budget.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { WebSocket } from "../websocket/websocket.js";
import type { SocketOptions } from "./options.js";

/** The outcome of extension negotiation: the header to answer with and the codec it implies. */
export interface NegotiatedExtensions {
  header: string;
  codec: MessageCodec;
}

export interface AcceptSettings {
  socket: Required<SocketOptions>;
  /** How fast each peer may send; null for no limit (what `ws`'s defaults amount to). */
  rateLimit: RateLimit | null;
  /** Told when a peer outruns `rateLimit` (once per pause, or at the close). */
  onRateLimited?: (action: RateLimit["action"]) => void;
  /**
   * Negotiates extensions from the client's Sec-WebSocket-Extensions value: the answer and
   * codec, null for none, or an error for a header that does not parse.
   */
  negotiateExtensions: ((offer: string) => NegotiatedExtensions | { error: string } | null) | null;
  /** Told about every accepted socket, e.g. to close them all when the server stops. */
  track: (socket: WebSocket) => void;
}

/** Completes the opening handshake (RFC 6455 section 4.2.2) and returns the open socket. */
export function acceptUpgrade(
  socket: Socket,
  head: Buffer,
  request: UpgradeRequest,
  protocol: string | undefined,
  negotiated: NegotiatedExtensions | null,
  settings: AcceptSettings,
): WebSocket {
  socket.write(buildAcceptResponse(request.key, protocol, negotiated?.header));
  const websocket = new WebSocket({ maxBufferedBytes: settings.socket.maxBufferedBytes });
  websocket.protocol = protocol ?? "";
  websocket.extensions = negotiated?.header ?? "";
  const transport = new SocketTransport(
    socket,
    { role: "server", ...settings.socket, ...rateOptions(settings), ...(negotiated ? { codec: negotiated.codec } : {}) },
    websocket.transportListener,
  );
  websocket.attach(transport);
  settings.track(websocket);
  transport.start(head);
  return websocket;
}

/** The transport's rate options from the accept settings. */
export function rateOptions(settings: AcceptSettings): { rateLimit?: RateLimit; onRateLimited?: (action: RateLimit["action"]) => void } {
  if (settings.rateLimit === null) return {};
  return settings.onRateLimited ? { rateLimit: settings.rateLimit, onRateLimited: settings.onRateLimited } : { rateLimit: settings.rateLimit };
}
