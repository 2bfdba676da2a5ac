// Limits and timers over real sockets: send backpressure, the receive buffer bound, the close
// timeout, the message size limit (1009) and keepalive. Each uses a small setting so that a
// misbehaving peer is dealt with in well under a second.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { ReadyState, WebSocketOpcode } from "../../src/protocol/opcodes.js";
import { closePayload, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { startSocketServer } from "../helpers/server.js";
import { isPending, sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

const MiB = 1024 * 1024;

describe("send backpressure", () => {
  test("bufferedAmount grows while the peer does not read, and drained() resolves once it does", async () => {
    const server = await startSocketServer({ maxSendBufferBytes: 64 * MiB });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      client.pause();
      assert.equal(socket.bufferedAmount, 0);
      assert.equal(await isPending(socket.drained()), false, "drained() resolves at once with nothing queued");
      const chunk = Buffer.alloc(MiB, 0x5a);
      for (let i = 0; i < 32; i++) assert.equal(socket.send(chunk), true);
      assert.ok(socket.bufferedAmount >= 32 * MiB, `bufferedAmount ${socket.bufferedAmount} after queueing 32 MiB`);
      let drainEvents = 0;
      socket.ondrain = () => drainEvents++;
      const drained = socket.drained();
      // Loopback TCP buffers take a few MiB at most; the rest must stay queued in the process.
      await sleep(200);
      assert.ok(socket.bufferedAmount > 8 * MiB, `bufferedAmount ${socket.bufferedAmount} while the peer is not reading`);
      assert.equal(await isPending(drained), true, "drained() waits while the peer is not reading");
      client.resume();
      await withTimeout(drained, 10_000, "drained()");
      assert.equal(socket.bufferedAmount, 0);
      assert.equal(drainEvents, 1, "ondrain fires when the buffer empties");
      // Everything arrived, byte for byte.
      let frames = 0;
      while (frames < 32) {
        const frame = await client.readFrame(10_000);
        assert.equal(frame.opcode, Op.binary);
        assert.ok(frame.payload.equals(chunk));
        frames++;
      }
      client.destroy();
    } finally {
      await server.close();
    }
  });
});

describe("maxSendBufferBytes", () => {
  test("a slow reader costs at most the limit plus one message: send() refuses beyond it, then accepts again", async () => {
    const server = await startSocketServer({ maxSendBufferBytes: 4 * MiB });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      client.pause();
      const chunk = Buffer.alloc(256 * 1024, 0x33);
      let accepted = 0;
      for (let i = 0; i < 64; i++) if (socket.send(chunk)) accepted++;
      assert.ok(accepted < 64, "some sends were refused");
      assert.ok(socket.bufferedAmount <= 4 * MiB + chunk.length, `bufferedAmount ${socket.bufferedAmount} stays within the limit plus one message`);
      assert.equal(socket.send(chunk), false, "refused while over the limit");
      client.resume();
      await withTimeout(socket.drained(), 10_000, "drained()");
      assert.equal(socket.send(chunk), true, "accepted again once the peer has read");
      for (let i = 0; i <= accepted; i++) {
        const frame = await client.readFrame(10_000);
        assert.ok(frame.payload.equals(chunk), "every accepted message arrives intact, in order");
      }
      client.destroy();
    } finally {
      await server.close();
    }
  });
});

