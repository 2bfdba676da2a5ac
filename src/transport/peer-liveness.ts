import { joinKeepalive, leaveKeepalive, type KeepaliveMember } from "./keepalive-wheel.js";

/** What the liveness check needs of its transport. */
export interface LivenessOwner {
  /** Set by the transport on every read from the peer; the check clears it each tick. */
  receivedSinceTick: boolean;
  readonly connection: { readonly canSend: boolean };
  sendPing(): boolean;
  /** The peer stopped answering: report `error` and cut the connection. */
  declareDead(error: Error): void;
}

/**
 * Keepalive for one connection: sends a ping after `pingIntervalMs` without traffic from the
 * peer, and declares the peer dead when `pongTimeoutMs` pass after that ping with nothing
 * received (a peer that vanished without a FIN, RFC 6455 section 5.5.2's intended use of ping).
 * It ticks on a wheel shared by every connection with the same period.
 */
export class PeerLiveness implements KeepaliveMember {
  private readonly period: number;
  private pingOutstanding = false;
  private pingSentAt = 0;
  private lastActivity = Date.now();

  constructor(
    private readonly owner: LivenessOwner,
    private readonly pingIntervalMs: number,
    private readonly pongTimeoutMs: number,
  ) {
    this.period = Math.min(pingIntervalMs, pongTimeoutMs);
    joinKeepalive(this.period, this);
  }

  /** A ping went out (ours or the application's): its pong, or any traffic, is now awaited. */
  pingSent(): void {
    this.pingOutstanding = true;
    this.pingSentAt = Date.now();
  }

  pongReceived(): void {
    this.pingOutstanding = false;
  }

  /** @internal */
  keepaliveTick(now: number): void {
    const owner = this.owner;
    if (owner.receivedSinceTick) {
      owner.receivedSinceTick = false;
      this.lastActivity = now;
      this.pingOutstanding = false;
      return;
    }
    if (this.pingOutstanding) {
      if (now - this.pingSentAt >= this.pongTimeoutMs) {
        owner.declareDead(new Error(`No answer to a ping within ${this.pongTimeoutMs} ms: the peer is gone.`));
      }
      return;
    }
    if (now - this.lastActivity >= this.pingIntervalMs && owner.connection.canSend) owner.sendPing();
  }

  stop(): void {
    leaveKeepalive(this.period, this);
  }
}
