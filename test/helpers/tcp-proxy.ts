// A TCP forwarder between a test's clients and a server: a stand-in for a load balancer (the
// target can change, as when one backend dies and clients reconnect to another), and a way to
// inject faults a real network has, such as replies lost while the requests got through.
import { createServer, connect, type Server, type Socket } from "node:net";

export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private swallowing = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private targetPort: number,
  ) {}

  /** Listens on a free loopback port and forwards each connection to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort);
    return proxy;
  }

  /** Where new connections go from now on (existing ones stay where they are). */
  retarget(port: number): void {
    this.targetPort = port;
  }

  /** Connections open now. */
  get connections(): number {
    return this.pairs.size;
  }

  /**
   * From now on, bytes the target sends back are dropped (requests still reach it); after
   * `ms` every connection is cut and forwarding is normal again: what a client sees when the
   * network dies after its command was carried out but before the answer came back.
   */
  async swallowRepliesThenCut(ms: number): Promise<void> {
    this.swallowing = true;
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.cutAll();
    this.swallowing = false;
  }

  /** Cuts every connection at once (both sides see a reset). */
  cutAll(): void {
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (data: Buffer) => upstream.write(data));
    upstream.on("data", (data: Buffer) => {
      if (!this.swallowing) client.write(data);
    });
    for (const socket of pair) {
      socket.on("error", end);
      socket.on("close", end);
    }
  }
}
