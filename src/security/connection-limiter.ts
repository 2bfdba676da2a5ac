/** Which limit refused a connection. */
export type ConnectionLimitName = "maxConnections" | "maxConnectionsPerIp";

/**
 * Counts open connections, in all and per client address, against `maxConnections` and
 * `maxConnectionsPerIp`. Pure accounting: the caller says when a connection starts and ends
 * (see `ConnectionAdmission` for the sockets' side).
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    readonly maxConnections: number,
    readonly maxConnectionsPerIp: number,
  ) {
    for (const [name, value] of [
      ["maxConnections", maxConnections],
      ["maxConnectionsPerIp", maxConnectionsPerIp],
    ] as const) {
      if (!(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
        throw new RangeError(`${name} must be a whole number of connections, 1 or more (Infinity for no limit), got ${value}.`);
      }
    }
  }

  /** Connections counted now, in all. */
  get connections(): number {
    return this.total;
  }

  /** Connections counted now under `address`. */
  connectionsFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /**
   * Counts a connection: in the total when `inTotal`, and under `address` unless it is null.
   * Returns null when it fits (it is then counted: `release` it later with the same
   * arguments), or the limit it would pass (then nothing is counted).
   */
  admit(address: string | null, inTotal = true): ConnectionLimitName | null {
    if (inTotal && this.total >= this.maxConnections) return "maxConnections";
    if (address !== null) {
      const count = this.perAddress.get(address) ?? 0;
      if (count >= this.maxConnectionsPerIp) return "maxConnectionsPerIp";
      this.perAddress.set(address, count + 1);
    }
    if (inTotal) this.total++;
    return null;
  }

  /** Ends a connection `admit` counted. */
  release(address: string | null, inTotal = true): void {
    if (inTotal) this.total--;
    if (address === null) return;
    const count = this.perAddress.get(address) ?? 0;
    if (count <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, count - 1);
  }
}