describe("maxBufferedBytes", () => {
  for (const perMessageDeflate of [false, true]) {
    test(`a peer whose messages nobody recv()s is paused: the server stops reading, then catches up intact (${perMessageDeflate ? "with" : "without"} permessage-deflate)`, async () => {
      const maxBufferedBytes = 256 * 1024;
      const server = await startSocketServer({ maxBufferedBytes });
      try {
        const peer = await WsPeer.connect(server.url + "/", { perMessageDeflate });
        assert.equal(peer.ws.extensions !== "", perMessageDeflate, "the extension is agreed as the client asked");
        const { socket } = await server.nextSocket();
        const tcp = server.connections.at(-1)!;
        // 32 MiB of random (incompressible) data: more than loopback TCP buffers hold.
        const count = 64;
        const messages = Array.from({ length: count }, () => randomBytes(512 * 1024));
        for (const message of messages) peer.ws.send(message);
        const total = count * 512 * 1024;
        // Wait until the server has stopped reading: bytesRead no longer moves.
        let last = -1;
        while (tcp.bytesRead !== last) {
          last = tcp.bytesRead;
          await sleep(150);
        }
        assert.ok(tcp.bytesRead < 4 * MiB, `server read ${tcp.bytesRead} bytes of ${total} with nobody reading`);
        assert.equal(socket.isMessageBuffered(), true);
        // Now read everything: reading resumes and every message arrives intact and in order.
        for (let i = 0; i < count; i++) {
          const frame = await withTimeout(socket.recv(), 10_000, `message ${i}`);
          assert.equal(frame.opcode, WebSocketOpcode.binary);
          assert.ok(frame.data.equals(messages[i]!), `message ${i} intact`);
        }
        assert.ok(tcp.bytesRead >= total);
        await peer.close();
      } finally {
        await server.close();
      }
    });
  }

  for (const perMessageDeflate of [false, true]) {
    test(`every message sent before the close is delivered, then the close (${perMessageDeflate ? "with" : "without"} permessage-deflate)`, async () => {
      const server = await startSocketServer({ maxBufferedBytes: 64 * 1024 });
      try {
        const peer = await WsPeer.connect(server.url + "/", { perMessageDeflate });
        const { socket } = await server.nextSocket();
        // Compressible messages: with deflate they arrive small and must be inflated one by one,
        // while the close frame (and FIN) may already be there.
        for (let i = 0; i < 16; i++) peer.ws.send(Buffer.alloc(128 * 1024, i));
        peer.ws.close(1000, "done sending");
        for (let i = 0; i < 16; i++) {
          const frame = await withTimeout(socket.recv(), 5000, `message ${i}`);
          assert.equal(frame.opcode, WebSocketOpcode.binary, `message ${i} arrived before the close`);
          assert.ok(frame.data.equals(Buffer.alloc(128 * 1024, i)), `message ${i} intact`);
        }
        const close = await withTimeout(socket.recv(), 5000, "the close");
        assert.equal(close.opcode, WebSocketOpcode.close);
        assert.equal(close.code, 1000);
        assert.equal(close.reason, "done sending");
        assert.equal(close.wasClean, true);
        assert.equal((await peer.closed).code, 1000);
      } finally {
        await server.close();
      }
    });
  }
});

describe("close timeout", () => {
  const closeTimeoutMs = 300;

  test("a peer that never answers our close frame is cut after closeTimeoutMs", async () => {
    const server = await startSocketServer({ closeTimeoutMs });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      const start = Date.now();
      socket.close(1000, "please answer");
      const frame = await client.readFrame();
      assert.equal(frame.opcode, Op.close);
      assert.equal(frame.closeCode, 1000);
      // The client reads but never answers and never closes its side.
      const info = await client.waitForClose(closeTimeoutMs + 3000);
      const elapsed = (client.endedAt ?? info.at) - start;
      assert.ok(elapsed >= closeTimeoutMs - 20, `cut after ${elapsed} ms, before the timeout`);
      assert.ok(elapsed < closeTimeoutMs + 1500, `cut only after ${elapsed} ms`);
      const event = await withTimeout(socket.closed, 1000, "the close event");
      assert.equal(event.code, 1006);
      assert.equal(event.wasClean, false);
    } finally {
      await server.close();
    }
  });

  test("a peer that answers the close but keeps TCP open is disconnected by the server (section 7.1.1)", async () => {
    const server = await startSocketServer({ closeTimeoutMs: 5000 });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      socket.close(4000, "answer me");
      assert.equal((await client.readFrame()).closeCode, 4000);
      client.sendFrame({ opcode: Op.close, payload: closePayload(4000) });
      const start = Date.now();
      // The server sends FIN at once, without waiting for its close timeout.
      await waitUntil(() => client.ended, 1000, "the server's FIN");
      assert.ok(Date.now() - start < 1000);
      const event = await withTimeout(socket.closed, 2000, "the close event");
      assert.equal(event.code, 4000);
      assert.equal(event.wasClean, true);
      client.destroy();
    } finally {
      await server.close();
    }
  });
});

