// The client side of the `ws` face: the opening handshake over node:http as `ws` runs it
// (any http.request option, `agent`, `createConnection`, `finishRequest`, redirects and the
// headers dropped on them, the `upgrade`, `redirect` and `unexpected-response` events), then
// the connection is handed to hawser's transport.
import { Buffer } from "node:buffer";
import { randomBytes, randomFillSync } from "node:crypto";
import { request as httpRequest, type ClientRequest, type ClientRequestArgs, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { Duplex } from "node:stream";
import { computeAcceptKey, isToken } from "../protocol/handshake.js";
import { randomMaskSource, type MaskSource } from "../protocol/mask.js";
import { ReadyState } from "../protocol/opcodes.js";
import { buildClientOffer } from "../extensions/deflate-negotiation.js";
import { EMPTY_BUFFER } from "./data.js";
import { clientCodec, toHawserDeflateOptions } from "./deflate-options.js";
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_CHUNKS, DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD } from "./defaults.js";
import type { ClientOptions } from "./types.js";
import type { SocketSettings } from "./attach.js";
import type { WebSocket } from "./websocket.js";

/** Masking keys for every face client, from one pool of random bytes (RFC 6455 section 10.3). */
const sharedMaskSource = randomMaskSource((pool) => randomFillSync(pool));

const PROTOCOL_VERSIONS = [8, 13];

type Options = Omit<ClientOptions & RequestOptions, "headers" | "auth"> & { auth?: string | null | undefined; headers?: Record<string, string> };

/** What stays the same across a client's attempts (the first request and each redirect's). */
interface Plan {
  options: Options;
  protocols: string[];
  protocolVersion: number;
  settings: SocketSettings;
  deflate: ReturnType<typeof toHawserDeflateOptions> | false;
  maskSource: MaskSource;
  /** Where the first request went, to tell which redirects leave it. */
  first: { ipc: boolean; secure: boolean; hostOrSocketPath: string } | null;
}

/** Requests aborted on purpose: their late 'error' events are not reported. */
const aborted = new WeakSet<ClientRequest>();

/** Starts a client's handshake; throws (synchronously) on a bad URL, protocol list or version. */
export function startClient(
  socket: WebSocket,
  address: string | URL,
  protocolsOrOptions: string | string[] | ClientOptions | ClientRequestArgs | undefined,
  options: ClientOptions | ClientRequestArgs | undefined,
): void {
  // `new WebSocket(address, options)` and `new WebSocket(address, protocols, options)` alike.
  let protocols: string[];
  if (protocolsOrOptions === undefined) protocols = [];
  else if (Array.isArray(protocolsOrOptions)) protocols = protocolsOrOptions;
  else if (typeof protocolsOrOptions === "object" && protocolsOrOptions !== null) {
    options = protocolsOrOptions;
    protocols = [];
  } else protocols = [protocolsOrOptions];
  startConnecting(socket, address, protocols, (options ?? {}) as Options);
}

function startConnecting(socket: WebSocket, address: string | URL, protocols: string[], options: Options): void {
  const protocolVersion = options.protocolVersion ?? 13;
  if (!PROTOCOL_VERSIONS.includes(protocolVersion)) {
    throw new RangeError(`Unsupported protocol version: ${protocolVersion} (supported versions: ${PROTOCOL_VERSIONS.join(", ")})`);
  }
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (typeof protocol !== "string" || !isToken(protocol) || seen.has(protocol)) {
      throw new SyntaxError("An invalid or duplicated subprotocol was specified");
    }
    seen.add(protocol);
  }
  const deflateOption = options.perMessageDeflate ?? true;
  const generateMask = options.generateMask;
  const plan: Plan = {
    options,
    protocols,
    protocolVersion,
    settings: {
      allowSynchronousEvents: options.allowSynchronousEvents ?? true,
      autoPong: options.autoPong ?? true,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxBufferedChunks: options.maxBufferedChunks ?? DEFAULT_MAX_BUFFERED_CHUNKS,
      maxFragments: options.maxFragments ?? DEFAULT_MAX_FRAGMENTS,
      skipUTF8Validation: options.skipUTF8Validation ?? false,
      closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS,
    },
    deflate: deflateOption === false ? false : toHawserDeflateOptions(deflateOption === true ? {} : deflateOption, "client"),
    maskSource: generateMask ? maskFrom(generateMask) : sharedMaskSource,
    first: null,
  };
  attempt(socket, address, plan);
}

