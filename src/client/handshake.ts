import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { checkServerResponse, headerText, WEBSOCKET_VERSION } from "../protocol/handshake.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { ResolvedClientConfig } from "./config.js";
import { WebSocketHandshakeError } from "./errors.js";
import { clientExtensions } from "./extensions.js";
import { tunnelFor, type Tunnel } from "./tunnel.js";
import { parseClientUrl, type ClientTarget } from "./url.js";

/** An open connection after a successful opening handshake. */
export interface HandshakeResult {
  socket: Socket;
  /** Bytes the server sent after its 101 head: the first frames, for the transport. */
  head: Buffer;
  protocol: string;
  extensions: string;
  codec: MessageCodec | null;
  /** Where the connection ended up (differs from the request after redirects). */
  target: ClientTarget;
}

type Attempt = { kind: "open"; result: HandshakeResult } | { kind: "redirect"; status: number; location: string; response: IncomingMessage };

/** Redirect statuses followed when enabled (the issue's list; 303 would change the method). */
const REDIRECTS = new Set([301, 302, 307, 308]);
/** How much of an error response's body is kept for the error message. */
const BODY_SNIPPET_BYTES = 1024;
/** How long to wait for that body before reporting without it. */
const BODY_WAIT_MS = 1000;

/**
 * Runs the client's opening handshake (RFC 6455 section 4.1), following redirects when the
 * config says so. Rejects with a `WebSocketHandshakeError`, or with `signal.reason` when
 * aborted.
 */
export async function openHandshake(target: ClientTarget, config: ResolvedClientConfig, signal: AbortSignal): Promise<HandshakeResult> {
  let current = target;
  let headers = config.headers;
  for (let redirects = 0; ; redirects++) {
    // The proxy is chosen per hop: a redirect may lead to a host NO_PROXY lists, or out of one.
    const tunnel = await tunnelFor(current, config, signal);
    const attempt = await attemptHandshake(current, headers, config, signal, tunnel);
    if (attempt.kind === "open") return attempt.result;
    const { status, location, response } = attempt;
    const details = { url: current.url.href, status, statusText: response.statusMessage ?? "", headers: response.headers };
    if (!config.followRedirects) {
      throw new WebSocketHandshakeError(
        `Server redirected (HTTP ${status}) to ${location}; set followRedirects: true in the config to follow redirects.`,
        details,
      );
    }
    if (redirects >= config.maxRedirects) {
      throw new WebSocketHandshakeError(`Too many redirects: more than ${config.maxRedirects} (raise maxRedirects if this is expected).`, details);
    }
    const next = resolveRedirect(current, location, details);
    // Credentials are for the origin they were given for: drop them when the redirect leaves it.
    if (next.url.origin !== current.url.origin || next.socketPath !== current.socketPath) {
      headers = headers.filter(([name]) => !/^(cookie|authorization)$/i.test(name));
    }
    current = next;
  }
}

