// The server-side socket API of the seed over real sockets: send/recv, close, ping/pong,
// readyState, the buffering queries, the event handlers, and the one delivery rule.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import { WebSocketOpcode, ReadyState } from "../../src/protocol/opcodes.js";
import { WebSocketProtocolError } from "../../src/transport/socket-transport.js";
import { CloseEvent, WebSocketFrame } from "../../src/websocket/frame.js";
import { WebSocket, type WebSocketMessageEvent } from "../../src/websocket/websocket.js";
import { closePayload, Op } from "../helpers/frames.js";
import { RawClient } from "../helpers/raw-client.js";
import { startSocketServer, type SocketServer } from "../helpers/server.js";
import { deferred, isPending, sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

let server: SocketServer;
before(async () => {
  server = await startSocketServer();
});
after(() => server.close());

/**
 * Resolves once everything `peer` sent so far has reached `socket`: a ping travels behind the
 * messages sent before it, and the server reports it in order (onping).
 */
async function arrived(peer: WsPeer, socket: WebSocket): Promise<void> {
  const marker = `barrier ${Math.random()}`;
  const seen = deferred<void>();
  const previous = socket.onping;
  socket.onping = (data) => {
    if (data.toString() === marker) seen.resolve();
  };
  peer.ws.ping(marker);
  await withTimeout(seen.promise, 3000, "the messages to arrive");
  socket.onping = previous;
}

/** A `ws` client and the server's socket for it. */
async function pair(path = "/"): Promise<{ peer: WsPeer; socket: WebSocket }> {
  const peer = await WsPeer.connect(server.url + path);
  const { socket } = await server.nextSocket();
  return { peer, socket };
}

describe("send and recv", () => {
  test("send() delivers text as text and bytes as binary, exactly", async () => {
    const { peer, socket } = await pair();
    const big = Buffer.alloc(70_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
    assert.equal(socket.send("héllo ✓ 😀"), true);
    assert.equal(socket.send(new Uint8Array([0, 1, 2, 255])), true);
    assert.equal(socket.send(new Uint8Array([9, 8, 7]).buffer), true);
    assert.equal(socket.send(new Uint8Array(big.buffer, big.byteOffset + 10, 1000)), true, "a view into a larger buffer");
    assert.equal(socket.send(big), true);
    assert.equal(socket.send(""), true);

    const text = await peer.next();
    assert.equal(text.isBinary, false);
    assert.equal(text.text, "héllo ✓ 😀");
    const bytes = await peer.next();
    assert.equal(bytes.isBinary, true);
    assert.deepEqual([...bytes.data], [0, 1, 2, 255]);
    assert.deepEqual([...(await peer.next()).data], [9, 8, 7]);
    assert.ok((await peer.next()).data.equals(big.subarray(10, 1010)));
    assert.ok((await peer.next()).data.equals(big));
    const empty = await peer.next();
    assert.equal(empty.isBinary, false);
    assert.equal(empty.data.length, 0);
    await peer.close();
  });

  test("a handler forwards a received text's rawData as text without a second check, and other bytes are still checked", async () => {
    const { peer, socket } = await pair();
    const outcomes: string[] = [];
    socket.onmessage = (event) => {
      outcomes.push(String(socket.send(event.rawData, { binary: false })));
      // Only the very buffer being delivered skips the check: any other bytes are checked.
      try {
        socket.send(Buffer.from([0x68, 0xc3, 0x28]), { binary: false });
        outcomes.push("invalid bytes sent");
      } catch (error) {
        outcomes.push(error instanceof TypeError ? "TypeError" : String(error));
      }
    };
    peer.ws.send("relay ✓");
    const echoed = await peer.next();
    assert.deepEqual([echoed.isBinary, echoed.text], [false, "relay ✓"]);
    assert.deepEqual(outcomes, ["true", "TypeError"]);
    // After the handler returned, the same buffer is an ordinary one again.
    await peer.close();
  });

  test("send(data, { binary }) overrides the type: UTF-8 bytes as text, a string as binary; bad text throws", async () => {
    const { peer, socket } = await pair();
    assert.equal(socket.send(Buffer.from("bytes as text ✓"), { binary: false }), true);
    assert.equal(socket.send("a string as binary", { binary: true }), true);
    assert.equal(socket.send(new Uint8Array([0x68, 0x69]).buffer, { binary: false }), true);
    assert.throws(
      () => socket.send(Buffer.from([0x68, 0xc3, 0x28]), { binary: false }),
      (e: unknown) => e instanceof TypeError && /not valid UTF-8/.test(e.message),
    );
    assert.throws(() => socket.send(42 as unknown as string, { binary: false }), TypeError);
    const text = await peer.next();
    assert.equal(text.isBinary, false);
    assert.equal(text.text, "bytes as text ✓");
    const binary = await peer.next();
    assert.equal(binary.isBinary, true);
    assert.equal(binary.text, "a string as binary");
    const short = await peer.next();
    assert.deepEqual([short.isBinary, short.text], [false, "hi"]);
    await peer.close();
  });

  test("onmessage events carry the bytes as received, and forwarding them keeps the type", async () => {
    const { peer, socket } = await pair();
    const events: WebSocketMessageEvent[] = [];
    socket.onmessage = (event) => {
      events.push(event);
      socket.send(event.rawData, { binary: event.isBinary });
    };
    await peer.send("héllo ✓");
    await peer.send(Buffer.from([0xde, 0xad]), { binary: true });
    const echoedText = await peer.next();
    assert.deepEqual([echoedText.isBinary, echoedText.text], [false, "héllo ✓"]);
    const echoedBytes = await peer.next();
    assert.deepEqual([echoedBytes.isBinary, [...echoedBytes.data]], [true, [0xde, 0xad]]);
    assert.ok(events[0]!.rawData.equals(Buffer.from("héllo ✓")), "a text message's rawData is its UTF-8");
    assert.equal(events[0]!.data, "héllo ✓");
    assert.equal(events[0]!.data, events[0]!.data, "decoded once, the same string after");
    assert.equal(events[1]!.data, events[1]!.rawData);
    await peer.close();
  });

  test("recv() returns frames with opcode, textData and data", async () => {
    const { peer, socket } = await pair();
    await peer.send("abc é");
    await peer.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    await peer.send("");
    const text = await socket.recv();
    assert.ok(text instanceof WebSocketFrame);
    assert.equal(text.opcode, WebSocketOpcode.text);
    assert.equal(text.fin, true);
    assert.equal(text.textData, "abc é");
    assert.ok(text.data.equals(Buffer.from("abc é")));
    const binary = await socket.waitForNextMessage();
    assert.equal(binary.opcode, WebSocketOpcode.binary);
    assert.ok(binary.data.equals(Buffer.from([0xde, 0xad, 0xbe, 0xef])));
    const empty = await socket.recv();
    assert.equal(empty.opcode, WebSocketOpcode.text);
    assert.equal(empty.textData, "");
    await peer.close();
  });

  test("a recv() waiting before the message arrives gets it", async () => {
    const { peer, socket } = await pair();
    const waiting = socket.recv();
    assert.equal(await isPending(waiting), true);
    await peer.send("later");
    assert.equal((await withTimeout(waiting, 2000, "recv")).textData, "later");
    await peer.close();
  });

  test("fragmented messages arrive whole, in order with unfragmented ones", async () => {
    const { peer, socket } = await pair();
    await peer.send("frag-", { fin: false });
    await peer.send("ment", { fin: false });
    await peer.send("ed", { fin: true });
    await peer.send("whole");
    assert.equal((await socket.recv()).textData, "frag-mented");
    assert.equal((await socket.recv()).textData, "whole");
    await peer.close();
  });

  test("after the peer closes, recv() yields the close frame with code and reason, on every call, without throwing", async () => {
    const { peer, socket } = await pair();
    await peer.send("before the close");
    const closed = await peer.close(4000, "bye now");
    assert.equal(closed.code, 4000, "the server echoes the peer's close code");
    assert.equal((await socket.recv()).textData, "before the close", "messages before the close come first");
    for (let i = 0; i < 3; i++) {
      const frame = await socket.recv();
      assert.equal(frame.opcode, WebSocketOpcode.close);
      assert.equal(frame.code, 4000);
      assert.equal(frame.reason, "bye now");
      assert.equal(frame.textData, "bye now");
      assert.equal(frame.wasClean, true);
    }
    const event = await socket.closed;
    assert.deepEqual({ code: event.code, reason: event.reason, wasClean: event.wasClean }, { code: 4000, reason: "bye now", wasClean: true });
  });

  test("a recv() already waiting when the peer closes resolves with the close frame", async () => {
    const { peer, socket } = await pair();
    const waiting = socket.recv();
    await peer.close(1000);
    const frame = await withTimeout(waiting, 2000, "recv");
    assert.equal(frame.opcode, WebSocketOpcode.close);
    assert.equal(frame.code, 1000);
  });

  test("a peer that closes without a code is reported as 1005", async () => {
    const { peer, socket } = await pair();
    peer.ws.close();
    const frame = await socket.recv();
    assert.equal(frame.code, 1005);
    assert.equal((await peer.closed).code, 1005);
  });

  test("a dropped connection yields a close frame with 1006 and wasClean false", async () => {
    const { peer, socket } = await pair();
    peer.terminate();
    const frame = await withTimeout(socket.recv(), 3000, "recv after a drop");
    assert.equal(frame.opcode, WebSocketOpcode.close);
    assert.equal(frame.code, 1006);
    assert.equal(frame.wasClean, false);
    assert.equal((await socket.recv()).code, 1006);
  });

  test("for await iterates messages and ends at the close", async () => {
    const { peer, socket } = await pair();
    await peer.send("one");
    await peer.send(Buffer.from("two"), { binary: true });
    await peer.close(1000);
    const got: string[] = [];
    for await (const frame of socket) got.push(`${frame.opcode}:${frame.textData}`);
    assert.deepEqual(got, [`${WebSocketOpcode.text}:one`, `${WebSocketOpcode.binary}:two`]);
  });

  test("close(code, reason) reaches the peer; the socket reports the echoed code and a clean close", async () => {
    const { peer, socket } = await pair();
    socket.close(4321, "done for now");
    const seen = await peer.closed;
    assert.deepEqual(seen, { code: 4321, reason: "done for now" });
    const event = await socket.closed;
    assert.equal(event.code, 4321);
    assert.equal(event.wasClean, true);
    assert.equal(socket.send("too late"), false, "send after close sends nothing");
    const frame = await socket.recv();
    assert.equal(frame.opcode, WebSocketOpcode.close);
  });

  test("close() without arguments sends 1000 and an empty reason", async () => {
    const { peer, socket } = await pair();
    socket.close();
    assert.deepEqual(await peer.closed, { code: 1000, reason: "" });
  });

  test("messages sent before close() are delivered before the close", async () => {
    const { peer, socket } = await pair();
    for (let i = 0; i < 5; i++) socket.send(`m${i}`);
    socket.close(1000, "after five");
    for (let i = 0; i < 5; i++) assert.equal((await peer.next()).text, `m${i}`);
    assert.deepEqual(await peer.closed, { code: 1000, reason: "after five" });
  });

  test("close() with a code or reason that cannot be sent throws and leaves the socket open", async () => {
    const { peer, socket } = await pair();
    assert.throws(() => socket.close(1005), RangeError);
    assert.throws(() => socket.close(1006), RangeError);
    assert.throws(() => socket.close(999), RangeError);
    assert.throws(() => socket.close(1000, "x".repeat(124)), RangeError);
    assert.equal(socket.readyState, ReadyState.OPEN);
    socket.send("still open");
    assert.equal((await peer.next()).text, "still open");
    await peer.close();
  });
});

describe("ping and pong", () => {
  test("ping(data) reaches the peer and its pong comes back to onpong with the same payload", async () => {
    const { peer, socket } = await pair();
    const pong = deferred<Buffer>();
    socket.onpong = (data) => pong.resolve(data);
    assert.equal(socket.ping("are you there?"), true);
    const payload = await withTimeout(pong.promise, 2000, "onpong");
    assert.equal(payload.toString(), "are you there?");
    assert.deepEqual(peer.pings.map(String), ["are you there?"]);
    await peer.close();
  });

  test("ping() takes bytes and an empty payload", async () => {
    const { peer, socket } = await pair();
    const pongs: Buffer[] = [];
    socket.onpong = (data) => pongs.push(data);
    socket.ping(new Uint8Array([1, 2, 3]));
    socket.ping();
    socket.ping(Buffer.alloc(125, 0x61));
    await waitUntil(() => pongs.length === 3, 2000, "three pongs");
    assert.deepEqual([...pongs[0]!], [1, 2, 3]);
    assert.equal(pongs[1]!.length, 0);
    assert.ok(pongs[2]!.equals(Buffer.alloc(125, 0x61)));
    await peer.close();
  });

  test("a ping over 125 bytes is refused with a RangeError (section 5.5)", async () => {
    const { peer, socket } = await pair();
    assert.throws(() => socket.ping(Buffer.alloc(126)), RangeError);
    assert.throws(() => socket.pong(Buffer.alloc(126)), RangeError);
    await peer.close();
  });

  test("pong(data) sends an unsolicited pong", async () => {
    const { peer, socket } = await pair();
    socket.pong("unsolicited");
    await waitUntil(() => peer.pongs.length === 1, 2000, "the client to see the pong");
    assert.equal(peer.pongs[0]!.toString(), "unsolicited");
    await peer.close();
  });

  test("a ping from the peer is answered automatically with the same payload, and onping sees it", async () => {
    const { peer, socket } = await pair();
    const ping = deferred<Buffer>();
    socket.onping = (data) => ping.resolve(data);
    peer.ws.ping("client ping");
    assert.equal((await withTimeout(ping.promise, 2000, "onping")).toString(), "client ping");
    await waitUntil(() => peer.pongs.length === 1, 2000, "the automatic pong");
    assert.equal(peer.pongs[0]!.toString(), "client ping");
    await peer.close();
  });
});

describe("readyState", () => {
  test("the constants have the browser's values, on the class and on instances", () => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const unattached = new WebSocket({ maxBufferedBytes: 1 });
    assert.deepEqual([unattached.CONNECTING, unattached.OPEN, unattached.CLOSING, unattached.CLOSED], [0, 1, 2, 3]);
    assert.equal(unattached.readyState, ReadyState.CONNECTING, "a socket without a connection is CONNECTING");
    assert.throws(() => unattached.send("x"), /before the connection opened/);
  });

  test("OPEN after accepting, CLOSING after close(), CLOSED once the connection has ended", async () => {
    const { peer, socket } = await pair();
    assert.equal(socket.readyState, ReadyState.OPEN);
    // Hold the client's answer back, so CLOSING lasts long enough to see.
    peer.ws.pause();
    socket.close(1000);
    assert.equal(socket.readyState, ReadyState.CLOSING);
    await sleep(50);
    assert.equal(socket.readyState, ReadyState.CLOSING, "still waiting for the peer's close frame");
    peer.ws.resume();
    await withTimeout(socket.closed, 3000, "the close");
    assert.equal(socket.readyState, ReadyState.CLOSED);
  });

  test("CLOSED after the peer closes, and after a drop", async () => {
    const first = await pair();
    await first.peer.close(1000);
    await first.socket.closed;
    assert.equal(first.socket.readyState, ReadyState.CLOSED);
    const second = await pair();
    second.peer.terminate();
    await withTimeout(second.socket.closed, 3000, "the drop");
    assert.equal(second.socket.readyState, ReadyState.CLOSED);
  });
});

describe("isMessageBuffered and waitForNextMessageWouldBlock", () => {
  test("say whether recv() would resolve at once, for messages and for the final close", async () => {
    const { peer, socket } = await pair();
    assert.equal(socket.isMessageBuffered(), false);
    assert.equal(socket.waitForNextMessageWouldBlock(), true);
    await peer.send("one");
    await peer.send("two");
    await waitUntil(() => socket.isMessageBuffered(), 2000, "a message is buffered");
    assert.equal(socket.waitForNextMessageWouldBlock(), false);
    assert.equal((await socket.recv()).textData, "one");
    await waitUntil(() => socket.isMessageBuffered(), 2000, "the second message is buffered");
    assert.equal((await socket.recv()).textData, "two");
    assert.equal(socket.isMessageBuffered(), false);
    assert.equal(socket.waitForNextMessageWouldBlock(), true);
    await peer.close(1000);
    await socket.closed;
    assert.equal(socket.isMessageBuffered(), true, "the close frame is always ready after the end");
    assert.equal(socket.waitForNextMessageWouldBlock(), false);
    assert.equal((await socket.recv()).opcode, WebSocketOpcode.close);
    assert.equal(socket.isMessageBuffered(), true);
  });
});

describe("event handlers", () => {
  test("onmessage gets text as a string and binary as a Buffer; ontextmessage and onbinarymessage get their kind only", async () => {
    const { peer, socket } = await pair();
    const all: WebSocketMessageEvent[] = [];
    const texts: string[] = [];
    const binaries: Buffer[] = [];
    socket.onmessage = (event) => all.push(event);
    socket.ontextmessage = (text) => texts.push(text);
    socket.onbinarymessage = (data) => binaries.push(data);
    await peer.send("text ✓");
    await peer.send(Buffer.from([1, 2, 3]), { binary: true });
    await peer.send("more text");
    await waitUntil(() => all.length === 3, 2000, "three messages");
    assert.deepEqual(
      all.map((e) => [e.type, e.isBinary, typeof e.data]),
      [
        ["message", false, "string"],
        ["message", true, "object"],
        ["message", false, "string"],
      ],
    );
    assert.equal(all[0]!.data, "text ✓");
    assert.ok(Buffer.isBuffer(all[1]!.data) && all[1]!.data.equals(Buffer.from([1, 2, 3])));
    assert.deepEqual(texts, ["text ✓", "more text"]);
    assert.deepEqual(
      binaries.map((b) => [...b]),
      [[1, 2, 3]],
    );
    assert.equal(socket.onmessage !== null && socket.ontextmessage !== null && socket.onbinarymessage !== null, true);
    await peer.close();
  });

  test("onclose gets a CloseEvent with code, reason and wasClean: peer close, our close, and a drop", async () => {
    const cases: Array<[string, (peer: WsPeer, socket: WebSocket) => void, { code: number; reason: string; wasClean: boolean }]> = [
      ["the peer closes", (peer) => peer.ws.close(4001, "peer says bye"), { code: 4001, reason: "peer says bye", wasClean: true }],
      ["we close", (_, socket) => socket.close(4002, "we say bye"), { code: 4002, reason: "we say bye", wasClean: true }],
      ["the peer drops", (peer) => peer.terminate(), { code: 1006, reason: "", wasClean: false }],
    ];
    for (const [what, act, expected] of cases) {
      const { peer, socket } = await pair();
      const events: CloseEvent[] = [];
      socket.onclose = (event) => events.push(event);
      act(peer, socket);
      await withTimeout(socket.closed, 3000, `the close when ${what}`);
      assert.equal(events.length, 1, `onclose runs once when ${what}`);
      const event = events[0]!;
      assert.ok(event instanceof CloseEvent);
      assert.equal(event.type, "close");
      // When we close, code and reason are what the peer echoed (`ws` echoes both).
      assert.deepEqual({ code: event.code, reason: event.reason, wasClean: event.wasClean }, expected, what);
      await peer.closed;
    }
  });

  test("onerror reports a protocol violation (an unmasked client frame) before onclose; the peer gets 1002", async () => {
    const { client } = await RawClient.open(server.port);
    const { socket } = await server.nextSocket();
    const order: string[] = [];
    const error = deferred<Error>();
    socket.onerror = (e) => {
      order.push("error");
      error.resolve(e);
    };
    socket.onclose = (e) => order.push(`close ${e.code}`);
    client.sendFrame({ opcode: Op.text, payload: "not masked", mask: false });
    const frame = await client.readFrame();
    assert.equal(frame.opcode, Op.close);
    assert.equal(frame.closeCode, 1002);
    await client.waitForClose();
    await withTimeout(socket.closed, 3000, "the close");
    const reported = await error.promise;
    assert.ok(reported instanceof WebSocketProtocolError);
    assert.equal(reported.closeCode, 1002);
    assert.deepEqual(order, ["error", "close 1006"]);
    const final = await socket.recv();
    assert.equal(final.opcode, WebSocketOpcode.close);
    assert.equal(final.wasClean, false);
  });

  test("an event handler that throws closes that connection with 1011 and nothing else breaks", async (t) => {
    const logged = t.mock.method(console, "error", () => undefined);
    const { peer, socket } = await pair();
    socket.onmessage = () => {
      throw new Error("handler bug");
    };
    await peer.send("boom");
    assert.equal((await withTimeout(peer.closed, 3000, "the 1011 close")).code, 1011);
    assert.equal(logged.mock.callCount(), 1);
    assert.match(String(logged.mock.calls[0]!.arguments[1]), /handler bug/);
    const other = await pair();
    other.socket.send("others still served");
    assert.equal((await other.peer.next()).text, "others still served");
    await other.peer.close();
  });
});

describe("the delivery rule (see src/websocket/websocket.ts)", () => {
  test("a handler and recv() both in use: every message reaches both, in order", async () => {
    const { peer, socket } = await pair();
    const handled: string[] = [];
    socket.ontextmessage = (text) => handled.push(text);
    const first = socket.recv();
    for (const m of ["a", "b", "c"]) await peer.send(m);
    assert.equal((await first).textData, "a");
    assert.equal((await socket.recv()).textData, "b");
    assert.equal((await socket.recv()).textData, "c");
    assert.deepEqual(handled, ["a", "b", "c"]);
    await peer.close();
  });

  test("a handler and recv() never used: the handler gets everything and nothing piles up for recv()", async () => {
    const { peer, socket } = await pair();
    const handled: string[] = [];
    socket.ontextmessage = (text) => handled.push(text);
    for (const m of ["a", "b", "c"]) await peer.send(m);
    await waitUntil(() => handled.length === 3, 2000, "three messages at the handler");
    assert.deepEqual(handled, ["a", "b", "c"]);
    assert.equal(socket.isMessageBuffered(), false, "messages a handler took are not kept for recv()");
    // A first recv() now waits for the next message: the old ones were delivered already.
    const next = socket.recv();
    assert.equal(await isPending(next), true);
    await peer.send("d");
    assert.equal((await withTimeout(next, 2000, "recv")).textData, "d");
    assert.deepEqual(handled, ["a", "b", "c", "d"], "from then on both get each message");
    await peer.close();
  });

  test("messages that arrived before any handler are handed to the first handler set, in order", async () => {
    const { peer, socket } = await pair();
    for (const m of ["early 1", "early 2", "early 3"]) await peer.send(m);
    await peer.send(Buffer.from([7]), { binary: true });
    await arrived(peer, socket);
    assert.equal(socket.isMessageBuffered(), true);
    const got: string[] = [];
    socket.onmessage = (event) => got.push(event.isBinary ? `bin:${[...(event.data as Buffer)]}` : String(event.data));
    await waitUntil(() => got.length === 4, 2000, "the buffered messages at the handler");
    assert.deepEqual(got, ["early 1", "early 2", "early 3", "bin:7"]);
    assert.equal(socket.isMessageBuffered(), false, "handed over, not copied");
    await peer.send("late");
    await waitUntil(() => got.length === 5, 2000, "the next message");
    assert.equal(got[4], "late");
    await peer.close();
  });

  test("frames sent together with the handshake are buffered too, and reach a handler set right after accepting", async () => {
    const got: string[] = [];
    const early = await startSocketServer({}, (socket) => {
      socket.ontextmessage = (text) => got.push(text);
    });
    try {
      const { client } = await RawClient.open(early.port);
      client.sendFrame({ opcode: Op.text, payload: "x" });
      await waitUntil(() => got.length === 1, 2000, "the first message");
      client.destroy();
      // Now the hard case: request and first frames in one write, so they arrive with the upgrade.
      const raw = await RawClient.connect(early.port);
      const { upgradeRequest } = await import("../helpers/raw-client.js");
      const { encodeFrame } = await import("../helpers/frames.js");
      raw.write(Buffer.concat([Buffer.from(upgradeRequest().text), encodeFrame({ opcode: Op.text, payload: "in the head" })]));
      assert.equal((await raw.readHttpResponse()).status, 101);
      await waitUntil(() => got.length === 2, 2000, "the message that came with the handshake");
      assert.deepEqual(got, ["x", "in the head"]);
      raw.destroy();
    } finally {
      await early.close();
    }
  });

  test("once recv() has been used, buffered messages stay for recv() even when a handler is set later", async () => {
    const { peer, socket } = await pair();
    for (const m of ["1", "2", "3"]) await peer.send(m);
    await arrived(peer, socket);
    assert.equal((await socket.recv()).textData, "1");
    const handled: string[] = [];
    socket.ontextmessage = (text) => handled.push(text);
    await sleep(20);
    assert.deepEqual(handled, [], "buffered messages are not handed to the handler");
    assert.equal((await socket.recv()).textData, "2");
    assert.equal((await socket.recv()).textData, "3");
    await peer.send("4");
    assert.equal((await socket.recv()).textData, "4");
    assert.deepEqual(handled, ["4"], "new messages go to both");
    await peer.close();
  });

  test("the close reaches recv() and onclose alike", async () => {
    const { peer, socket } = await pair();
    const closes: number[] = [];
    socket.onclose = (event) => closes.push(event.code);
    socket.ontextmessage = () => undefined;
    const waiting = socket.recv();
    await peer.close(4444, "both");
    const frame = await withTimeout(waiting, 2000, "recv");
    assert.equal(frame.code, 4444);
    await socket.closed;
    assert.deepEqual(closes, [4444]);
  });
});

test("socket.protocol and socket.extensions say what was agreed", async () => {
  for (const perMessageDeflate of [false, true]) {
    const peer = await WsPeer.connect(server.url + "/", { perMessageDeflate });
    const { socket } = await server.nextSocket();
    assert.equal(socket.protocol, "", "no subprotocol was asked for");
    assert.equal(socket.extensions, peer.ws.extensions, "the server reports the extensions the client agreed to");
    assert.equal(socket.extensions === "", !perMessageDeflate);
    await peer.close();
  }
});

test("a close frame from the peer that the socket answers is seen by a raw client as the echoed code", async () => {
  const { client } = await RawClient.open(server.port);
  const { socket } = await server.nextSocket();
  client.sendFrame({ opcode: Op.close, payload: closePayload(3456, "raw bye") });
  const frame = await client.readFrame();
  assert.equal(frame.opcode, Op.close);
  assert.equal(frame.closeCode, 3456);
  // The server closes the TCP connection first (section 7.1.1): a FIN arrives without our doing.
  await client.waitForClose();
  assert.equal((await socket.closed).code, 3456);
});