function maskFrom(generate: (mask: Buffer) => void): MaskSource {
  return () => {
    const key = Buffer.alloc(4);
    generate(key);
    return key;
  };
}

/** One handshake request: the first, or a redirect's (then errors are reported, not thrown). */
function attempt(socket: WebSocket, address: string | URL, plan: Plan): void {
  const redirected = socket._redirects > 0;
  let url: URL;
  if (address instanceof URL) {
    url = new URL(address.href);
  } else {
    try {
      url = new URL(address);
    } catch {
      return reportOrThrow(socket, redirected, new SyntaxError(`Invalid URL: ${address}`));
    }
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  socket._url = url.href;
  const secure = url.protocol === "wss:";
  const ipc = url.protocol === "ws+unix:";
  let problem: string | null = null;
  if (url.protocol !== "ws:" && !secure && !ipc) problem = `The URL's protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"`;
  else if (ipc && !url.pathname) problem = "The URL's pathname is empty";
  else if (url.hash) problem = "The URL contains a fragment identifier";
  if (problem !== null) return reportOrThrow(socket, redirected, new SyntaxError(problem));

  const defaultPort = secure ? 443 : 80;
  const key = randomBytes(16).toString("base64");
  const { options, protocols } = plan;
  const request: Options = {
    ...options,
    createConnection: options.createConnection ?? ((secure ? connectTls : connectTcp) as Options["createConnection"]),
    defaultPort: options.defaultPort ?? defaultPort,
    port: url.port || defaultPort,
    host: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
    method: "GET",
    path: url.pathname + url.search,
    timeout: options.handshakeTimeout,
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
  } as Options;
  const headers: Record<string, string> = {
    ...options.headers,
    "Sec-WebSocket-Version": String(plan.protocolVersion),
    "Sec-WebSocket-Key": key,
    Connection: "Upgrade",
    Upgrade: "websocket",
  };
  if (plan.deflate !== false) headers["Sec-WebSocket-Extensions"] = buildClientOffer(plan.deflate);
  if (protocols.length > 0) headers["Sec-WebSocket-Protocol"] = protocols.join(",");
  if (options.origin) headers[plan.protocolVersion < 13 ? "Sec-WebSocket-Origin" : "Origin"] = options.origin;
  if (url.username || url.password) request.auth = `${url.username}:${url.password}`;
  if (ipc) {
    const [socketPath, path] = (request.path ?? "").split(":");
    request.socketPath = socketPath;
    request.path = path;
  }
  request.headers = headers;

  if (options.followRedirects) followRedirectRules(socket, plan, request, headers, { ipc, secure, host: url.host });

  const send = secure ? httpsRequest : httpRequest;
  const req = send(request as RequestOptions);
  socket._req = req;
  if (redirected) socket.emit("redirect", socket.url, req);

  if (request.timeout) req.on("timeout", () => abortHandshake(socket, "Opening handshake has timed out"));
  req.on("error", (error) => {
    if (socket._req !== req || aborted.has(req)) return;
    socket._req = null;
    emitErrorAndClose(socket, error);
  });
  req.on("response", (response) => onResponse(socket, plan, req, response, address));
  req.on("upgrade", (response: IncomingMessage, upgraded: Socket, head: Buffer) => {
    onUpgrade(socket, plan, req, response, upgraded, head, key);
  });
  if (options.finishRequest) options.finishRequest(req, socket);
  else req.end();
}

/**
 * Redirects carry no credentials to another host, nor from wss: to ws: (as curl does), unless
 * a `redirect` listener takes that decision; the first URL's userinfo stays the Authorization.
 */
function followRedirectRules(
  socket: WebSocket,
  plan: Plan,
  request: Options,
  headers: Record<string, string>,
  here: { ipc: boolean; secure: boolean; host: string },
): void {
  const where = here.ipc ? (request.socketPath ?? "") : here.host;
  if (plan.first === null) {
    plan.first = { ipc: here.ipc, secure: here.secure, hostOrSocketPath: where };
    // Later requests take the headers in lower case, so the rules below find them.
    const lowered: Record<string, string> = {};
    for (const [name, value] of Object.entries(plan.options.headers ?? {})) lowered[name.toLowerCase()] = value;
    plan.options = { ...plan.options, headers: lowered };
  } else if (socket.listenerCount("redirect") === 0) {
    const first = plan.first;
    const sameHost = here.ipc === first.ipc && where === first.hostOrSocketPath;
    if (!sameHost || (first.secure && !here.secure)) {
      delete headers.authorization;
      delete headers.cookie;
      if (!sameHost) delete headers.host;
      request.auth = undefined;
    }
  }
  const stored = plan.options.headers!;
  if (request.auth && !stored.authorization) stored.authorization = `Basic ${Buffer.from(request.auth).toString("base64")}`;
}

function onResponse(socket: WebSocket, plan: Plan, req: ClientRequest, response: IncomingMessage, address: string | URL): void {
  const location = response.headers.location;
  const status = response.statusCode ?? 0;
  if (location && plan.options.followRedirects && status >= 300 && status < 400) {
    if (++socket._redirects > (plan.options.maxRedirects ?? 10)) {
      abortHandshake(socket, "Maximum redirects exceeded");
      return;
    }
    aborted.add(req);
    req.destroy();
    let next: URL;
    try {
      next = new URL(location, address);
    } catch {
      emitErrorAndClose(socket, new SyntaxError(`Invalid URL: ${location}`));
      return;
    }
    attempt(socket, next, plan);
    return;
  }
  if (!socket.emit("unexpected-response", req, response)) abortHandshake(socket, `Unexpected server response: ${status}`);
}

function onUpgrade(socket: WebSocket, plan: Plan, req: ClientRequest, response: IncomingMessage, upgraded: Socket, head: Buffer, key: string): void {
  socket.emit("upgrade", response);
  // A listener may have closed the socket.
  if (socket.readyState !== ReadyState.CONNECTING) return;
  socket._req = null;
  const fail = (message: string): void => abortHandshake(socket, message, upgraded);
  const upgrade = response.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== "websocket") return fail("Invalid Upgrade header");
  if (response.headers["sec-websocket-accept"] !== computeAcceptKey(key)) return fail("Invalid Sec-WebSocket-Accept header");
  const chosen = response.headers["sec-websocket-protocol"];
  if (chosen !== undefined) {
    if (plan.protocols.length === 0) return fail("Server sent a subprotocol but none was requested");
    if (!plan.protocols.includes(chosen)) return fail("Server sent an invalid subprotocol");
  } else if (plan.protocols.length > 0) {
    return fail("Server sent no subprotocol");
  }
  const extensions = response.headers["sec-websocket-extensions"];
  const negotiated = clientCodec(extensions, plan.deflate);
  if ("error" in negotiated) return fail(negotiated.error);
  if (chosen) socket._protocol = chosen;
  if (negotiated.codec !== null) socket._extensionNames = "permessage-deflate";
  const destroyedAlready = upgraded.destroyed;
  const transport = socket._attach(upgraded, plan.settings, negotiated.codec, plan.maskSource);
  socket.emit("open");
  // A socket terminated by an `open` listener reports its end when its own `close` comes.
  if (destroyedAlready || !upgraded.destroyed) transport.start(head);
}

