import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { createServer, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { computeAcceptKey, isToken, isValidClientKey } from "../protocol/handshake.js";
import { parseTokenList } from "../protocol/extension-header.js";
import type { PerMessageDeflateOptions as HawserDeflateOptions } from "../extensions/deflate-negotiation.js";
import type { MessageCodec } from "../protocol/codec.js";
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_MAX_BUFFERED_CHUNKS, DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD } from "./defaults.js";
import { negotiateAsServer, toHawserDeflateOptions } from "./deflate-options.js";
import { ServerDefences } from "./server-defences.js";
import type { AddressInfo, ServerOptions, VerifyClientCallbackAsync, VerifyClientCallbackSync } from "./types.js";
import type { SocketSettings } from "./attach.js";
import type { WebSocketClass } from "./socket-types.js";
import { WebSocket } from "./websocket.js";

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

/** The protocol versions a face server speaks: RFC 6455's 13, and 8 (its draft, framed alike), as `ws` does. */
const VERSIONS = ["13", "8"];

/** Sockets handed to a WebSocket already: a second handleUpgrade() for one is a mistake to report. */
const upgradedSockets = new WeakSet<Duplex>();

type Negotiated = { header: string; codec: MessageCodec };

/** `ws`'s server options with every default filled in, as `server.options` shows them. */
type ResolvedOptions<T extends WebSocketClass, U extends typeof IncomingMessage> = ServerOptions<T, U> & {
  WebSocket: T;
  clientTracking: boolean;
};

/**
 * `ws` 8's WebSocketServer on hawser: it listens on a port, attaches to a node:http(s) server,
 * or (`noServer`) completes upgrades handed to `handleUpgrade()`, and emits `connection(ws,
 * req)` for each accepted socket.
 */
export class WebSocketServer<T extends WebSocketClass = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> extends EventEmitter {
  /** The options, defaults filled in. */
  readonly options: ResolvedOptions<T, U>;
  /** The accepted sockets still open (absent with `clientTracking: false`). */
  declare clients: Set<InstanceType<T>>;
  /**
   * The `path` option ("" when none): the only path this server takes upgrades on. (@types/ws
   * declares this member, and libraries typed against it, graphql-ws and tRPC, require it.)
   */
  get path(): string {
    return this.options.path ?? "";
  }
  /** The HTTP server listened on (made here for `port`); null once closed. */
  _server: HttpServer | HttpsServer | null = null;
  /** @internal 0 running, 1 closing, 2 closed. */
  _state: 0 | 1 | 2 = RUNNING;
  private detachFromServer: (() => void) | null = null;
  private emitCloseWhenEmpty = false;
  private readonly settings: SocketSettings;
  private readonly deflate: HawserDeflateOptions | null;
  private readonly defences: ServerDefences;

