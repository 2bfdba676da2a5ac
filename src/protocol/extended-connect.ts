import { checkServerSelection, checkVersionAndProtocols, headerText, type HandshakeRefusal, type HeaderMap } from "./handshake.js";

/**
 * WebSockets over HTTP/2 (RFC 8441): the opening handshake is an "extended CONNECT" request,
 * `:method CONNECT` with `:protocol websocket`, on a stream of a connection whose server sent
 * SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (section 3). There is no Sec-WebSocket-Key or
 * Sec-WebSocket-Accept (section 5): the stream itself proves both sides speak HTTP/2. These are
 * pure functions over the request's header map (pseudo-headers included, names in lower case).
 */

/** True when the request is an extended CONNECT for a WebSocket (RFC 8441 section 4). */
export function isExtendedConnectWebSocket(headers: HeaderMap): boolean {
  return headerText(headers[":method"]) === "CONNECT" && headerText(headers[":protocol"]).toLowerCase() === "websocket";
}

export interface ExtendedConnectRequest {
  /** Subprotocols the client offered, in its order of preference. */
  protocols: string[];
  /** The raw Sec-WebSocket-Extensions value ("" when absent). */
  extensions: string;
}

export type ExtendedConnectCheck = ({ ok: true } & ExtendedConnectRequest) | HandshakeRefusal;

/** Checks an extended CONNECT request (RFC 8441 section 5) and says what a bad one is answered with. */
export function checkExtendedConnectRequest(headers: HeaderMap): ExtendedConnectCheck {
  if (!isExtendedConnectWebSocket(headers)) {
    return { ok: false, status: 400, message: "A WebSocket over HTTP/2 needs :method CONNECT and :protocol websocket (RFC 8441)." };
  }
  // RFC 8441 section 4: :scheme and :path are required on an extended CONNECT.
  if (headerText(headers[":path"]) === "" || headerText(headers[":scheme"]) === "") {
    return { ok: false, status: 400, message: "An extended CONNECT needs :scheme and :path (RFC 8441 section 4)." };
  }
  // RFC 8441 section 5 keeps RFC 6455's version and subprotocol rules, without the key.
  return checkVersionAndProtocols(headers, "sec-websocket-version");
}

/** The response headers of an accepted extended CONNECT: 200 instead of 101 (RFC 8441 section 5). */
export function buildExtendedConnectResponse(protocol: string | undefined, extensions: string | undefined): Record<string, string | number> {
  const headers: Record<string, string | number> = { ":status": 200 };
  if (protocol) headers["sec-websocket-protocol"] = protocol;
  if (extensions) headers["sec-websocket-extensions"] = extensions;
  return headers;
}

/** A client's check of the server's answer: any 2xx opens the tunnel (RFC 8441 section 5, RFC 9113 section 8.5). */
export function checkExtendedConnectResponse(
  status: number,
  headers: HeaderMap,
  offeredProtocols: readonly string[],
): { ok: true; protocol: string; extensions: string } | { ok: false; message: string } {
  if (status < 200 || status > 299) return { ok: false, message: `Expected HTTP 200 to the extended CONNECT, got ${status}.` };
  return checkServerSelection(headers, offeredProtocols);
}
