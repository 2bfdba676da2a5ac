import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";
import { connect as connectSession, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { checkExtendedConnectResponse } from "../protocol/extended-connect.js";
import { WEBSOCKET_VERSION } from "../protocol/handshake.js";
import { randomMaskSource } from "../protocol/mask.js";
import type { MessageCodec } from "../protocol/codec.js";
import { SocketTransport } from "../transport/socket-transport.js";
import { WebSocket } from "../websocket/websocket.js";
import { resolveClientConfig, type ClientConfig, type ResolvedClientConfig } from "./config.js";
import { WebSocketHandshakeError } from "./errors.js";
import { clientExtensions } from "./extensions.js";
import { parseClientUrl, type ClientTarget } from "./url.js";

/** Masking keys for HTTP/2 client streams (RFC 6455 section 10.3; RFC 8441 keeps masking). */
const maskSource = randomMaskSource((pool) => randomFillSync(pool));

/** What an RFC 8441 handshake yields: the stream that now carries WebSocket frames. */
export interface Http2HandshakeResult {
  stream: ClientHttp2Stream;
  protocol: string;
  extensions: string;
  codec: MessageCodec | null;
}

export interface Http2ConnectOptions extends ClientConfig {
  /**
   * An open HTTP/2 session to the server to carry the WebSocket as one more stream (RFC 8441
   * lets many WebSockets share a connection). Without it a session is opened for this socket
   * and closed when the socket closes.
   */
  session?: ClientHttp2Session;
}

/**
 * Opens a WebSocket over HTTP/2 (RFC 8441): an extended CONNECT on an HTTP/2 connection whose
 * server advertised SETTINGS_ENABLE_CONNECT_PROTOCOL. Takes the same config as `connect()`.
 * Rejects with a `WebSocketHandshakeError`: with `status` when the server refused over HTTP,
 * and without when it does not offer RFC 8441 (connect over HTTP/1.1 instead).
 */
export async function connectHttp2(url: string | URL, options: Http2ConnectOptions = {}): Promise<WebSocket> {
  const config = resolveClientConfig(options);
  const target = parseClientUrl(url);
  const result = await openHttp2Handshake(target, config, options.session);
  const websocket = new WebSocket({ maxBufferedBytes: config.maxBufferedBytes });
  websocket.protocol = result.protocol;
  websocket.extensions = result.extensions;
  const transport = new SocketTransport(
    result.stream,
    {
      role: "client",
      maskSource,
      maxMessageBytes: config.maxMessageBytes,
      maxFrameBytes: config.maxFrameBytes,
      maxSendBufferBytes: config.maxSendBufferBytes,
      closeTimeoutMs: config.closeTimeoutMs,
      pingIntervalMs: config.pingIntervalMs,
      pongTimeoutMs: config.pongTimeoutMs,
      ...(result.codec ? { codec: result.codec } : {}),
    },
    websocket.transportListener,
  );
  websocket.attach(transport);
  websocket.notifyOpen();
  result.stream.resume();
  return websocket;
}

/**
 * The client's side of RFC 8441 section 5, for `connectHttp2()` and for a client that picks
 * HTTP/2 by option: resolves with the stream once the server answered 200.
 */
export async function openHttp2Handshake(
  target: ClientTarget,
  config: ResolvedClientConfig,
  existingSession?: ClientHttp2Session,
): Promise<Http2HandshakeResult> {
  if (target.socketPath !== undefined) {
    throw new WebSocketHandshakeError("WebSockets over HTTP/2 need a TCP URL (wss://host:port/path), not ws+unix:.", { url: target.url.href });
  }
  const scheme = target.secure ? "https" : "http";
  const authority = `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
  const session = existingSession ?? connectSession(`${scheme}://${authority}`, { ...config.tls, ...(target.secure ? { ALPNProtocols: ["h2"] } : {}) });
  const owned = existingSession === undefined;
  const fail = (message: string, details: { status?: number; headers?: IncomingHttpHeaders; body?: string; code?: string; cause?: unknown } = {}): never => {
    if (owned) session.destroy();
    throw new WebSocketHandshakeError(message, { url: target.url.href, ...details });
  };
  // A session error after the handshake reaches the stream (and so the socket) on its own.
  const ignore = (): void => undefined;
  session.on("error", ignore);

  const timeoutMs = config.handshakeTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new WebSocketHandshakeError(`The WebSocket handshake with ${target.url.href} timed out after ${timeoutMs} ms (config.handshakeTimeoutMs).`, {
            url: target.url.href,
            code: "ETIMEDOUT",
          }),
        ),
      timeoutMs,
    );
  });
  try {
    // A session in use may have its settings already; a new one waits for the first frame.
    if (!(owned === false && session.remoteSettings.enableConnectProtocol === true)) {
      await Promise.race([remoteSettings(session), timeout]);
    }
    if (session.remoteSettings.enableConnectProtocol !== true) {
      fail(`${target.url.origin} does not offer WebSockets over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441): connect over HTTP/1.1 instead.`);
    }
    const extensions = clientExtensions(config);
    const headers: Record<string, string> = {
      ":method": "CONNECT",
      ":protocol": "websocket",
      ":scheme": scheme,
      ":path": target.path,
      ":authority": authority,
      "sec-websocket-version": WEBSOCKET_VERSION,
    };
    if (config.protocols.length > 0) headers["sec-websocket-protocol"] = config.protocols.join(", ");
    if (extensions.offer !== "") headers["sec-websocket-extensions"] = extensions.offer;
    // HTTP/2 header names are lower case (RFC 9113 section 8.2.1); Host becomes :authority.
    for (const [name, value] of config.headers) {
      if (name.toLowerCase() !== "host") headers[name.toLowerCase()] = value;
    }
    const stream = session.request(headers, { endStream: false });
    stream.on("error", ignore);
    const response = await Promise.race([responseHeaders(stream), timeout]);
    const status = Number(response[":status"]);
    if (status < 200 || status > 299) {
      const body = await Promise.race([readSnippet(stream), timeout]);
      fail(`Server refused the WebSocket with HTTP ${status}${body.trim() !== "" ? `: ${body.trim().slice(0, 200)}` : "."}`, {
        status,
        headers: response,
        body,
      });
    }
    const check = checkExtendedConnectResponse(status, response, config.protocols);
    if (!check.ok) return fail(check.message, { status, headers: response });
    let codec: MessageCodec | null;
    try {
      codec = extensions.accept(check.extensions);
    } catch (error) {
      return fail((error as Error).message, { status, headers: response });
    }
    stream.off("error", ignore);
    // The session exists for this socket only: it ends with the stream.
    if (owned) stream.once("close", () => session.close());
    stream.pause();
    return { stream, protocol: check.protocol, extensions: check.extensions, codec };
  } catch (error) {
    if (owned) session.destroy();
    if (error instanceof WebSocketHandshakeError) throw error;
    const cause = error as NodeJS.ErrnoException;
    throw new WebSocketHandshakeError(`Could not open a WebSocket over HTTP/2 to ${target.url.href}: ${cause.message}`, {
      url: target.url.href,
      ...(cause.code ? { code: cause.code } : {}),
      cause,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when the server's first SETTINGS frame has arrived (RFC 9113 section 3.4). */
function remoteSettings(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    const onClose = (): void => reject(new Error("the connection closed before the server's HTTP/2 settings arrived"));
    session.once("error", onError);
    session.once("close", onClose);
    session.once("remoteSettings", () => {
      session.off("error", onError);
      session.off("close", onClose);
      resolve();
    });
  });
}

function responseHeaders(stream: ClientHttp2Stream): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    const onClose = (): void => reject(new Error(`the stream closed before the server answered (RST_STREAM code ${stream.rstCode ?? "none"})`));
    stream.once("error", onError);
    stream.once("close", onClose);
    stream.once("response", (headers) => {
      stream.off("error", onError);
      stream.off("close", onClose);
      resolve(headers);
    });
  });
}

/** The start of a refusal's body, for the error message (at most 1 KiB, half a second). */
function readSnippet(stream: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (): void => {
      clearTimeout(timer);
      stream.off("data", onData);
      resolve(Buffer.concat(chunks).toString("utf8").slice(0, 1024));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= 1024) done();
    };
    const timer = setTimeout(done, 500);
    stream.on("data", onData);
    stream.once("end", done);
    stream.once("close", done);
  });
}
