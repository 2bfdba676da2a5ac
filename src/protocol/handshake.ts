import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";

/** The GUID every accept key is derived with (RFC 6455 section 1.3). */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The only protocol version RFC 6455 defines (section 4.1). */
export const WEBSOCKET_VERSION = "13";

export type HeaderValue = string | string[] | undefined;
export type HeaderMap = Record<string, HeaderValue>;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (section 4.2.2, step 5.4). */
export function computeAcceptKey(key: string): string {
  return createHash("sha1")
    .update(key + WEBSOCKET_GUID)
    .digest("base64");
}

/** A key is the base64 encoding of 16 bytes: 22 characters and "==" (section 4.1, item 7). */
export function isValidClientKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(key);
}

/** Joins repeated header lines the way HTTP does (RFC 7230 section 3.2.2). */
export function headerText(value: HeaderValue): string {
  if (value === undefined) return "";
  return Array.isArray(value) ? value.join(",") : value;
}

/** Elements of a comma-separated header value, trimmed, empty ones dropped (RFC 7230 section 7). */
export function splitHeaderList(value: HeaderValue): string[] {
  const text = headerText(value);
  if (text === "") return [];
  const out: string[] = [];
  for (const part of text.split(",")) {
    const element = part.trim();
    if (element !== "") out.push(element);
  }
  return out;
}

/** Case-insensitive token membership, for Connection and Upgrade. */
export function headerHasToken(value: HeaderValue, token: string): boolean {
  const wanted = token.toLowerCase();
  return splitHeaderList(value).some((element) => element.toLowerCase() === wanted);
}

/** RFC 7230 token characters: what a subprotocol name may consist of (section 4.1, item 10). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** `cgi.websocketRequested()`: an upgrade to websocket was asked for. */
export function isWebSocketUpgrade(method: string | undefined, headers: HeaderMap): boolean {
  return method === "GET" && headerHasToken(headers["upgrade"], "websocket") && headerHasToken(headers["connection"], "upgrade");
}

export interface UpgradeRequest {
  key: string;
  /** Subprotocols the client offered, in its order of preference. */
  protocols: string[];
  /** The raw Sec-WebSocket-Extensions value ("" when absent). */
  extensions: string;
}

export type UpgradeCheck = ({ ok: true } & UpgradeRequest) | HandshakeRefusal;

/** Checks an opening handshake request (section 4.2.1) and says what HTTP answer a bad one gets. */
export function checkUpgradeRequest(method: string | undefined, headers: HeaderMap): UpgradeCheck {
  if (method !== "GET") {
    return { ok: false, status: 405, message: "A WebSocket handshake must use GET.", headers: { Allow: "GET" } };
  }
  if (!headerHasToken(headers["upgrade"], "websocket")) {
    return { ok: false, status: 400, message: "Missing or invalid Upgrade header: expected 'websocket'." };
  }
  if (!headerHasToken(headers["connection"], "upgrade")) {
    return { ok: false, status: 400, message: "Missing or invalid Connection header: expected 'Upgrade'." };
  }
  const offers = checkVersionAndProtocols(headers, "Sec-WebSocket-Version");
  if (!offers.ok) return offers;
  const keyValue = headers["sec-websocket-key"];
  const key = typeof keyValue === "string" ? keyValue.trim() : "";
  if (!isValidClientKey(key)) {
    return { ok: false, status: 400, message: "Missing or invalid Sec-WebSocket-Key: expected base64 of 16 bytes." };
  }
  return { ok: true, key, protocols: offers.protocols, extensions: offers.extensions };
}

export type HandshakeRefusal = { ok: false; status: number; message: string; headers?: Record<string, string> };

/**
 * What RFC 6455 section 4.2.1 and RFC 8441 section 5 check alike: version 13 (another version
 * gets 426 naming ours, section 4.4) and the offered subprotocols, distinct tokens (item 10).
 * `versionHeader` is how the 426 names the header: HTTP/2 wants lower-case names.
 */
export function checkVersionAndProtocols(headers: HeaderMap, versionHeader: string): HandshakeRefusal | { ok: true; protocols: string[]; extensions: string } {
  const version = headerText(headers["sec-websocket-version"]).trim();
  if (version !== WEBSOCKET_VERSION) {
    return {
      ok: false,
      status: 426,
      message: `Unsupported ${versionHeader} '${version}': this server speaks version 13.`,
      headers: { [versionHeader]: WEBSOCKET_VERSION },
    };
  }
  const protocols = splitHeaderList(headers["sec-websocket-protocol"]);
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol) || seen.has(protocol)) {
      return { ok: false, status: 400, message: "Invalid Sec-WebSocket-Protocol: expected distinct tokens." };
    }
    seen.add(protocol);
  }
  return { ok: true, protocols, extensions: headerText(headers["sec-websocket-extensions"]) };
}

/** The 101 answer to an accepted handshake (section 4.2.2). */
export function buildAcceptResponse(
  key: string,
  protocol: string | undefined,
  extensions: string | undefined,
  extraHeaders: Record<string, string> = {},
): string {
  let response =
    "HTTP/1.1 101 Switching Protocols\r\n" + "Upgrade: websocket\r\n" + "Connection: Upgrade\r\n" + `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n`;
  if (protocol) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions) response += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  for (const [name, value] of Object.entries(extraHeaders)) response += `${name}: ${value}\r\n`;
  return response + "\r\n";
}

/** A complete plain HTTP response, for refusing a handshake without involving an HTTP server. */
export function buildHttpResponse(status: number, statusText: string, body: string, headers: Record<string, string> = {}): string {
  let response = `HTTP/1.1 ${status} ${statusText}\r\n`;
  const all: Record<string, string> = {
    Connection: "close",
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    ...headers,
  };
  for (const [name, value] of Object.entries(all)) response += `${name}: ${value}\r\n`;
  return response + "\r\n" + body;
}

export type ServerResponseCheck = { ok: true; protocol: string; extensions: string } | { ok: false; message: string };

/** Checks a server's answer to our handshake (section 4.1, the client's requirements). */
export function checkServerResponse(status: number, headers: HeaderMap, key: string, offeredProtocols: readonly string[]): ServerResponseCheck {
  if (status !== 101) return { ok: false, message: `Expected HTTP 101, got ${status}.` };
  if (!headerHasToken(headers["upgrade"], "websocket")) return { ok: false, message: "Server response lacks 'Upgrade: websocket'." };
  if (!headerHasToken(headers["connection"], "upgrade")) return { ok: false, message: "Server response lacks 'Connection: Upgrade'." };
  const accept = headerText(headers["sec-websocket-accept"]).trim();
  if (accept !== computeAcceptKey(key)) return { ok: false, message: "Server sent a wrong Sec-WebSocket-Accept." };
  return checkServerSelection(headers, offeredProtocols);
}

/**
 * What a client checks of any server answer, over HTTP/1.1 or HTTP/2 (RFC 6455 section 4.1,
 * RFC 8441 section 5): at most one subprotocol, and only one that was offered.
 */
export function checkServerSelection(headers: HeaderMap, offeredProtocols: readonly string[]): ServerResponseCheck {
  const protocolList = splitHeaderList(headers["sec-websocket-protocol"]);
  if (protocolList.length > 1) return { ok: false, message: "Server selected more than one subprotocol." };
  const protocol = protocolList[0] ?? "";
  if (protocol !== "" && !offeredProtocols.includes(protocol)) {
    return { ok: false, message: `Server selected subprotocol '${protocol}', which was not offered.` };
  }
  return { ok: true, protocol, extensions: headerText(headers["sec-websocket-extensions"]) };
}
