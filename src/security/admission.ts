import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionLimiter, ConnectionLimitName } from "./connection-limiter.js";
import { addressKey, clientAddress } from "./forwarded.js";
import type { RateLimitedWarnings } from "./warnings.js";

/**
 * What a client past a connection limit is told: 503 with `Retry-After`, seconds. Long enough
 * that a reconnecting page does not add to the load it was refused for, short enough that it
 * gets in soon after connections free up.
 */
export const RETRY_AFTER_SECONDS = 5;

/**
 * How long a connection refused at its accept may take to send the request its 503 answers
 * (a server with a shorter handshake timeout uses that instead).
 */
export const REFUSED_GRACE_MS = 2_000;

/** A 503 to answer instead of running the handler. */
export interface ConnectionRefusal {
  status: 503;
  message: string;
  headers: Record<string, string>;
}

/** The four numbers of a TCP connection, as both its raw socket and its TLS socket report them. */
type Endpoints = Pick<Socket, "remoteAddress" | "remotePort" | "localAddress" | "localPort">;

interface Counted {
  admission: ConnectionAdmission;
  address: string | null;
  inTotal: boolean;
}

const kCounted = Symbol("hawser.counted");
type CountedSocket = Duplex & { [kCounted]?: Counted | undefined };

/**
 * Applies a `ConnectionLimiter` to a server's sockets. Connections count from the TCP accept
 * when the server's "connection" event reaches `handleConnection` (so handshakes still in
 * progress count, however slowly they arrive), otherwise from the WebSocket request; they
 * stop counting when the connection closes. An HTTP/2 connection counts once, and each
 * WebSocket stream on it once more. Behind trusted proxies (`trustProxy`) the TCP peer is the
 * proxy: the accept counts towards `maxConnections` only, and the client's forwarded address
 * is counted when its WebSocket request arrives.
 */
export class ConnectionAdmission {
  /** Connections refused at the accept, waiting for their request to be answered 503. */
  private readonly refused = new Map<string, ConnectionLimitName>();
  private countsFromAccept = false;
  /**
   * Ends the count of a connection counted at its accept: one function for every socket, which
   * finds the address again on the socket (Node keeps it once read), so an idle connection
   * carries nothing more than this listener.
   */
  private readonly releaseAccepted: (this: Socket) => void;
  /** The key a connection is counted under at its accept (null: the total only, behind a proxy). */
  private readonly acceptedAddress: (socket: Socket) => string | null;

  constructor(
    private readonly limiter: ConnectionLimiter,
    private readonly trustedHops: number,
    private readonly warnings: RateLimitedWarnings,
    /** How long a refused connection may take to send the request its 503 answers. */
    private readonly refusedGraceMs: number,
  ) {
    const accepted = (socket: Socket): string | null => (trustedHops > 0 ? null : addressKey(socket.remoteAddress ?? ""));
    this.releaseAccepted = function (this: Socket) {
      limiter.release(accepted(this));
    };
    this.acceptedAddress = accepted;
  }

  /**
   * For a server's "connection" event: counts the connection from its accept. A connection
   * past a limit is answered 503 once its request arrives, and cut if that takes longer than
   * a short grace period (it holds no slot meanwhile).
   */
  readonly handleConnection = (socket: Socket): void => {
    this.countsFromAccept = true;
    const limit = this.limiter.admit(this.acceptedAddress(socket));
    if (limit === null) {
      onClose(socket, this.releaseAccepted);
      return;
    }
    const key = endpointsKey(socket);
    this.refused.set(key, limit);
    this.warnRefused(limit, socket.remoteAddress ?? "", this.acceptedAddress(socket));
    const timer = setTimeout(() => socket.destroy(), this.refusedGraceMs);
    timer.unref();
    socket.once("close", () => {
      clearTimeout(timer);
      this.refused.delete(key);
    });
  };

  /** The 503 for a request on a connection refused at its accept, if it was. */
  refusedConnection(socket: Endpoints): ConnectionRefusal | null {
    if (this.refused.size === 0) return null;
    const limit = this.refused.get(endpointsKey(socket));
    return limit === undefined ? null : this.refusal(limit);
  }

  /**
   * Counts a WebSocket request about to reach the handler, until `closes` (the TCP socket of
   * an HTTP/1.1 upgrade, or an HTTP/2 stream) closes; or the 503 to answer when it does not fit.
   */
  admitWebSocket(headers: IncomingHttpHeaders, peer: Endpoints, closes: Duplex, ownConnection: boolean): ConnectionRefusal | null {
    // An upgrade's TCP connection was counted at its accept, but behind a proxy only in the total.
    if (ownConnection && this.countsFromAccept && this.trustedHops === 0) return null;
    const inTotal = !(ownConnection && this.countsFromAccept);
    const address = addressKey(clientAddress(peer.remoteAddress, headers, this.trustedHops));
    const limit = this.limiter.admit(address, inTotal);
    if (limit !== null) {
      this.warnRefused(limit, address, address);
      return this.refusal(limit);
    }
    if (this.trustedHops === 0 && inTotal && closes === (peer as unknown)) {
      // Mounted without the accept hook: counted as the accept would have, released alike.
      onClose(closes as Socket, this.releaseAccepted);
    } else {
      countUntilClose(closes, { admission: this, address, inTotal });
    }
    return null;
  }

  /** @internal */
  release(counted: Counted): void {
    this.limiter.release(counted.address, counted.inTotal);
  }

  private refusal(limit: ConnectionLimitName): ConnectionRefusal {
    const message =
      limit === "maxConnections"
        ? `The server is at its limit of ${this.limiter.maxConnections} connections (maxConnections): try again later.`
        : `Too many connections from your address: the limit is ${this.limiter.maxConnectionsPerIp} (maxConnectionsPerIp). Close some, or try again later.`;
    return { status: 503, message, headers: { "Retry-After": String(RETRY_AFTER_SECONDS) } };
  }

  private warnRefused(limit: ConnectionLimitName, address: string, key: string | null): void {
    this.warnings.warn(limit, () =>
      limit === "maxConnections"
        ? `refused a connection from ${address}: the server has ${this.limiter.connections} connections, its maxConnections. ` +
          `Raise maxConnections if the machine can hold more.`
        : `refused a connection from ${address}: it has ${key === null ? "?" : this.limiter.connectionsFrom(key)} connections, the maxConnectionsPerIp. ` +
          `If these are legitimate (many users behind one NAT or proxy), raise maxConnectionsPerIp` +
          (this.trustedHops > 0 ? "." : `, or set trustProxy if a reverse proxy forwards the client's address.`),
    );
  }
}

/** Calls `release` with the socket as `this` when it closes (at once if it is gone already). */
function onClose(socket: Socket, release: (this: Socket) => void): void {
  // on, not once: once would wrap the listener in a closure for every socket.
  if (socket.destroyed) release.call(socket);
  else socket.on("close", release);
}

function endpointsKey(socket: Endpoints): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

/** Releases the count when `socket` closes, through one listener function for every socket. */
function countUntilClose(socket: Duplex, counted: Counted): void {
  const target = socket as CountedSocket;
  if (target.destroyed) {
    counted.admission.release(counted);
    return;
  }
  target[kCounted] = counted;
  target.on("close", releaseOnClose);
}

function releaseOnClose(this: CountedSocket): void {
  const counted = this[kCounted];
  if (counted === undefined) return;
  this[kCounted] = undefined;
  counted.admission.release(counted);
}