describe("maxMessageBytes", () => {
  test("a message over the limit gets close code 1009, and the server keeps serving", async () => {
    const server = await startSocketServer({ maxMessageBytes: 1000 });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      client.sendFrame({ opcode: Op.binary, payload: Buffer.alloc(1000, 1) });
      assert.equal((await socket.recv()).data.length, 1000, "a message of exactly the limit is fine");
      client.sendFrame({ opcode: Op.binary, payload: Buffer.alloc(1001, 2) });
      const frame = await client.readFrame();
      assert.equal(frame.opcode, Op.close);
      assert.equal(frame.closeCode, 1009);
      await client.waitForClose();
      assert.equal((await socket.recv()).opcode, WebSocketOpcode.close);

      const peer = await WsPeer.connect(server.url + "/");
      const other = await server.nextSocket();
      await peer.send("fine");
      assert.equal((await other.socket.recv()).textData, "fine");
      await peer.close();
    } finally {
      await server.close();
    }
  });

  test("the limit counts a fragmented message as a whole: 1009 when the fragments add up past it", async () => {
    const server = await startSocketServer({ maxMessageBytes: 1000 });
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      // Exactly the limit, in three fragments: fine.
      client.sendFrame({ opcode: Op.text, payload: "a".repeat(400), fin: false });
      client.sendFrame({ opcode: Op.continuation, payload: "b".repeat(400), fin: false });
      client.sendFrame({ opcode: Op.continuation, payload: "c".repeat(200), fin: true });
      assert.equal((await socket.recv()).textData, "a".repeat(400) + "b".repeat(400) + "c".repeat(200));
      // One byte more, though no single frame is near the limit: 1009.
      client.sendFrame({ opcode: Op.text, payload: "a".repeat(400), fin: false });
      client.sendFrame({ opcode: Op.continuation, payload: "b".repeat(400), fin: false });
      client.sendFrame({ opcode: Op.continuation, payload: "c".repeat(201), fin: true });
      const frame = await client.readFrame();
      assert.equal(frame.closeCode, 1009);
      await client.waitForClose();
      const final = await socket.recv();
      assert.equal(final.opcode, WebSocketOpcode.close, "no part of the oversized message was delivered");
    } finally {
      await server.close();
    }
  });

  test("a `ws` client sending too much sees 1009", async () => {
    const server = await startSocketServer({ maxMessageBytes: 64 * 1024 });
    try {
      const peer = await WsPeer.connect(server.url + "/");
      await server.nextSocket();
      peer.ws.send(Buffer.alloc(64 * 1024 + 1));
      assert.equal((await withTimeout(peer.closed, 3000, "the close")).code, 1009);
    } finally {
      await server.close();
    }
  });

  test("the default limit takes a 16 MiB message", async () => {
    const server = await startSocketServer();
    try {
      const peer = await WsPeer.connect(server.url + "/");
      const { socket } = await server.nextSocket();
      const big = Buffer.alloc(16 * MiB, 0x42);
      await peer.send(big);
      const frame = await withTimeout(socket.recv(), 10_000, "the 16 MiB message");
      assert.equal(frame.data.length, big.length);
      assert.ok(frame.data.equals(big));
      await peer.close();
    } finally {
      await server.close();
    }
  });
});

describe("keepalive", () => {
  const options = { pingIntervalMs: 100, pongTimeoutMs: 200 };

  test("a peer that never answers pings is pinged, then cut", async () => {
    const server = await startSocketServer(options);
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      const errors: Error[] = [];
      socket.onerror = (error) => errors.push(error);
      const start = Date.now();
      const ping = await client.readFrame(2000);
      assert.equal(ping.opcode, Op.ping, "the server pings an idle peer");
      // Never answer: the server must give up.
      const info = await client.waitForClose(3000);
      const elapsed = (client.endedAt ?? info.at) - start;
      assert.ok(elapsed >= options.pongTimeoutMs, `cut after ${elapsed} ms`);
      assert.ok(elapsed < 2000, `cut only after ${elapsed} ms`);
      const event = await withTimeout(socket.closed, 1000, "the close event");
      assert.equal(event.code, 1006);
      assert.equal(event.wasClean, false);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /ping/);
    } finally {
      await server.close();
    }
  });

  test("a peer that answers pings (the `ws` client does) stays connected", async () => {
    const server = await startSocketServer(options);
    try {
      const peer = await WsPeer.connect(server.url + "/");
      const { socket } = await server.nextSocket();
      await sleep(1000);
      assert.ok(peer.pings.length >= 2, `the client saw ${peer.pings.length} pings in a second`);
      assert.equal(socket.readyState, ReadyState.OPEN);
      socket.send("still here");
      assert.equal((await peer.next()).text, "still here");
      await peer.close();
    } finally {
      await server.close();
    }
  });

  test("a peer that keeps sending data is never pinged out, even without answering pings", async () => {
    const server = await startSocketServer(options);
    try {
      const { client } = await RawClient.open(server.port);
      const { socket } = await server.nextSocket();
      const chatter = setInterval(() => client.sendFrame({ opcode: Op.text, payload: "chatter" }), 50);
      try {
        await sleep(800);
      } finally {
        clearInterval(chatter);
      }
      assert.equal(client.isClosed, false);
      assert.equal(socket.readyState, ReadyState.OPEN);
      client.destroy();
    } finally {
      await server.close();
    }
  });
});
