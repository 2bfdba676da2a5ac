// Socket.IO, which takes a WebSocket server class: `new Server(httpServer, { wsEngine })`, as
// its documentation shows for swapping `ws` out. The clients are socket.io-client (which brings
// its own `ws` client): only the server side is the implementation under test.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { Server, type ServerOptions, type Socket as ServerSocket } from "socket.io";
import { io as connectClient, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from "socket.io-client";
import RealWebSocket from "ws";
import { deferred, waitUntil, withTimeout } from "../helpers/wait.js";
import { assertCarriedByImplementation } from "./carried.js";
import { IMPLEMENTATION, WebSocketServer } from "./implementation.js";

const TOKEN = "let-me-in";

interface RunningIo {
  readonly io: Server;
  readonly url: string;
  /** Why each server-side socket disconnected, by socket id. */
  readonly disconnectReasons: Map<string, string>;
  close(): Promise<void>;
}

/** A Socket.IO server with a small chat-like API, on the implementation's server class. */
async function startIo(options: Partial<ServerOptions> = {}): Promise<RunningIo> {
  const httpServer = createServer();
  const io = new Server(httpServer, { wsEngine: WebSocketServer, ...options });
  const disconnectReasons = new Map<string, string>();
  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown };
    next(auth.token === TOKEN ? undefined : new Error("unauthorized: send auth.token"));
  });
  io.on("connection", (socket) => {
    socket.on("echo", (payload: unknown, ack: (reply: unknown) => void) => ack(payload));
    socket.on("join", async (room: string, ack: () => void) => {
      await socket.join(room);
      ack();
    });
    socket.on("to-room", (room: string, text: string) => socket.to(room).emit("heard", text));
    socket.on("to-others", (text: string) => socket.broadcast.emit("heard", text));
    socket.on("to-everyone", (text: string) => io.emit("heard", text));
    socket.on("kick-me", () => socket.disconnect(true));
    socket.on("disconnect", (reason) => disconnectReasons.set(socket.id, reason));
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    io,
    url: `http://127.0.0.1:${port}`,
    disconnectReasons,
    close: () => io.close(), // resolves once the HTTP server has closed too
  };
}

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** A connected socket.io-client socket; rejects with the server's reason when refused. */
async function connect(url: string, options: ClientOptions = {}): Promise<ClientSocket> {
  const client = connectClient(url, { forceNew: true, reconnection: false, auth: { token: TOKEN }, ...options });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", (error) => {
        client.close();
        reject(error);
      });
    }),
    5000,
    `socket.io-client to connect to ${url}`,
  );
  return client;
}

/** The server-side Socket.IO socket of a connected client. */
function serverSideOf(running: RunningIo, client: ClientSocket): ServerSocket {
  const socket = running.io.sockets.sockets.get(client.id!);
  assert.ok(socket, `the server has a socket for client ${client.id}`);
  return socket;
}

/** The transport engine.io uses now for a server-side socket: its name, and (for "websocket") the WebSocket. */
function transportOf(socket: ServerSocket): { name: string; socket?: unknown } {
  return socket.conn.transport as unknown as { name: string; socket?: unknown };
}

/** Every "heard" event a client gets, in order. */
function recordHeard(client: ClientSocket): string[] {
  const heard: string[] = [];
  client.on("heard", (text: string) => heard.push(text));
  return heard;
}

const websocketOnly: ClientOptions = { transports: ["websocket"] };

