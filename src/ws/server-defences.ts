import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { RateLimit } from "../protocol/rate-budget.js";
import { ConnectionAdmission, REFUSED_GRACE_MS } from "../security/admission.js";
import { ConnectionLimiter } from "../security/connection-limiter.js";
import { trustedHops } from "../security/forwarded.js";
import { OriginPolicy } from "../security/origin-policy.js";
import { rateLimitWarner, resolveRateLimit } from "../security/rate-limit.js";
import { RateLimitedWarnings } from "../security/warnings.js";
import type { ServerOptions } from "./types.js";

/** The HTTP answer to a handshake one of the defences refuses. */
export interface DefenceRefusal {
  status: 403 | 503;
  message: string;
  headers: Record<string, string>;
}

type DefenceOptions = Pick<ServerOptions, "allowedOrigins" | "trustProxy" | "maxConnections" | "maxConnectionsPerIp" | "messageRateLimit" | "onWarning">;

/**
 * hawser's defences as `hawser/ws`'s server offers them: the same origin policy, connection
 * admission and rate limit as `serve()` (src/security/), each off unless its option is given,
 * so a program written for `ws` behaves as it did.
 */
export class ServerDefences {
  private readonly origins: OriginPolicy | null;
  private readonly admission: ConnectionAdmission | null;
  /** How fast each peer may send; null for no limit. */
  readonly rateLimit: RateLimit | null;
  /** Told when a peer outruns `rateLimit`; null without one. */
  readonly onRateLimited: ((action: RateLimit["action"]) => void) | null;

  constructor(options: DefenceOptions) {
    // Every option is checked here, so a mistake throws before the server listens.
    const hops = trustedHops(options.trustProxy);
    const warnings = new RateLimitedWarnings(options.onWarning ?? ((message) => console.warn(message)));
    const { allowedOrigins, maxConnections, maxConnectionsPerIp } = options;
    this.origins = allowedOrigins == null ? null : new OriginPolicy(allowedOrigins, hops);
    this.admission =
      maxConnections == null && maxConnectionsPerIp == null
        ? null
        : new ConnectionAdmission(new ConnectionLimiter(maxConnections ?? Infinity, maxConnectionsPerIp ?? Infinity), hops, warnings, REFUSED_GRACE_MS);
    // null from a JavaScript caller means absent, as it does for ws's options.
    this.rateLimit = resolveRateLimit(options.messageRateLimit ?? undefined, "off");
    this.onRateLimited = this.rateLimit ? rateLimitWarner(this.rateLimit, warnings) : null;
  }

  /**
   * For the "connection" event of a server that takes only WebSocket handshakes (the one made
   * for the `port` option): counts each connection from its TCP accept, so handshakes still in
   * progress count against the limits. Null without connection limits.
   */
  get handleConnection(): ((socket: Socket) => void) | null {
    return this.admission?.handleConnection ?? null;
  }

  /** The 503 for any request on a connection refused at its accept (see `handleConnection`). */
  refusedConnection(req: IncomingMessage): DefenceRefusal | null {
    return this.admission?.refusedConnection(req.socket) ?? null;
  }

  /**
   * Why a well-formed handshake must not go on: its connection was refused at the accept (503),
   * its page's origin is not allowed (403), or it passes a connection limit (503). Null when it
   * may; it then counts against the limits until `socket` closes.
   */
  refusal(req: IncomingMessage, socket: Duplex): DefenceRefusal | null {
    const refusedAtAccept = this.refusedConnection(req);
    if (refusedAtAccept) return refusedAtAccept;
    if (this.origins) {
      const badOrigin = this.origins.refusal(req.headers, (req.socket as TLSSocket).encrypted === true);
      if (badOrigin !== null) return { status: 403, message: badOrigin, headers: {} };
    }
    return this.admission?.admitWebSocket(req.headers, req.socket, socket, true) ?? null;
  }
}
