// Shared pieces of the hardening tests: the "still serving" check that ends every attack,
// compressed frames built without hawser's own code, and a TCP proxy that can make a peer
// vanish without a FIN.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { constants as zlibConstants, deflateRawSync } from "node:zlib";
import { connect } from "../../src/client/connect.js";
import { withTimeout } from "../helpers/wait.js";

/**
 * Proves a server still works after an attack: a fresh hawser client (with and without
 * permessage-deflate) gets a text and a binary message (above the deflate threshold by
 * default) echoed back intact.
 */
export async function assertStillEchoing(url: string, binarySize = 70_000): Promise<void> {
  for (const perMessageDeflate of [true, false]) {
    const client = await withTimeout(connect(url, { perMessageDeflate }), 5000, "a fresh connection after the attack");
    const text = "still serving after the attack " + "é".repeat(200);
    const binary = Buffer.alloc(binarySize, 0x61);
    client.send(text);
    client.send(binary);
    const first = await withTimeout(client.recv(), 5000, "the text echo");
    const second = await withTimeout(client.recv(), 5000, "the binary echo");
    assert.equal(first.textData, text);
    assert.ok(second.data.equals(binary), "the binary echo is intact");
    client.close();
    const closed = await withTimeout(client.closed, 5000, "the echo client's close");
    assert.equal(closed.code, 1000);
  }
}

/** RFC 7692 section 7.2.1: a message's deflate-raw output without the trailing 00 00 ff ff. */
export function deflateMessage(data: Buffer): Buffer {
  const flushed = deflateRawSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return flushed.subarray(0, flushed.length - 4);
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`. `blackhole()` makes it swallow every byte
 * in both directions while keeping both connections open: the peer has vanished without a FIN
 * or a reset, as when a cable is pulled or a NAT forgets the connection.
 */
export class BlackholeProxy {
  private dropping = false;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<BlackholeProxy> {
    let proxy!: BlackholeProxy;
    const server = createServer((inbound) => {
      const outbound = tcpConnect({ port: targetPort, host: "127.0.0.1" });
      proxy.pipe(inbound, outbound);
      proxy.pipe(outbound, inbound);
    });
    proxy = new BlackholeProxy(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** From now on nothing passes, and neither side is told. */
  blackhole(): void {
    this.dropping = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(from: Socket, to: Socket): void {
    this.sockets.add(from);
    from.on("error", () => undefined);
    from.on("close", () => {
      this.sockets.delete(from);
      // Before the blackhole, a close is passed on like any proxy would.
      if (!this.dropping) to.destroy();
    });
    from.on("data", (chunk: Buffer) => {
      if (!this.dropping) to.write(chunk);
    });
  }
}

/**
 * Resolves on the socket's next 'drain' or 'close', or after `ms`: for write loops that respect
 * backpressure. Its listeners are removed again, so a long loop does not pile them up.
 */
export function drainOrClose(socket: Socket, ms = 100): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.on("drain", done);
    socket.on("close", done);
  });
}