  constructor(options?: ServerOptions<T, U>, callback?: () => void) {
    super();
    const resolved = {
      allowSynchronousEvents: true,
      autoPong: true,
      maxBufferedChunks: DEFAULT_MAX_BUFFERED_CHUNKS,
      maxFragments: DEFAULT_MAX_FRAGMENTS,
      maxPayload: DEFAULT_MAX_PAYLOAD,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      clientTracking: true,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT_MS,
      noServer: false,
      WebSocket: WebSocket as unknown as T,
      ...options,
    } as ResolvedOptions<T, U>;
    const { port, server, noServer } = resolved;
    if ((port == null && !server && !noServer) || (port != null && (server || noServer)) || (server && noServer)) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    const defences = new ServerDefences(resolved);
    this.defences = defences;
    if (port != null) {
      const own = createServer((req, res) => {
        const refused = defences.refusedConnection(req);
        if (refused) {
          res.writeHead(refused.status, {
            ...refused.headers,
            Connection: "close",
            "Content-Length": Buffer.byteLength(refused.message),
            "Content-Type": "text/plain",
          });
          res.end(refused.message);
          return;
        }
        // Plain HTTP requests to a WebSocket-only port.
        const body = STATUS_CODES[426]!;
        res.writeHead(426, { "Content-Length": body.length, "Content-Type": "text/plain" });
        res.end(body);
      });
      // This server takes only handshakes: its connections count against the limits from the
      // TCP accept. (An application's server given as `server` is left alone: its other
      // requests are not ours to count or refuse; handshakes there count from the request.)
      const countFromAccept = defences.handleConnection;
      if (countFromAccept) own.on("connection", countFromAccept);
      own.listen(
        { port, ...(resolved.host != null ? { host: resolved.host } : {}), ...(resolved.backlog != null ? { backlog: resolved.backlog } : {}) },
        callback,
      );
      this._server = own;
    } else if (server) {
      this._server = server;
    }
    if (this._server) this.detachFromServer = this.attachTo(this._server);
    if (resolved.perMessageDeflate === true) resolved.perMessageDeflate = {};
    if (resolved.clientTracking) this.clients = new Set();
    this.options = resolved;
    this.settings = {
      allowSynchronousEvents: resolved.allowSynchronousEvents !== false,
      autoPong: resolved.autoPong !== false,
      maxPayload: resolved.maxPayload ?? 0,
      maxBufferedChunks: resolved.maxBufferedChunks ?? DEFAULT_MAX_BUFFERED_CHUNKS,
      maxFragments: resolved.maxFragments ?? DEFAULT_MAX_FRAGMENTS,
      skipUTF8Validation: resolved.skipUTF8Validation === true,
      closeTimeout: resolved.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS,
      ...(defences.rateLimit ? { rateLimit: defences.rateLimit, onRateLimited: defences.onRateLimited! } : {}),
    };
    const deflate = resolved.perMessageDeflate;
    this.deflate = deflate ? toHawserDeflateOptions(deflate, "server") : null;
  }

