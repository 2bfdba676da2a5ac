// Interop: Node's built-in WebSocket (undici's; global from Node 22, behind a flag on Node 20)
// against hawser's echo server, with and without permessage-deflate, through a frame tap that
// shows what each side really put on the wire. The client runs in a child Node of the same
// line (test/peers/node-websocket-client.ts), so each Node line tests its own undici.
// Its event log beside Chromium's is in test/browser/event-log.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startEchoServer, type EchoServer } from "../helpers/echo-server.js";
import { FrameTap, tappedCloseCode, type TapConnection } from "../helpers/frame-tap.js";
import { NODE_MAJOR, nodeWebSocketPeer, runNodeWebSocket, type NodeWebSocketEcho } from "../helpers/node-websocket.js";
import { INTEROP_SIZES, MiB } from "../helpers/payloads.js";
import { withTimeout } from "../helpers/wait.js";

const peer = nodeWebSocketPeer();

/**
 * undici's difference on Node 20 only (undici 6.24, the fix for CVE-2026-1526): a compressed
 * message that inflates past 4 MiB fails the connection, without a close frame (1006 at both
 * ends; RFC 6455 would have 1009). Later undici versions (Node 22 on) take 16 MiB.
 */
const UNDICI_INFLATES_AT_MOST_4_MIB = NODE_MAJOR === 20;

function assertEchoes(results: NodeWebSocketEcho[] | undefined, labels: readonly string[]): void {
  assert.ok(results, "the report has results");
  assert.deepEqual(
    results.map((r) => r.label),
    labels,
  );
  for (const result of results) {
    assert.equal(result.receivedKind, result.sentKind, `${result.label}: kind`);
    assert.equal(result.receivedLength, result.sentLength, `${result.label}: length`);
    assert.equal(result.receivedSha256, result.sentSha256, `${result.label}: bytes (SHA-256)`);
  }
}

