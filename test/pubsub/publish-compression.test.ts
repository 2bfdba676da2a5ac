// Publishing to sockets with permessage-deflate (the real codec, `ws` decompressing on the
// client): with server_no_context_takeover a publish is compressed once per agreed window
// size and shared; with context takeover each socket compresses it itself; either way it
// stays in order with send(), and a failed shared compression harms no other socket.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, describe, test } from "node:test";
import { DeflateCodec } from "../../src/extensions/deflate-codec.js";
import type { PerMessageDeflateOptions } from "../../src/extensions/deflate-negotiation.js";
import { compressionShareKey } from "../../src/transport/prepared-message.js";
import type { MessageCodec } from "../../src/protocol/codec.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { startSocketServer, type SocketServer } from "../helpers/server.js";
import { WsPeer } from "../helpers/ws-peer.js";

/** Counts DeflateCodec.compress calls; `failNext` makes the next one reject. */
const calls = { compress: 0, failNext: false };
// Kept to be called with .call(this) below and put back after the tests, never called unbound.
// eslint-disable-next-line @typescript-eslint/unbound-method
const originalCompress = DeflateCodec.prototype.compress;
DeflateCodec.prototype.compress = function (this: DeflateCodec, data: Buffer): Promise<Buffer> {
  calls.compress++;
  if (calls.failNext) {
    calls.failNext = false;
    return Promise.reject(new Error("compression failed (test)"));
  }
  return originalCompress.call(this, data);
};
after(() => {
  DeflateCodec.prototype.compress = originalCompress;
});

async function setUp(deflate: PerMessageDeflateOptions, subscribers: number, clientWindowBits?: number) {
  const server = await startSocketServer({ pingIntervalMs: 0, perMessageDeflate: { thresholdBytes: 0, ...deflate } });
  const peers: WsPeer[] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < subscribers; i++) {
    const bits = clientWindowBits !== undefined && i % 2 === 1 ? { serverMaxWindowBits: clientWindowBits } : {};
    peers.push(await WsPeer.connect(`${server.url}/`, { perMessageDeflate: { threshold: 0, ...bits } }));
    const { socket } = await server.nextSocket();
    assert.match(socket.extensions, /^permessage-deflate/);
    await socket.subscribe("t");
    sockets.push(socket);
  }
  calls.compress = 0;
  return { server, peers, sockets };
}

async function tearDown(server: SocketServer, peers: WsPeer[], sockets: WebSocket[]): Promise<void> {
  for (const peer of peers) peer.ws.close();
  await Promise.all(sockets.map((socket) => socket.closed));
  await server.close();
}

test("the share key follows the agreed header", () => {
  const codec = (header: string) => ({ extensionHeader: header }) as unknown as MessageCodec;
  assert.equal(compressionShareKey(codec("permessage-deflate")), null);
  assert.equal(compressionShareKey(codec("permessage-deflate; client_no_context_takeover")), null);
  assert.equal(compressionShareKey(codec("permessage-deflate; server_no_context_takeover")), "permessage-deflate/no-context-takeover/15");
  assert.equal(
    compressionShareKey(codec("permessage-deflate; server_no_context_takeover; server_max_window_bits=10")),
    "permessage-deflate/no-context-takeover/10",
  );
  assert.equal(compressionShareKey(codec("x-other; server_no_context_takeover")), null);
});

describe("publish with permessage-deflate", () => {
  test("with server_no_context_takeover a publish is compressed once per window size, in order with send()", async () => {
    // Odd clients ask for a 10-bit server window: two parameter sets, two compressions per publish.
    const { server, peers, sockets } = await setUp({ serverNoContextTakeover: true }, 20, 10);
    try {
      assert.equal(new Set(sockets.map((socket) => socket.extensions)).size, 2);
      const expected: string[][] = peers.map(() => []);
      let sends = 0;
      for (let i = 0; i < 30; i++) {
        const text = `publish ${i} `.repeat(50);
        server.server.publish("t", text);
        expected.forEach((list) => list.push(text));
        if (i % 5 === 0) {
          // A direct send to one socket, queued between publishes (compressed on its own).
          const direct = `direct ${i} to socket 3 `.repeat(4);
          sockets[3]!.send(direct);
          expected[3]!.push(direct);
          sends++;
        }
      }
      for (let p = 0; p < peers.length; p++) {
        for (const text of expected[p]!) assert.equal((await peers[p]!.next()).text, text);
      }
      assert.equal(calls.compress, 30 * 2 + sends);
    } finally {
      await tearDown(server, peers, sockets);
    }
  });

  test("with context takeover (the default) each socket compresses a publish itself", async () => {
    const { server, peers, sockets } = await setUp({}, 5);
    try {
      for (let i = 0; i < 10; i++) server.server.publish("t", Buffer.from(`binary ${i} `.repeat(20)));
      for (const peer of peers) {
        for (let i = 0; i < 10; i++) {
          const message = await peer.next();
          assert.equal(message.isBinary, true);
          assert.equal(message.text, `binary ${i} `.repeat(20));
        }
      }
      assert.equal(calls.compress, 50);
    } finally {
      await tearDown(server, peers, sockets);
    }
  });

  test("when the shared compression fails, every socket compresses for itself", async () => {
    const { server, peers, sockets } = await setUp({ serverNoContextTakeover: true }, 4);
    try {
      calls.failNext = true; // the first compress of the next publish: the shared one
      server.server.publish("t", "survives ".repeat(10));
      server.server.publish("t", "and the next one is shared again ".repeat(10));
      for (const peer of peers) {
        assert.equal((await peer.next()).text, "survives ".repeat(10));
        assert.equal((await peer.next()).text, "and the next one is shared again ".repeat(10));
      }
      // 1 failed shared attempt + 4 sockets on their own, then 1 shared compression.
      assert.equal(calls.compress, 1 + 4 + 1);
    } finally {
      await tearDown(server, peers, sockets);
    }
  });
});
