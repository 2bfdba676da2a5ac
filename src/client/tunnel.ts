import type { Buffer } from "node:buffer";
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from "node:tls";
import type { ResolvedClientConfig } from "./config.js";
import { WebSocketHandshakeError } from "./errors.js";
import { proxyFor, type ProxyEnvironment, type ProxyServer } from "./proxy.js";
import type { ClientTarget } from "./url.js";

/** A connection opened through a proxy, ready for the WebSocket handshake. */
export interface Tunnel {
  socket: Socket;
  proxy: ProxyServer;
}

/**
 * For one connection attempt (each redirect hop asks again): the tunnel through the proxy that
 * applies to `target` (config, else the environment), or null to connect directly.
 */
export async function tunnelFor(
  target: ClientTarget,
  config: ResolvedClientConfig,
  signal: AbortSignal,
  env: ProxyEnvironment = process.env,
): Promise<Tunnel | null> {
  let proxy: ProxyServer | null;
  try {
    proxy = proxyFor(target, config, env);
  } catch (error) {
    throw new WebSocketHandshakeError(`Cannot connect to ${target.url.href}: ${(error as Error).message}`, { url: target.url.href, cause: error });
  }
  if (proxy === null) return null;
  const userAgent = config.headers.find(([name]) => name.toLowerCase() === "user-agent")?.[1];
  const socket = await openTunnel(target, proxy, { tls: config.tls, proxyTls: config.proxyTls, userAgent }, signal);
  return { socket, proxy };
}

export interface TunnelOptions {
  /** node:tls options for the target (wss://): CA, verification, servername, client certificates. */
  tls: TlsConnectionOptions;
  /** node:tls options for an https:// proxy. */
  proxyTls: TlsConnectionOptions;
  /** Sent to the proxy too, so proxies that filter on it see the same client. */
  userAgent: string | undefined;
}

/**
 * Opens a tunnel to `target` through an HTTP proxy: `CONNECT host:port` (RFC 9110 section
 * 9.3.6), over TLS to the proxy for an https:// proxy. Resolves with the socket to run the
 * WebSocket handshake on: the tunnel itself for ws://, or TLS with the target inside the
 * tunnel for wss:// (checked against the target's name, not the proxy's). The TLS handshake
 * may still be running; its errors reach whoever uses the socket.
 *
 * Rejects with a `WebSocketHandshakeError` whose `proxy` is set: with `status` when the proxy
 * answered with something other than 2xx. Rejects with `signal.reason` when aborted.
 */
export function openTunnel(target: ClientTarget, proxy: ProxyServer, options: TunnelOptions, signal: AbortSignal): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const authority = `${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`;
    const via = `the proxy ${proxy.display} (from ${proxy.source})`;
    const headers: OutgoingHttpHeaders = {
      Host: authority,
      // A successful CONNECT keeps the connection open as the tunnel; without this header
      // node:http would announce "Connection: close", the opposite.
      Connection: "keep-alive",
    };
    if (proxy.authorization !== undefined) headers["Proxy-Authorization"] = proxy.authorization;
    if (options.userAgent !== undefined) headers["User-Agent"] = options.userAgent;

    let settled = false;
    let request: ClientRequest;
    const finish = (error: unknown, socket?: Socket): void => {
      if (settled) {
        socket?.destroy();
        return;
      }
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (socket) resolve(socket);
      else reject(error);
    };
    const onAbort = (): void => {
      finish(signal.reason);
      request.destroy();
    };
    const fail = (
      message: string,
      details: { status?: number; statusText?: string; headers?: IncomingMessage["headers"]; body?: string; code?: string; cause?: unknown } = {},
    ): void => finish(new WebSocketHandshakeError(message, { url: target.url.href, proxy: proxy.display, ...details }));

    try {
      request = (proxy.secure ? httpsRequest : httpRequest)({
        method: "CONNECT",
        host: proxy.host,
        port: proxy.port,
        path: authority,
        headers,
        agent: false,
        ...(proxy.secure ? { ...options.proxyTls, servername: options.proxyTls.servername ?? serverName(proxy.host) } : {}),
      });
    } catch (error) {
      fail(`Could not start a CONNECT to ${via}: ${(error as Error).message}`, { cause: error });
      return;
    }
    signal.addEventListener("abort", onAbort);

    request.on("error", (error: NodeJS.ErrnoException) => {
      fail(`Could not open a tunnel to ${authority} through ${via}: ${error.message}`, {
        cause: error,
        ...(error.code ? { code: error.code } : {}),
      });
    });

    // node:http reports every answer to a CONNECT here, 2xx or not.
    request.on("connect", (response: IncomingMessage, socket: Socket, head: Buffer) => {
      const status = response.statusCode ?? 0;
      const details = { status, statusText: response.statusMessage ?? "", headers: response.headers };
      if (status < 200 || status > 299) {
        socket.destroy();
        const body = head.subarray(0, 1024).toString("utf8");
        fail(
          `The proxy ${proxy.display} (from ${proxy.source}) refused to open a tunnel to ${authority}: HTTP ${status}` +
            `${response.statusMessage ? ` ${response.statusMessage}` : ""}${hint(status, proxy)}`,
          { ...details, body },
        );
        return;
      }
      if (head.length > 0) {
        // Nobody may speak in a fresh tunnel before the client: the proxy is not a plain tunnel.
        socket.destroy();
        fail(
          `The proxy ${proxy.display} sent ${head.length} bytes after its HTTP ${status} to CONNECT, before the tunnel was used; it is not a CONNECT tunnel.`,
          details,
        );
        return;
      }
      if (!target.secure) {
        finish(null, socket);
        return;
      }
      // TLS with the target inside the tunnel. `host` makes the certificate check use the
      // target's name; left out, node:tls would take the name of the socket's peer, the proxy.
      const secure = tlsConnect({
        ...options.tls,
        socket,
        host: target.host,
        servername: options.tls.servername ?? serverName(target.host),
      });
      // Closing the TLS layer ends the tunnel under it (not automatic when the tunnel is TLS too).
      secure.once("close", () => socket.destroy());
      // The TLS layer reports the tunnel's failures to its user; unheard here, they would crash.
      socket.on("error", () => undefined);
      finish(null, secure);
    });

    request.end();
  });
}

/** SNI takes names only (RFC 6066 section 3): none for an IP address. */
function serverName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}

function hint(status: number, proxy: ProxyServer): string {
  if (status === 407) {
    return proxy.authorization === undefined
      ? ". The proxy wants credentials: put them in the proxy URL (http://user:password@host:port)."
      : ". The proxy did not accept the credentials in the proxy URL.";
  }
  return ".";
}
