// Abrupt ends at every awkward moment (RFC 6455 section 7.1.5: no close frame means 1006):
// a peer that closes (FIN) or resets (RST) halfway through the handshake, a frame header, a
// payload, a fragmented or compressed message, or the closing handshake. After each the
// server must hold nothing for it: `host.clients` empty, the hawser socket told 1006, and
// every socket, timer and zlib stream created during the attack gone.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { describe, test } from "node:test";
import { ClientWebSocket } from "../../src/client/client-websocket.js";
import type { CloseEvent } from "../../src/websocket/frame.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { startRawServer, type RawConnection } from "../client/raw-server.js";
import { encodeFrame, Op } from "../helpers/frames.js";
import { RawClient, upgradeRequest } from "../helpers/raw-client.js";
import { startServer, startSocketServer, type TestServer } from "../helpers/server.js";
import { sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { assertStillEchoing, deflateMessage } from "./attack.js";
import { activeResources, activeResourcesReturnTo, listenerCounts, trackResources } from "./resources.js";

type Ending = "FIN" | "RST";
const ENDINGS: Ending[] = ["FIN", "RST"];

/** FIN: close as a process that exits would; RST: reset, as after a crash or a firewall drop. */
function cut(socket: Socket, ending: Ending): void {
  if (ending === "RST") socket.resetAndDestroy();
  else socket.destroy();
}

/** Echoes every message and collects the server-side sockets. */
function echoOnAccept(accepted: WebSocket[]): (socket: WebSocket) => void {
  return (socket) => {
    accepted.push(socket);
    socket.onerror = () => undefined;
    socket.onmessage = (event) => socket.send(event.data);
  };
}

/** Listeners on the objects that outlive a connection. */
function serverListeners(server: TestServer): Record<string, number> {
  return listenerCounts({ httpServer: server.server.httpServer, process });
}

/** Waits until the server holds no connection and no resource made during the attack. */
async function assertNothingLeft(
  server: TestServer,
  baseline: Record<string, number>,
  listeners: Record<string, number>,
  tracker: ReturnType<typeof trackResources>,
  what: string,
): Promise<void> {
  await waitUntil(() => server.server.host.clients.size === 0, 3000, `host.clients is empty after ${what}`);
  await tracker.settled(3000, what);
  await activeResourcesReturnTo(baseline, 3000, what);
  assert.deepEqual(serverListeners(server), listeners, `no listener was left behind by ${what}`);
}

const big = Buffer.alloc(256 * 1024, 0x41);

/** What the raw client does after a good handshake, before it vanishes. */
const afterHandshake: Array<[string, (client: RawClient) => void | Promise<void>]> = [
  ["right after the handshake", () => undefined],
  ["after one byte of a frame header", (c) => void c.write(Buffer.from([0x81]))],
  ["inside a 64-bit length", (c) => void c.write(encodeFrame({ opcode: Op.binary, payload: big }).subarray(0, 6))],
  ["inside the masking key", (c) => void c.write(encodeFrame({ opcode: Op.text, payload: "hi" }).subarray(0, 4))],
  ["mid-payload", (c) => void c.write(encodeFrame({ opcode: Op.binary, payload: big }).subarray(0, 100_000))],
  [
    "between fragments of a message",
    (c) => {
      c.sendFrame({ opcode: Op.text, payload: "first part ", fin: false });
      c.sendFrame({ opcode: Op.continuation, payload: "second part", fin: false });
    },
  ],
  [
    "inside a control frame between fragments",
    (c) => {
      c.sendFrame({ opcode: Op.binary, payload: big, fin: false });
      c.write(encodeFrame({ opcode: Op.ping, payload: "x".repeat(100) }).subarray(0, 50));
    },
  ],
  [
    "while the server is sending a large message back",
    async (c) => {
      c.pause();
      for (let i = 0; i < 16; i++) c.sendFrame({ opcode: Op.binary, payload: big });
      await sleep(50);
    },
  ],
];

describe("server: a peer that vanishes mid-stream leaves nothing behind", () => {
  for (const ending of ENDINGS) {
    for (const [moment, act] of afterHandshake) {
      test(`${ending} ${moment}`, async () => {
        const accepted: WebSocket[] = [];
        const server = await startSocketServer({}, echoOnAccept(accepted));
        try {
          const baseline = activeResources();
          const listeners = serverListeners(server);
          const tracker = trackResources();
          try {
            const { client } = await RawClient.open(server.port);
            await waitUntil(() => accepted.length === 1, 2000, "the server to accept");
            const closed = accepted[0]!.closed;
            await act(client);
            await sleep(20);
            cut(client.socket, ending);
            const event: CloseEvent = await withTimeout(closed, 3000, "the hawser socket's close");
            assert.equal(event.code, 1006);
            assert.equal(event.wasClean, false);
            await assertNothingLeft(server, baseline, listeners, tracker, `${ending} ${moment}`);
          } finally {
            tracker.stop();
          }
          await assertStillEchoing(server.url);
        } finally {
          await server.close();
        }
      });
    }

    test(`${ending} during the closing handshake the server started`, async () => {
      const accepted: WebSocket[] = [];
      const server = await startSocketServer({}, echoOnAccept(accepted));
      try {
        const baseline = activeResources();
        const listeners = serverListeners(server);
        const tracker = trackResources();
        try {
          const { client } = await RawClient.open(server.port);
          await waitUntil(() => accepted.length === 1, 2000, "the server to accept");
          accepted[0]!.close(1000, "bye");
          assert.equal((await client.readFrame()).opcode, Op.close);
          cut(client.socket, ending);
          const event = await withTimeout(accepted[0]!.closed, 3000, "the hawser socket's close");
          assert.equal(event.code, 1006, "no close frame came back, so the close is abnormal");
          assert.equal(event.wasClean, false);
          await assertNothingLeft(server, baseline, listeners, tracker, `${ending} during the closing handshake`);
        } finally {
          tracker.stop();
        }
        await assertStillEchoing(server.url);
      } finally {
        await server.close();
      }
    });

    for (const [moment, sendBeforeCut] of compressedMoments()) {
      test(`${ending} ${moment} (permessage-deflate)`, async () => {
        const accepted: WebSocket[] = [];
        const server = await startSocketServer({}, echoOnAccept(accepted));
        try {
          const baseline = activeResources();
          const listeners = serverListeners(server);
          const tracker = trackResources();
          try {
            const { client, response } = await RawClient.open(server.port, { headers: [["Sec-WebSocket-Extensions", "permessage-deflate"]] });
            assert.match(response.headers["sec-websocket-extensions"] ?? "", /^permessage-deflate/, "the extension was agreed");
            await waitUntil(() => accepted.length === 1, 2000, "the server to accept");
            const closed = accepted[0]!.closed;
            client.pause();
            for (const bytes of sendBeforeCut()) client.write(bytes);
            // No pause: the cut lands while the server is still inflating.
            cut(client.socket, ending);
            const event = await withTimeout(closed, 3000, "the hawser socket's close");
            assert.equal(event.code, 1006);
            assert.equal(event.wasClean, false);
            await assertNothingLeft(server, baseline, listeners, tracker, `${ending} ${moment}`);
          } finally {
            tracker.stop();
          }
          await assertStillEchoing(server.url);
        } finally {
          await server.close();
        }
      });
    }

    test(`${ending} halfway through the request head`, async () => {
      const server = await startSocketServer({}, echoOnAccept([]));
      try {
        const baseline = activeResources();
        const listeners = serverListeners(server);
        const tracker = trackResources();
        try {
          const client = await RawClient.connect(server.port);
          const request = upgradeRequest().text;
          client.write(request.slice(0, request.length / 2));
          await sleep(20);
          cut(client.socket, ending);
          await client.closed;
          await assertNothingLeft(server, baseline, listeners, tracker, `${ending} mid-request`);
        } finally {
          tracker.stop();
        }
        await assertStillEchoing(server.url);
      } finally {
        await server.close();
      }
    });

    test(`${ending} after the request, before a slow handler accepts: the late socket closes with 1006`, async () => {
      // The handler accepts 100 ms after the request arrived; the client is gone by then.
      const accepted: WebSocket[] = [];
      const server = await startServer(async (cgi) => {
        if (!cgi.websocketRequested()) return;
        await sleep(cgi.pathInfo === "/slow" ? 100 : 0);
        const socket = cgi.acceptWebsocket();
        echoOnAccept(accepted)(socket);
      });
      try {
        const baseline = activeResources();
        const listeners = serverListeners(server);
        const tracker = trackResources();
        try {
          const client = await RawClient.connect(server.port);
          client.write(upgradeRequest({ path: "/slow" }).text);
          await sleep(20);
          cut(client.socket, ending);
          await waitUntil(() => accepted.length === 1, 2000, "the handler to accept");
          const event = await withTimeout(accepted[0]!.closed, 2000, "the close of a socket accepted after its peer left");
          assert.equal(event.code, 1006);
          assert.equal(event.wasClean, false);
          await assertNothingLeft(server, baseline, listeners, tracker, `${ending} before accept`);
        } finally {
          tracker.stop();
        }
        await assertStillEchoing(server.url);
        // And the server can still shut down: close() waits for every socket's close.
        await withTimeout(server.close(), 3000, "server.close()");
      } finally {
        await server.close();
      }
    });
  }
});

/** Byte sequences for "mid-compressed-message" moments. */
function compressedMoments(): Array<[string, () => Buffer[]]> {
  const text = Buffer.from("compressible text ".repeat(60_000)); // ~1 MiB, deflates to a few KiB
  const deflated = deflateMessage(text);
  const whole = encodeFrame({ opcode: Op.text, payload: deflated, rsv: 4 });
  return [
    ["inside a compressed frame", () => [whole.subarray(0, Math.floor(whole.length / 2))]],
    [
      "between fragments of a compressed message",
      () => [
        encodeFrame({ opcode: Op.text, payload: deflated.subarray(0, 1000), rsv: 4, fin: false }),
        encodeFrame({ opcode: Op.continuation, payload: deflated.subarray(1000, 2000), fin: false }),
      ],
    ],
    ["right after a whole compressed message, while it inflates", () => [whole, whole, whole]],
  ];
}

describe("client: a server that vanishes mid-stream leaves nothing behind", () => {
  const moments: Array<[string, (connection: RawConnection) => void]> = [
    ["halfway through the 101 answer", (c) => void c.socket.write(c.acceptResponse().slice(0, 40))],
    ["right after the 101 answer, in the same packet", (c) => void c.socket.write(c.acceptResponse())],
    ["inside a frame header", (c) => void c.socket.write(c.acceptResponse() + "\x82\x7f\x00")],
    [
      "mid-payload",
      (c) => {
        c.accept();
        c.socket.write(encodeFrame({ opcode: Op.binary, payload: big, mask: false }).subarray(0, 50_000));
      },
    ],
    [
      "inside a compressed message",
      (c) => {
        c.accept(["Sec-WebSocket-Extensions: permessage-deflate"]);
        const frame = encodeFrame({ opcode: Op.text, payload: deflateMessage(Buffer.from("x".repeat(100_000))), rsv: 4, mask: false });
        c.socket.write(frame.subarray(0, frame.length - 10));
      },
    ],
  ];
  for (const ending of ENDINGS) {
    for (const [moment, act] of moments) {
      test(`${ending} ${moment}`, async () => {
        const rawServer = await startRawServer((connection) => {
          act(connection);
          setTimeout(() => cut(connection.socket, ending), 30);
        });
        try {
          const baseline = activeResources();
          const tracker = trackResources();
          try {
            const socket = new ClientWebSocket(rawServer.url, { pingFrequency: 1000, timeoutFromInactivity: 5000 });
            await socket.connect().catch(() => undefined);
            const event = await withTimeout(socket.closed, 3000, "the client's close");
            assert.equal(event.code, 1006);
            assert.equal(event.wasClean, false);
            await tracker.settled(3000, `client ${ending} ${moment}`);
            await activeResourcesReturnTo(baseline, 3000, `client ${ending} ${moment}`);
          } finally {
            tracker.stop();
          }
        } finally {
          await rawServer.close();
        }
        // The client library still works afterwards.
        const echo = await startSocketServer({}, echoOnAccept([]));
        try {
          await assertStillEchoing(echo.url);
        } finally {
          await echo.close();
        }
      });
    }
  }
});