/**
 * Abandons the handshake: reports `message` as an error, then closes (1006). With the
 * upgraded socket in hand it is destroyed; otherwise the request is aborted.
 */
export function abortHandshake(socket: WebSocket, message: string, upgraded?: Duplex): void {
  socket._readyState = ReadyState.CLOSING;
  const error = new Error(message);
  if (upgraded) {
    upgraded.destroy();
  } else {
    const req = socket._req;
    if (req) {
      aborted.add(req);
      req.destroy();
      // A request that already completed keeps its socket open after destroy().
      if (req.socket && !req.socket.destroyed) req.socket.destroy();
    }
  }
  process.nextTick(emitErrorAndClose, socket, error);
}

function emitErrorAndClose(socket: WebSocket, error: Error): void {
  if (socket._readyState === ReadyState.CLOSED) return;
  socket._readyState = ReadyState.CLOSING;
  socket._emitError(error);
  socket._emitClose(1006, EMPTY_BUFFER, false);
}

function reportOrThrow(socket: WebSocket, redirected: boolean, error: Error): void {
  if (!redirected) throw error;
  emitErrorAndClose(socket, error);
}

function connectTcp(options: Options): Socket {
  // A Unix socket (ws+unix:) when socketPath is set; host and port otherwise.
  return netConnect({ ...options, path: options.socketPath } as unknown as Parameters<typeof netConnect>[0]);
}

function connectTls(options: Options & ConnectionOptions): Socket {
  const tlsOptions: ConnectionOptions = { ...options, path: undefined } as ConnectionOptions;
  if (!tlsOptions.servername && tlsOptions.servername !== "") {
    const host = String(options.host ?? "");
    tlsOptions.servername = isIP(host) ? "" : host;
  }
  return tlsConnect(tlsOptions);
}