function resolveRedirect(current: ClientTarget, location: string, details: { url: string; status: number }): ClientTarget {
  if (current.socketPath !== undefined) {
    throw new WebSocketHandshakeError(
      `Server redirected (HTTP ${details.status}) a ws+unix: connection; redirects are not followed for Unix sockets.`,
      details,
    );
  }
  // Relative locations resolve against the HTTP form of the URL; http(s) answers map back to ws(s).
  const base = new URL(current.url.href);
  base.protocol = current.secure ? "https:" : "http:";
  let next: URL;
  try {
    next = new URL(location, base);
  } catch {
    throw new WebSocketHandshakeError(`Server redirected to an invalid location ${JSON.stringify(location)}.`, details);
  }
  next.hash = "";
  try {
    return parseClientUrl(next.href.replace(/#$/, ""));
  } catch (error) {
    throw new WebSocketHandshakeError(`Server redirected to ${next.href}, which cannot be followed: ${(error as Error).message}`, details);
  }
}

function attemptHandshake(
  target: ClientTarget,
  extraHeaders: ReadonlyArray<[string, string]>,
  config: ResolvedClientConfig,
  signal: AbortSignal,
  tunnel: Tunnel | null,
): Promise<Attempt> {
  return new Promise<Attempt>((resolve, reject) => {
    if (signal.aborted) {
      tunnel?.socket.destroy();
      reject(signal.reason);
      return;
    }
    // A fresh random key for every connection (section 4.1, item 7).
    const key = randomBytes(16).toString("base64");
    const extensions = clientExtensions(config);
    const headers: Record<string, string> = {
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": key,
      "Sec-WebSocket-Version": WEBSOCKET_VERSION,
    };
    if (config.protocols.length > 0) headers["Sec-WebSocket-Protocol"] = config.protocols.join(", ");
    if (extensions.offer !== "") headers["Sec-WebSocket-Extensions"] = extensions.offer;
    for (const [name, value] of extraHeaders) headers[name] = value;

    const options: RequestOptions = {
      method: "GET",
      path: target.path,
      headers,
      ...(target.socketPath !== undefined ? { socketPath: target.socketPath, host: "localhost" } : { host: target.host, port: target.port }),
      // Through a proxy the connection (TLS included) is open already; without an agent,
      // node:http takes it from createConnection. defaultPort keeps Host free of :80 / :443.
      ...(tunnel ? { createConnection: () => tunnel.socket, defaultPort: target.secure ? 443 : 80 } : { agent: false, ...(target.secure ? config.tls : {}) }),
    };
    const via = tunnel ? ` through the proxy ${tunnel.proxy.display}` : "";
    let settled = false;
    let request: ClientRequest;
    const finish = (outcome: { ok: true; value: Attempt } | { ok: false; error: unknown }): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    };
    const fail = (error: unknown): void => finish({ ok: false, error });
    const onAbort = (): void => {
      fail(signal.reason);
      request.destroy();
    };
    const details = (response?: IncomingMessage) => ({
      url: target.url.href,
      ...(response ? { status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", headers: response.headers } : {}),
    });

    try {
      request = (target.secure ? httpsRequest : httpRequest)(options);
    } catch (error) {
      tunnel?.socket.destroy();
      fail(
        new WebSocketHandshakeError(`Could not start the handshake with ${target.url.href}: ${(error as Error).message}`, {
          url: target.url.href,
          cause: error,
        }),
      );
      return;
    }
    signal.addEventListener("abort", onAbort);

    request.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code;
      fail(
        new WebSocketHandshakeError(`Could not connect to ${target.url.href}${via}: ${error.message}`, {
          url: target.url.href,
          cause: error,
          ...(code ? { code } : {}),
        }),
      );
    });

    request.on("upgrade", (response: IncomingMessage, socket: Socket, head: Buffer) => {
      // Hold incoming frames until the transport is listening.
      socket.pause();
      if (settled) {
        socket.destroy();
        return;
      }
      const status = response.statusCode ?? 0;
      const check = checkServerResponse(status, response.headers, key, config.protocols);
      let codec: MessageCodec | null = null;
      let problem = check.ok ? null : check.message;
      if (check.ok && check.protocol === "" && config.requireProtocol && config.protocols.length > 0) {
        problem = `subprotocols were offered (${config.protocols.join(", ")}) but the server chose none.`;
      }
      if (check.ok) {
        try {
          codec = extensions.accept(check.extensions);
        } catch (error) {
          problem = (error as Error).message;
        }
      }
      if (problem !== null || !check.ok) {
        socket.destroy();
        fail(new WebSocketHandshakeError(`WebSocket handshake with ${target.url.href} failed: ${problem}`, details(response)));
        return;
      }
      finish({
        ok: true,
        value: {
          kind: "open",
          result: { socket, head, protocol: check.protocol, extensions: codec ? codec.extensionHeader : "", codec, target },
        },
      });
    });

    request.on("response", (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      const location = headerText(response.headers.location);
      if (REDIRECTS.has(status) && location !== "") {
        response.resume();
        request.destroy();
        finish({ ok: true, value: { kind: "redirect", status, location, response } });
        return;
      }
      if (status === 101) {
        // node:http only reports an upgrade when the 101 says "Upgrade"; say what was missing.
        const check = checkServerResponse(status, response.headers, key, config.protocols);
        request.destroy();
        fail(
          new WebSocketHandshakeError(`WebSocket handshake with ${target.url.href} failed: ${check.ok ? "not an upgrade" : check.message}`, details(response)),
        );
        return;
      }
      readSnippet(response, (body) => {
        request.destroy();
        const text = `${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}`;
        fail(
          new WebSocketHandshakeError(
            `WebSocket handshake with ${target.url.href} failed: the server answered HTTP ${text} instead of 101 Switching Protocols` +
              (body.trim() !== "" ? `: ${body.trim().slice(0, 200)}` : "."),
            { ...details(response), body },
          ),
        );
      });
    });

    request.end();
  });
}

/** Reads the start of an error response's body, without waiting long for it. */
function readSnippet(response: IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let called = false;
  const finish = (): void => {
    if (called) return;
    called = true;
    clearTimeout(timer);
    done(Buffer.concat(chunks).subarray(0, BODY_SNIPPET_BYTES).toString("utf8"));
  };
  const timer = setTimeout(finish, BODY_WAIT_MS);
  response.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BODY_SNIPPET_BYTES) finish();
  });
  response.on("end", finish);
  response.on("error", finish);
  response.on("close", finish);
}
