import type { ServerHttp2Stream } from "node:http2";
import { buildExtendedConnectResponse } from "../protocol/extended-connect.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { WebSocket } from "../websocket/websocket.js";
import { rateOptions, type AcceptSettings, type NegotiatedExtensions } from "./accept.js";

/**
 * Completes an RFC 8441 handshake: answers the extended CONNECT with 200 (section 5) and runs
 * the WebSocket over the HTTP/2 stream. The stream is the connection: ending it is the TCP
 * FIN of RFC 6455, resetting it (RST_STREAM) the TCP reset (section 6).
 */
export function acceptExtendedConnect(
  stream: ServerHttp2Stream,
  protocol: string | undefined,
  negotiated: NegotiatedExtensions | null,
  settings: AcceptSettings,
): WebSocket {
  stream.respond(buildExtendedConnectResponse(protocol, negotiated?.header));
  const websocket = new WebSocket({ maxBufferedBytes: settings.socket.maxBufferedBytes });
  websocket.protocol = protocol ?? "";
  websocket.extensions = negotiated?.header ?? "";
  const transport = new SocketTransport(
    stream,
    { role: "server", ...settings.socket, ...rateOptions(settings), ...(negotiated ? { codec: negotiated.codec } : {}) },
    websocket.transportListener,
  );
  websocket.attach(transport);
  settings.track(websocket);
  transport.start(undefined);
  return websocket;
}