describe(`Socket.IO 4 with wsEngine: ${IMPLEMENTATION}'s WebSocketServer`, () => {
  const servers: RunningIo[] = [];
  const clients: ClientSocket[] = [];
  const start = async (options?: Partial<ServerOptions>): Promise<RunningIo> => {
    const running = await startIo(options);
    servers.push(running);
    return running;
  };
  const open = async (url: string, options?: ClientOptions): Promise<ClientSocket> => {
    const client = await connect(url, options);
    clients.push(client);
    return client;
  };
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((running) => running.close()));
  });

  test("a client that starts on HTTP long-polling upgrades to a WebSocket the implementation carries", async () => {
    const running = await start();
    // Watched from the engine's side, from the handshake on, so the upgrade cannot slip past.
    const upgrade = deferred<{ from: string; to: { name: string; socket?: unknown } }>();
    running.io.engine.once(
      "connection",
      (conn: { transport: { name: string }; once(event: "upgrade", listener: (transport: { name: string; socket?: unknown }) => void): void }) => {
        const from = conn.transport.name;
        conn.once("upgrade", (to) => upgrade.resolve({ from, to }));
      },
    );
    const client = await open(running.url); // the default: polling first, then the upgrade
    const { from, to } = await withTimeout(upgrade.promise, 5000, "the upgrade to websocket");
    assert.equal(from, "polling");
    assert.equal(to.name, "websocket");
    assertCarriedByImplementation(to.socket, "the upgraded transport's socket");
    await waitUntil(() => client.io.engine.transport.name === "websocket", 5000, "the client to switch to websocket");
    assert.deepEqual(await client.timeout(5000).emitWithAck("echo", { after: "upgrade" }), { after: "upgrade" });
  });

  test("emit with an acknowledgement, from the client and from the server", async () => {
    const running = await start();
    const client = await open(running.url, websocketOnly);
    const server = serverSideOf(running, client);
    assertCarriedByImplementation(transportOf(server).socket, "a websocket-only client's server socket");

    const payload = { text: "héllo ✓ 🚀", count: 42, nested: [true, null, { deep: "yes" }] };
    assert.deepEqual(await client.timeout(5000).emitWithAck("echo", payload), payload);

    client.on("double", (n: number, ack: (reply: number) => void) => ack(n * 2));
    assert.equal(await server.timeout(5000).emitWithAck("double", 21), 42);
  });

  test("binary payloads arrive byte for byte, both ways", async () => {
    const running = await start();
    const client = await open(running.url, websocketOnly);
    const small = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const large = randomBytes(300 * 1024);
    const reply = (await client.timeout(5000).emitWithAck("echo", { small, large, label: "two buffers" })) as { small: Buffer; large: Buffer; label: string };
    assert.equal(reply.label, "two buffers");
    assert.ok(Buffer.isBuffer(reply.small) && reply.small.equals(small), "the 256-byte buffer came back unchanged");
    assert.ok(Buffer.isBuffer(reply.large) && reply.large.equals(large), "the 300 KiB buffer came back unchanged");

    const received = deferred<Buffer>();
    client.once("blob", (blob: Buffer) => received.resolve(blob));
    serverSideOf(running, client).emit("blob", large);
    assert.ok((await withTimeout(received.promise, 5000, "the server's binary emit")).equals(large));
  });

  test("rooms and broadcasts reach exactly the sockets they name", async () => {
    const running = await start();
    const [ann, ben, cat] = await Promise.all([open(running.url, websocketOnly), open(running.url, websocketOnly), open(running.url, websocketOnly)]);
    const heard = { ann: recordHeard(ann!), ben: recordHeard(ben!), cat: recordHeard(cat!) };
    await ann!.timeout(5000).emitWithAck("join", "lobby");
    await ben!.timeout(5000).emitWithAck("join", "lobby");

    cat!.emit("to-room", "lobby", "to the lobby"); // cat is not in it, and hears nothing
    ann!.emit("to-others", "from ann to the others"); // everyone but ann
    ben!.emit("to-everyone", "to everyone"); // the last, so it marks the end for each client
    await waitUntil(() => Object.values(heard).every((list) => list.includes("to everyone")), 5000, "everyone to hear the last broadcast");

    assert.deepEqual(heard.ann, ["to the lobby", "to everyone"]);
    assert.deepEqual(heard.ben, ["to the lobby", "from ann to the others", "to everyone"]);
    assert.deepEqual(heard.cat, ["from ann to the others", "to everyone"]);
  });

  test("each way of disconnecting reaches the other side with its reason", async () => {
    const running = await start();

    const leaving = await open(running.url, websocketOnly);
    const leavingId = leaving.id!;
    leaving.disconnect();
    await waitUntil(() => running.disconnectReasons.has(leavingId), 5000, "the server to see the client leave");
    assert.equal(running.disconnectReasons.get(leavingId), "client namespace disconnect");

    const kicked = await open(running.url, websocketOnly);
    const kickedReason = deferred<string>();
    kicked.once("disconnect", (reason) => kickedReason.resolve(reason));
    kicked.emit("kick-me");
    assert.equal(await withTimeout(kickedReason.promise, 5000, "the kicked client's disconnect"), "io server disconnect");

    // The client drops the WebSocket itself: the server learns it from the socket's close event.
    const dropped = await open(running.url, websocketOnly);
    const droppedId = dropped.id!;
    dropped.io.engine.close();
    await waitUntil(() => running.disconnectReasons.has(droppedId), 5000, "the server to see the transport close");
    assert.equal(running.disconnectReasons.get(droppedId), "transport close");
  });

  test("a middleware that refuses a client: connect_error with its message, over the WebSocket", async () => {
    const running = await start();
    await assert.rejects(open(running.url, { ...websocketOnly, auth: { token: "wrong" } }), { message: "unauthorized: send auth.token" });
    assert.equal(running.io.sockets.sockets.size, 0);
  });

  test("headers added on io.engine's initial_headers reach the WebSocket handshake's response", async () => {
    const running = await start();
    running.io.engine.on("initial_headers", (headers: Record<string, string>, request: IncomingMessage) => {
      headers["set-cookie"] = `seen=${new URL(request.url ?? "/", "http://x").searchParams.get("transport")}; HttpOnly`;
    });
    // A plain WebSocket client speaking engine.io's first step, to read the 101 response's headers.
    const ws = new RealWebSocket(`${running.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const response = deferred<IncomingMessage>();
    ws.once("upgrade", (res) => response.resolve(res));
    const opening = deferred<string>();
    ws.once("message", (data) => opening.resolve((data as Buffer).toString("utf8"))); // ws's default binaryType: one Buffer
    ws.once("error", (error) => opening.reject(error));
    try {
      assert.deepEqual((await withTimeout(response.promise, 5000, "the 101 response")).headers["set-cookie"], ["seen=websocket; HttpOnly"]);
      assert.match(await withTimeout(opening.promise, 5000, "engine.io's open packet"), /^0\{"sid":"[^"]+"/);
    } finally {
      ws.terminate();
    }
  });

  test("maxHttpBufferSize bounds a WebSocket message (the engine passes it on as maxPayload)", async () => {
    const running = await start({ maxHttpBufferSize: 10_000 });
    const client = await open(running.url, websocketOnly);
    const id = client.id!;
    assert.equal(await client.timeout(5000).emitWithAck("echo", "x".repeat(5_000)), "x".repeat(5_000));
    const reason = deferred<string>();
    client.once("disconnect", (why) => reason.resolve(why));
    client.emit("echo", "x".repeat(20_000));
    assert.equal(await withTimeout(reason.promise, 5000, "the client's disconnect after an oversized message"), "transport close");
    await waitUntil(() => running.disconnectReasons.has(id), 5000, "the server side to end too");
  });

  test("perMessageDeflate: the engine's option is negotiated, and compressed messages round-trip", async () => {
    const running = await start({ perMessageDeflate: { threshold: 0 } });
    const client = await open(running.url, websocketOnly);
    const serverSocket = transportOf(serverSideOf(running, client)).socket;
    assertCarriedByImplementation(serverSocket, "the compressed connection's server socket");
    assert.match((serverSocket as { extensions: string }).extensions, /permessage-deflate/);
    const text = "a compressible sentence, ".repeat(4000);
    assert.equal(await client.timeout(5000).emitWithAck("echo", text), text);
  });

  test("io.close() ends every client's connection and the server", async () => {
    const running = await startIo();
    const client = await connect(running.url, websocketOnly);
    const reason = deferred<string>();
    client.once("disconnect", (why) => reason.resolve(why));
    await running.close();
    assert.match(await withTimeout(reason.promise, 5000, "the client's disconnect"), /^(io server disconnect|transport close)$/);
    await assert.rejects(connect(running.url, websocketOnly));
  });
});