for (const perMessageDeflate of [true, false]) {
  const variant = perMessageDeflate ? "permessage-deflate" : "the server declines compression";
  describe(`Node's WebSocket against the hawser echo server (${variant})`, { skip: peer.skip }, () => {
    let server: EchoServer;
    let tap: FrameTap;
    before(async () => {
      peer.assertAvailable();
      server = await startEchoServer({ perMessageDeflate, pingIntervalMs: 0 });
      tap = await FrameTap.start(server.port);
    });
    after(async () => {
      await tap?.close();
      await server?.close();
    });

    /** The tapped connection of the last run, once both ends have closed it. */
    async function lastConnection(): Promise<TapConnection> {
      const wire = tap.connections.at(-1);
      assert.ok(wire, "the client connected through the tap");
      await withTimeout(wire.closed, 5000, "both connections through the tap to close");
      return wire;
    }

    const capped = perMessageDeflate && UNDICI_INFLATES_AT_MOST_4_MIB;
    test(`text and binary of ${INTEROP_SIZES.join(", ")} bytes come back byte for byte; close 1000${capped ? " (but for Node 20's 4 MiB cap)" : ""}`, async (t) => {
      const report = await runNodeWebSocket(["messages", `${tap.url}/`, ...INTEROP_SIZES.map(String)], 60_000);
      t.diagnostic(`Node ${report.nodeVersion}, undici ${report.undiciVersion}`);
      assert.deepEqual(report.greeting, ["hello", " world!"]);
      const labels = INTEROP_SIZES.flatMap((size) => [`text ${size}`, `binary ${size}`]);
      if (capped) {
        // The 16 MiB text goes out compressed (random text shrinks little, but still over 4 MiB inflated).
        assert.equal(report.unanswered, `text ${16 * MiB}`, "Node 20's undici drops the first message over 4 MiB");
        assertEchoes(report.results, labels.slice(0, labels.indexOf(`text ${16 * MiB}`)));
        assert.deepEqual(report.close, { code: 1006, reason: "", wasClean: false });
        const wire = await lastConnection();
        assert.equal(tappedCloseCode(wire.toServer), undefined, "undici sends no close frame");
        const socket = server.sockets.at(-1);
        assert.ok(socket, "the server accepted the connection");
        assert.equal((await withTimeout(socket.closed, 3000, "the server's close event")).code, 1006);
        return;
      }
      assert.equal(report.unanswered, undefined, "every message was answered");
      assertEchoes(report.results, labels);
      assert.equal(report.errors, 0, "no error event");
      assert.deepEqual(report.close, { code: 1000, reason: "done", wasClean: true });

      const wire = await lastConnection();
      // Every undici offers permessage-deflate, with client_max_window_bits (RFC 7692 section 7.1.2.2).
      assert.equal(wire.offeredExtensions, "permessage-deflate; client_max_window_bits");
      assert.equal(wire.agreedExtensions, perMessageDeflate ? "permessage-deflate" : "");
      assert.equal(report.extensions, wire.agreedExtensions, "the client's `extensions` is what the server agreed");
      const toClient = wire.messagesToClient();
      const toServer = wire.messagesToServer();
      // Two greetings, then an echo of each message.
      assert.equal(toClient.length, 2 + INTEROP_SIZES.length * 2);
      assert.equal(toServer.length, INTEROP_SIZES.length * 2);
      // hawser compresses what it sends from its threshold (1024 bytes) on, when agreed.
      const compressedByServer = toClient.filter((message) => message.compressed).length;
      assert.equal(compressedByServer, perMessageDeflate ? INTEROP_SIZES.filter((size) => size >= 1024).length * 2 : 0);
      // undici's difference, on every line so far: it inflates what it receives but never
      // compresses what it sends (allowed: RFC 7692 section 6 leaves RSV1 per message).
      assert.equal(toServer.filter((message) => message.compressed).length, 0, "undici sends every message uncompressed");
      assert.equal(tappedCloseCode(wire.toServer), 1000);
      assert.equal(tappedCloseCode(wire.toClient), 1000, "the server echoes the client's close code");
    });

    test("an idle connection answers the server's keepalive pings and stays open", async () => {
      // The server pings after 20 ms without traffic and gives the peer 2 s to answer.
      const keepalive = await startEchoServer({ perMessageDeflate, pingIntervalMs: 20, pongTimeoutMs: 2000 });
      const keepaliveTap = await FrameTap.start(keepalive.port);
      try {
        const report = await runNodeWebSocket(["hold", `${keepaliveTap.url}/`, "300"]);
        assert.equal(report.echo, "still here");
        assert.deepEqual(report.close, { code: 1000, reason: "done", wasClean: true });
        const wire = keepaliveTap.connections.at(-1);
        assert.ok(wire, "the client connected through the tap");
        await withTimeout(wire.closed, 5000, "both connections through the tap to close");
        const pings = wire.toClient.filter((frame) => frame.opcode === 0x9).map((frame) => frame.payload?.toString("hex"));
        const pongs = wire.toServer.filter((frame) => frame.opcode === 0xa).map((frame) => frame.payload?.toString("hex"));
        assert.ok(pings.length >= 1, "the server pinged the idle connection");
        assert.deepEqual(pongs, pings, "every ping answered by a pong with its payload (RFC 6455 section 5.5.3)");
      } finally {
        await keepaliveTap.close();
        await keepalive.close();
      }
    });

    const clientCloses: Array<[number, string]> = [
      [1000, "normal"],
      [3000, "registered"],
      [4000, "ünïcödé ✓"],
      [4999, "r".repeat(123)],
    ];
    for (const [code, reason] of clientCloses) {
      test(`the client closes with ${code}: both ends see the code and reason, cleanly`, async () => {
        const report = await runNodeWebSocket(["close", `${tap.url}/`, String(code), reason]);
        assert.equal(report.echo, "last words");
        assert.equal(report.errors, 0, "no error event");
        // hawser's server echoes the code and the reason (RFC 6455 section 5.5.1).
        assert.deepEqual(report.close, { code, reason, wasClean: true });
        const socket = server.sockets.at(-1);
        assert.ok(socket, "the server accepted the connection");
        const event = await withTimeout(socket.closed, 3000, "the server's close event");
        assert.deepEqual({ code: event.code, reason: event.reason, wasClean: event.wasClean }, { code, reason, wasClean: true });
      });
    }

    const serverCloses: Array<[number, string]> = [
      [1000, "bye"],
      [1001, ""],
      [1011, "server error"],
      [4321, "ünïcödé"],
    ];
    for (const [code, reason] of serverCloses) {
      test(`hawser closes with ${code} "${reason}": the client sees the code and reason, cleanly`, async () => {
        const report = await runNodeWebSocket(["server-close", `${tap.url}/close?code=${code}&reason=${encodeURIComponent(reason)}`]);
        assert.deepEqual(report.messages, []);
        assert.equal(report.errors, 0, "no error event");
        assert.deepEqual(report.close, { code, reason, wasClean: true });
        const wire = await lastConnection();
        assert.equal(tappedCloseCode(wire.toServer), code, "undici echoes the server's close code");
      });
    }
  });
}