  /** Where the server listens; throws in `noServer` mode, null once closed. */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (!this._server) return null;
    return this._server.address() as AddressInfo | string | null;
  }

  /**
   * Stops accepting connections, and closes the HTTP server if it was made here. Open sockets
   * stay open; `close` is emitted (and `cb` called) once the server is closed and, with client
   * tracking and an outside server, every socket has closed.
   */
  close(cb?: (err?: Error) => void): void {
    if (this._state === CLOSED) {
      if (cb) this.once("close", () => cb(new Error("The server is not running")));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once("close", cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    const server = this._server;
    this.detachFromServer?.();
    this.detachFromServer = null;
    this._server = null;
    if (this.options.noServer || this.options.server) {
      if (this.clients && this.clients.size > 0) this.emitCloseWhenEmpty = true;
      else process.nextTick(emitClose, this);
    } else {
      server!.close(() => emitClose(this));
    }
  }

  /** Whether this server takes `req`: by default, when its path is the `path` option (if set). */
  shouldHandle(req: InstanceType<U>): boolean | Promise<boolean> {
    const path = this.options.path;
    if (path) {
      const url = req.url ?? "/";
      const query = url.indexOf("?");
      if ((query === -1 ? url : url.slice(0, query)) !== path) return false;
    }
    return true;
  }

  /**
   * Completes a WebSocket upgrade requested on `socket` (from an HTTP server's `upgrade` event)
   * and calls back with the open socket, or answers the request with an HTTP error.
   */
  handleUpgrade(req: InstanceType<U>, socket: Duplex, head: Buffer, cb: (client: InstanceType<T>, request: InstanceType<U>) => void): void {
    socket.on("error", destroySocket);
    const headers = req.headers;
    const key = headers["sec-websocket-key"];
    const upgrade = headers.upgrade;
    const version = headers["sec-websocket-version"];
    if (req.method !== "GET") return this.refuse(req, socket, 405, "Invalid HTTP method");
    if (upgrade === undefined || upgrade.toLowerCase() !== "websocket") return this.refuse(req, socket, 400, "Invalid Upgrade header");
    if (key === undefined || !isValidClientKey(key)) return this.refuse(req, socket, 400, "Missing or invalid Sec-WebSocket-Key header");
    if (version === undefined || !VERSIONS.includes(version.trim())) {
      // A missing version is a malformed request (400); one we do not speak gets 426 (RFC 6455 section 4.4).
      const status = version === undefined || version.trim() === "" ? 400 : 426;
      return this.refuse(req, socket, status, "Missing or invalid Sec-WebSocket-Version header", { "Sec-WebSocket-Version": VERSIONS.join(", ") });
    }
    if (!this.shouldHandle(req)) return abortHandshake(socket, 400);
    let protocols = new Set<string>();
    const protocolHeader = headers["sec-websocket-protocol"];
    if (protocolHeader !== undefined) {
      const parsed = parseProtocols(protocolHeader);
      if (parsed === null) return this.refuse(req, socket, 400, "Invalid Sec-WebSocket-Protocol header");
      protocols = parsed;
    }
    let negotiated: Negotiated | null = null;
    const extensionHeader = headers["sec-websocket-extensions"];
    if (this.deflate !== null && extensionHeader !== undefined) {
      const answer = negotiateAsServer(extensionHeader, this.deflate);
      if (answer !== null && "error" in answer) return this.refuse(req, socket, 400, "Invalid or unacceptable Sec-WebSocket-Extensions header");
      negotiated = answer;
    }
    // hawser's defences, when turned on: answered as `ws` answers a refusing verifyClient (they
    // are the server's policy, not a malformed request: no wsClientError), naming the option.
    const refused = this.defences.refusal(req, socket);
    if (refused) return abortHandshake(socket, refused.status, refused.message, refused.headers);
    const verify = this.options.verifyClient;
    if (verify) {
      const info = {
        origin: headers[version.trim() === "8" ? "sec-websocket-origin" : "origin"] as string,
        secure: Boolean((req.socket as TLSSocket).authorized || (req.socket as TLSSocket).encrypted),
        req,
      };
      if (verify.length === 2) {
        (verify as VerifyClientCallbackAsync<InstanceType<U>>)(info, (verified, code, message, extra) => {
          if (!verified) return abortHandshake(socket, code || 401, message, extra);
          this.completeUpgrade(negotiated, key, protocols, req, socket, head, cb);
        });
        return;
      }
      if (!(verify as VerifyClientCallbackSync<InstanceType<U>>)(info)) return abortHandshake(socket, 401);
    }
    this.completeUpgrade(negotiated, key, protocols, req, socket, head, cb);
  }

  /** @internal Writes the 101 answer and hands the socket to a new WebSocket. */
  completeUpgrade(
    negotiated: Negotiated | null,
    key: string,
    protocols: Set<string>,
    req: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    cb: (client: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    // The client already half-closed: there is nobody to talk to.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (upgradedSockets.has(socket)) {
      throw new Error("server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration");
    }
    if (this._state > RUNNING) return abortHandshake(socket, 503);
    const lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${computeAcceptKey(key)}`];
    // Made as `ws` makes them, so a subclass given as the `WebSocket` option sees the same arguments.
    const SocketClass = this.options.WebSocket as unknown as new (address: null, protocols: undefined, options: object) => InstanceType<T>;
    const ws = new SocketClass(null, undefined, this.options);
    if (protocols.size > 0) {
      const handle = this.options.handleProtocols;
      const protocol = handle ? handle(protocols, req) : protocols.values().next().value;
      if (protocol) {
        lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
        ws._protocol = protocol;
      }
    }
    if (negotiated) {
      lines.push(`Sec-WebSocket-Extensions: ${negotiated.header}`);
      ws._extensionNames = "permessage-deflate";
    }
    // Listeners may inspect and change the answer's header lines.
    this.emit("headers", lines, req);
    socket.write(lines.concat("\r\n").join("\r\n"));
    socket.removeListener("error", destroySocket);
    upgradedSockets.add(socket);
    const destroyedAlready = socket.destroyed;
    const transport = ws._attach(socket, this.settings, negotiated?.codec ?? null);
    if (this.clients) {
      this.clients.add(ws);
      ws._onClosed = this.untrack;
    }
    cb(ws, req);
    // What came with the request is read once the callback has set up its listeners (a socket
    // it terminated reports its end when its own `close` comes).
    if (destroyedAlready || !socket.destroyed) transport.start(head);
  }

  /** One function for every socket, rather than a closure each. */
  private readonly untrack = (socket: WebSocket): void => {
    this.clients.delete(socket as InstanceType<T>);
    if (this.emitCloseWhenEmpty && this.clients.size === 0) process.nextTick(emitClose, this);
  };

  private attachTo(server: HttpServer | HttpsServer): () => void {
    const emitConnection = (ws: InstanceType<T>, req: InstanceType<U>): void => {
      this.emit("connection", ws, req);
    };
    const listeners = {
      listening: (): void => {
        this.emit("listening");
      },
      error: (error: Error): void => {
        this.emit("error", error);
      },
      upgrade: (req: InstanceType<U>, socket: Duplex, head: Buffer): void => {
        this.handleUpgrade(req, socket, head, emitConnection);
      },
    };
    for (const [event, listener] of Object.entries(listeners)) server.on(event, listener);
    return () => {
      for (const [event, listener] of Object.entries(listeners)) server.removeListener(event, listener);
    };
  }

  /** A malformed handshake: `wsClientError` listeners answer it themselves; otherwise `status`. */
  private refuse(req: InstanceType<U>, socket: Duplex, status: number, message: string, headers?: OutgoingHttpHeaders): void {
    if (this.listenerCount("wsClientError") > 0) {
      this.emit("wsClientError", new Error(message), socket, req);
      return;
    }
    abortHandshake(socket, status, message, headers);
  }
}

/** The events a server emits and their arguments, as @types/ws declares them. */
export interface WebSocketServerEvents<T extends WebSocketClass = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> {
  connection: [socket: InstanceType<T>, request: InstanceType<U>];
  error: [error: Error];
  headers: [headers: string[], request: InstanceType<U>];
  close: [];
  listening: [];
  wsClientError: [error: Error, socket: Duplex, request: InstanceType<U>];
}

type ServerListener<T extends WebSocketClass, U extends typeof IncomingMessage, K extends keyof WebSocketServerEvents> = (
  this: WebSocketServer<T, U>,
  ...args: WebSocketServerEvents<T, U>[K]
) => void;
type AnyServerListener<T extends WebSocketClass, U extends typeof IncomingMessage> = (this: WebSocketServer<T, U>, ...args: never[]) => void;

/**
 * The events typed for `on`, `once`, `off`, `addListener` and `removeListener`, so that a
 * `connection` listener's socket is the server's socket class, not `any`.
 */
export interface WebSocketServer<T extends WebSocketClass = typeof WebSocket, U extends typeof IncomingMessage = typeof IncomingMessage> {
  on<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<T, U, K>): this;
  on(event: string | symbol, listener: AnyServerListener<T, U>): this;
  once<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<T, U, K>): this;
  once(event: string | symbol, listener: AnyServerListener<T, U>): this;
  off<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<T, U, K>): this;
  off(event: string | symbol, listener: AnyServerListener<T, U>): this;
  addListener<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<T, U, K>): this;
  addListener(event: string | symbol, listener: AnyServerListener<T, U>): this;
  removeListener<K extends keyof WebSocketServerEvents>(event: K, listener: ServerListener<T, U, K>): this;
  removeListener(event: string | symbol, listener: AnyServerListener<T, U>): this;
}

/** The subprotocols a client offers: distinct tokens (RFC 6455 section 4.1), or null when malformed. */
function parseProtocols(header: string): Set<string> | null {
  const protocols = new Set<string>();
  for (const protocol of parseTokenList(header)) {
    if (!isToken(protocol) || protocols.has(protocol)) return null;
    protocols.add(protocol);
  }
  return protocols.size > 0 ? protocols : null;
}

function emitClose(server: WebSocketServer<WebSocketClass>): void {
  server._state = CLOSED;
  server.emit("close");
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

/** Answers a refused handshake with `status` on the raw socket, then closes it. */
function abortHandshake(socket: Duplex, status: number, message?: string, headers?: OutgoingHttpHeaders): void {
  const body = message || STATUS_CODES[status] || "";
  const all: OutgoingHttpHeaders = {
    Connection: "close",
    "Content-Type": "text/html",
    "Content-Length": Buffer.byteLength(body),
    ...headers,
  };
  socket.once("finish", () => socket.destroy());
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`;
  for (const [name, value] of Object.entries(all)) head += `${name}: ${String(value)}\r\n`;
  socket.end(`${head}\r\n${body}`);
}
