// The option and event types of the `ws` face, shaped so that a program written against
// `ws` 8 (and its DefinitelyTyped declarations) type-checks unchanged.
import type { Agent, ClientRequest, ClientRequestArgs, IncomingMessage, OutgoingHttpHeaders, Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { createConnection } from "node:net";
import type { SecureContextOptions } from "node:tls";
import type { ZlibOptions } from "node:zlib";
import type { RateLimit } from "../protocol/rate-budget.js";
import type { TrustProxy } from "../security/forwarded.js";
import type { AllowedOrigins } from "../security/origin-policy.js";
import type { WebSocketClass } from "./socket-types.js";
import type { WebSocket } from "./websocket.js";

/** A received message: a Buffer, or an ArrayBuffer or the frames' Buffers, as `binaryType` asks. */
export type RawData = Buffer | ArrayBuffer | Buffer[];

/** A message as the event-target API hands it out: text as a string. */
export type Data = string | Buffer | ArrayBuffer | Buffer[];

/** Certificate and key data, as node:tls takes it. */
export type CertMeta = string | string[] | Buffer | Buffer[];

/** What `send()`, `ping()` and `pong()` accept: strings, bytes, numbers, Blobs, and what `Buffer.from` takes. */
export type BufferLike =
  | string
  | Buffer
  | DataView
  | number
  | ArrayBufferView
  | Uint8Array
  | ArrayBuffer
  | SharedArrayBuffer
  | Blob
  | readonly unknown[]
  | readonly number[]
  | { valueOf(): ArrayBuffer }
  | { valueOf(): SharedArrayBuffer }
  | { valueOf(): Uint8Array }
  | { valueOf(): readonly number[] }
  | { valueOf(): string }
  | { [Symbol.toPrimitive](hint: string): string };

/**
 * How binary messages are handed to `message` listeners. ws 8.18 added "blob", which
 * @types/ws does not list; it works here at run time too, but is left out of the type so that
 * libraries typed against @types/ws accept this face's sockets and servers.
 */
export type BinaryType = "nodebuffer" | "arraybuffer" | "fragments";

/** Every binary type the face hands out at run time, "blob" included. */
export type AnyBinaryType = BinaryType | "blob";

/** Per-message options of `send()`. */
export interface SendOptions {
  /** Send as binary (default: true for anything but a string). */
  binary?: boolean | undefined;
  /** Compress when permessage-deflate was agreed (default true). */
  compress?: boolean | undefined;
  /** This is the message's last fragment (default true); false sends a message in pieces. */
  fin?: boolean | undefined;
  /** Accepted for compatibility; clients always mask and servers never do (RFC 6455 section 5.3). */
  mask?: boolean | undefined;
}

/** Told once the data was written to the socket, or with the error that kept it from being sent. */
export type SendCallback = (err?: Error) => void;

/** What `verifyClient` is given about a handshake request. */
export interface VerifyClientInfo<Request extends IncomingMessage = IncomingMessage> {
  origin: string;
  secure: boolean;
  req: Request;
}

/** A synchronous `verifyClient`: return false to refuse the handshake with 401. */
export type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = (info: VerifyClientInfo<Request>) => boolean;

/** An asynchronous `verifyClient`: call back with false (and an HTTP status, message and headers) to refuse. */
export type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = (
  info: VerifyClientInfo<Request>,
  callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
) => void;

/** Finishes each handshake request (the first and each redirect's): it must call `request.end()`. */
export type FinishRequestCallback = (request: ClientRequest, websocket: WebSocket) => void;

/** permessage-deflate settings, with `ws`'s names (the same on server and client). */
export interface PerMessageDeflateOptions {
  /** Server: always reset its compressor between messages; client: ask the server to. */
  serverNoContextTakeover?: boolean | undefined;
  /** Server: ask clients to reset theirs; client: announce that it will. */
  clientNoContextTakeover?: boolean | undefined;
  /** LZ77 window (8-15) for what the server compresses. */
  serverMaxWindowBits?: number | undefined;
  /**
   * LZ77 window (8-15) for what the client compresses. Typed as a number, as @types/ws has it
   * (libraries typed against ws take our server only then); at run time a client's `true`
   * offers the parameter without a value, as ws does.
   */
  clientMaxWindowBits?: number | undefined;
  /** zlib options for compressing; `level` and `memLevel` are used. */
  zlibDeflateOptions?:
    | {
        flush?: number | undefined;
        finishFlush?: number | undefined;
        chunkSize?: number | undefined;
        windowBits?: number | undefined;
        level?: number | undefined;
        memLevel?: number | undefined;
        strategy?: number | undefined;
        dictionary?: Buffer | Buffer[] | DataView | undefined;
        info?: boolean | undefined;
      }
    | undefined;
  /** Accepted for compatibility; inflating is hawser's own (limits included). */
  zlibInflateOptions?: ZlibOptions | undefined;
  /** Messages shorter than this many bytes are sent uncompressed (default 1024). */
  threshold?: number | undefined;
  /** Accepted for compatibility; zlib work is bounded process-wide (see `setZlibConcurrency` in "hawser"). */
  concurrencyLimit?: number | undefined;
}

/** Options of `new WebSocket(address, protocols, options)`; anything else is passed to `http.request()`. */
export interface ClientOptions extends SecureContextOptions {
  protocol?: string | undefined;
  /** Follow 3xx answers to the handshake (default false). */
  followRedirects?: boolean | undefined;
  /** Fills a 4-byte buffer with a masking key; the default uses a cryptographically random pool. */
  generateMask?(mask: Buffer): void;
  /** Milliseconds allowed for the handshake (each redirect restarts it). */
  handshakeTimeout?: number | undefined;
  /** Most redirects followed (default 10). */
  maxRedirects?: number | undefined;
  /** Offer permessage-deflate (default true). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  localAddress?: string | undefined;
  /** Sec-WebSocket-Version to send: 13 (default) or 8. */
  protocolVersion?: number | undefined;
  /** Extra request headers. */
  headers?: { [key: string]: string } | undefined;
  /** Sent as the Origin header. */
  origin?: string | undefined;
  agent?: Agent | undefined;
  host?: string | undefined;
  family?: number | undefined;
  checkServerIdentity?(servername: string, cert: CertMeta): boolean;
  rejectUnauthorized?: boolean | undefined;
  /** Allow several message, ping and pong events in one tick (default true). */
  allowSynchronousEvents?: boolean | undefined;
  /** Answer pings automatically (default true). */
  autoPong?: boolean | undefined;
  /** Largest message accepted, in bytes (default 100 MiB; 0 for no limit). Over it: close 1009. */
  maxPayload?: number | undefined;
  /** Accepted for compatibility: hawser bounds a message's memory by its bytes, whatever its fragments. */
  maxBufferedChunks?: number | undefined;
  /** Accepted for compatibility: hawser bounds a message's memory by its bytes, whatever its fragments. */
  maxFragments?: number | undefined;
  /** Skip UTF-8 checks of text messages; only for trusted servers (default false). */
  skipUTF8Validation?: boolean | undefined;
  /** Milliseconds to wait for the closing handshake before cutting the connection (default 30 000). */
  closeTimeout?: number | undefined;
  createConnection?: typeof createConnection | undefined;
  finishRequest?: FinishRequestCallback | undefined;
}

/** Options of `new WebSocketServer(options, callback)`: exactly one of `port`, `server` and `noServer`. */
export interface ServerOptions<U extends WebSocketClass = typeof WebSocket, V extends typeof IncomingMessage = typeof IncomingMessage> {
  host?: string | undefined;
  port?: number | undefined;
  backlog?: number | undefined;
  server?: HttpServer<V> | HttpsServer<V> | undefined;
  verifyClient?: VerifyClientCallbackAsync<InstanceType<V>> | VerifyClientCallbackSync<InstanceType<V>> | undefined;
  handleProtocols?: (protocols: Set<string>, request: InstanceType<V>) => string | false;
  /** Accept only requests for this path. */
  path?: string | undefined;
  noServer?: boolean | undefined;
  allowSynchronousEvents?: boolean | undefined;
  autoPong?: boolean | undefined;
  /** Keep `server.clients` (default true). */
  clientTracking?: boolean | undefined;
  /** Negotiate permessage-deflate (default false, as in `ws`). */
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  maxPayload?: number | undefined;
  maxBufferedChunks?: number | undefined;
  maxFragments?: number | undefined;
  skipUTF8Validation?: boolean | undefined;
  closeTimeout?: number | undefined;
  /** The class of the sockets the server makes: `WebSocket` or a subclass of it. */
  WebSocket?: U | undefined;
  // hawser's defences (docs/security.md), each off unless given, so that a program written for
  // `ws` behaves the same; `serve()` has them on by default.
  /**
   * hawser: which pages may open WebSockets, by `Origin`. Absent: every request, as with `ws`.
   * A list: requests without `Origin`, pages of the server's own origin and those listed; "*":
   * all; a function decides alone. Others get 403 before `verifyClient` runs.
   */
  allowedOrigins?: AllowedOrigins | undefined;
  /**
   * hawser: believe the X-Forwarded-For/-Proto/-Host headers of one reverse proxy (true) or of
   * that many in a row (a number), for the client's address and the server's own origin.
   */
  trustProxy?: TrustProxy | undefined;
  /**
   * hawser: most connections at once, handshakes in progress included; past it, 503 with
   * Retry-After before upgrading. Absent: no limit, as with `ws`.
   */
  maxConnections?: number | undefined;
  /**
   * hawser: most connections at once from one client address (an IPv6 client: its /64),
   * handshakes in progress included; past it, 503 with Retry-After. Absent: no limit.
   */
  maxConnectionsPerIp?: number | undefined;
  /**
   * hawser: how fast each peer may send (frames, pings included, and payload bytes per second,
   * with bursts), and what happens past it: "pause" reading, or "close" with 1008. Fields left
   * out take `serve()`'s defaults. Absent or false: no limit, as with `ws`.
   */
  messageRateLimit?: Partial<RateLimit> | false | undefined;
  /** hawser: where refusals and throttling are reported, each kind at most every 10 s (default console.warn). */
  onWarning?: ((message: string) => void) | undefined;
}

/** Where a server listens, as `server.address()` reports it. */
export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

/**
 * The socket an event-target event names, by its commands and state: the whole socket is
 * `WebSocket`, but typing `target` as the class would make these events and @types/ws's
 * refer to each other's sockets member by member, which TypeScript cannot settle; libraries
 * typed against @types/ws would then refuse this face's sockets.
 */
export interface EventSocket {
  readonly readyState: 0 | 1 | 2 | 3;
  readonly url: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  readonly isPaused: boolean;
  send(data: BufferLike, cb?: SendCallback): void;
  close(code?: number, data?: string | Buffer): void;
  terminate(): void;
  pause(): void;
  resume(): void;
}

/** The events of the event-target API (`addEventListener`, `onopen`, ...). */
export interface Event {
  type: string;
  target: EventSocket;
}

export interface ErrorEvent {
  error: Error;
  message: string;
  type: string;
  target: EventSocket;
}

export interface CloseEvent {
  wasClean: boolean;
  code: number;
  reason: string;
  type: string;
  target: EventSocket;
}

export interface MessageEvent {
  data: Data;
  type: string;
  target: EventSocket;
}

export interface WebSocketEventMap {
  open: Event;
  error: ErrorEvent;
  close: CloseEvent;
  message: MessageEvent;
}

export interface EventListenerOptions {
  once?: boolean | undefined;
}

/** Client options with the node:http request options they may carry. */
export type ClientRequestOptions = ClientOptions | ClientRequestArgs;
