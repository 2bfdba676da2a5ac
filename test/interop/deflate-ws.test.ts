// permessage-deflate between hawser and the `ws` npm package, both directions (hawser server
// with a `ws` client, hawser client with a `ws` server), with a frame tap in between: the
// agreed extension as each end and the wire see it, RSV1 on every message from 1 KiB both ways,
// 16 B to 128 KiB text and binary echoed byte for byte, and context takeover on and off.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { after, describe, test } from "node:test";
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions as WsDeflateOptions } from "ws";
import { connect, WebSocketOpcode } from "../../src/index.js";
import type { PerMessageDeflateOptions } from "../../src/extensions/deflate-negotiation.js";
import { assertAgreed, assertDeflateWire, DEFAULT_THRESHOLD, deflatePlan, echoPlan } from "../helpers/deflate-interop.js";
import { FrameTap } from "../helpers/frame-tap.js";
import { MiB } from "../helpers/payloads.js";
import { startSocketServer, type SocketServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

interface Variant {
  name: string;
  /** Options for the server end (hawser's or ws's; the field names are the same). */
  server: PerMessageDeflateOptions & WsDeflateOptions;
  /** Options for the client end. */
  client: PerMessageDeflateOptions & WsDeflateOptions;
  serverTakeover: boolean;
  clientTakeover: boolean;
}

const VARIANTS: Variant[] = [
  { name: "context takeover both ways", server: {}, client: {}, serverTakeover: true, clientTakeover: true },
  { name: "server_no_context_takeover (server's choice)", server: { serverNoContextTakeover: true }, client: {}, serverTakeover: false, clientTakeover: true },
  { name: "client_no_context_takeover (client's choice)", server: {}, client: { clientNoContextTakeover: true }, serverTakeover: true, clientTakeover: false },
];

/**
 * ws applies its 1 KiB threshold only to a compressor without context takeover (its documented
 * rule); with takeover it compresses every message.
 */
function wsThreshold(takeover: boolean): number | "any" {
  return takeover ? "any" : DEFAULT_THRESHOLD;
}

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("hawser server ↔ ws client, permessage-deflate", () => {
  for (const variant of VARIANTS) {
    test(variant.name, async (t) => {
      let serverAgreed = "";
      const server: SocketServer = await startSocketServer({ pingIntervalMs: 0, perMessageDeflate: variant.server }, (socket) => {
        serverAgreed = socket.extensions;
        socket.onmessage = (event) => socket.send(event.data);
      });
      cleanups.push(() => server.close());
      const tap = await FrameTap.start(server.port);
      cleanups.push(() => tap.close());

      const ws = new WebSocket(`${tap.url}/`, { perMessageDeflate: variant.client, maxPayload: 4 * MiB });
      let clientSawAnswer: string | undefined;
      ws.once("upgrade", (response: IncomingMessage) => (clientSawAnswer = String(response.headers["sec-websocket-extensions"] ?? "")));
      const peer = new WsPeer(ws);
      await withTimeout(new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject)), 5000, "the ws client to connect");
      const wire = await tap.nextConnection();

      const plan = deflatePlan();
      await echoPlan(
        {
          send: (data) => peer.send(data, { binary: typeof data !== "string" }),
          next: async () => {
            const message = await peer.next();
            return { isBinary: message.isBinary, data: message.data };
          },
        },
        plan,
      );
      assert.equal((await peer.close(1000, "done")).code, 1000);
      await withTimeout(wire.closed, 5000, "both connections through the tap to close");

      t.diagnostic(`offer ${JSON.stringify(wire.offeredExtensions)}, answer ${JSON.stringify(wire.agreedExtensions)}`);
      assert.match(wire.offeredExtensions, /^permessage-deflate/);
      assertAgreed(wire.agreedExtensions, { serverNoContextTakeover: !variant.serverTakeover });
      assert.equal(serverAgreed, wire.agreedExtensions, "hawser's socket.extensions is what it sent");
      assert.equal(clientSawAnswer, wire.agreedExtensions, "ws received the same answer");
      assert.equal(ws.extensions, "permessage-deflate", "ws applied the extension");
      assertDeflateWire(t, wire, plan, {
        clientThreshold: wsThreshold(variant.clientTakeover),
        serverThreshold: DEFAULT_THRESHOLD,
        clientTakeover: variant.clientTakeover,
        serverTakeover: variant.serverTakeover,
      });
    });
  }
});

describe("hawser client ↔ ws server, permessage-deflate", () => {
  for (const variant of VARIANTS) {
    test(variant.name, async (t) => {
      const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: variant.server, maxPayload: 4 * MiB });
      await new Promise<void>((resolve) => wss.once("listening", resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const client of wss.clients) client.terminate();
            wss.close(() => resolve());
          }),
      );
      let serverSentAnswer: string | undefined;
      wss.on("headers", (headers: string[]) => {
        const line = headers.find((header) => /^sec-websocket-extensions:/i.test(header));
        serverSentAnswer = line ? line.slice(line.indexOf(":") + 1).trim() : "";
      });
      wss.on("connection", (socket) => {
        socket.on("message", (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary }));
      });
      const tap = await FrameTap.start((wss.address() as { port: number }).port);
      cleanups.push(() => tap.close());

      const client = await connect(`${tap.url}/`, { pingFrequency: 0, maximumMessageSize: 4 * MiB, perMessageDeflate: variant.client });
      const wire = await tap.nextConnection();
      const plan = deflatePlan();
      await echoPlan(
        {
          send: (data) => {
            assert.equal(client.send(data), true, "send() queued the message");
          },
          next: async () => {
            const frame = await client.recv();
            assert.notEqual(frame.opcode, WebSocketOpcode.close, `the connection closed: ${frame.code} ${frame.reason}`);
            return { isBinary: frame.opcode === WebSocketOpcode.binary, data: frame.data };
          },
        },
        plan,
      );
      client.close(1000, "done");
      const closed = await withTimeout(client.closed, 5000, "the client to close");
      assert.equal(closed.code, 1000);
      assert.equal(closed.wasClean, true);
      await withTimeout(wire.closed, 5000, "both connections through the tap to close");

      t.diagnostic(`offer ${JSON.stringify(wire.offeredExtensions)}, answer ${JSON.stringify(wire.agreedExtensions)}`);
      assert.equal(
        wire.offeredExtensions,
        variant.client.clientNoContextTakeover
          ? "permessage-deflate; client_no_context_takeover; client_max_window_bits"
          : "permessage-deflate; client_max_window_bits",
      );
      assertAgreed(wire.agreedExtensions, { serverNoContextTakeover: !variant.serverTakeover });
      assert.equal(serverSentAnswer, wire.agreedExtensions, "ws sent this answer");
      assert.equal(client.extensions, wire.agreedExtensions, "hawser's client.extensions is the answer it received");
      assertDeflateWire(t, wire, plan, {
        clientThreshold: DEFAULT_THRESHOLD,
        serverThreshold: wsThreshold(variant.serverTakeover),
        clientTakeover: variant.clientTakeover,
        serverTakeover: variant.serverTakeover,
      });
    });
  }
});
