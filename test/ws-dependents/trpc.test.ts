// tRPC 11, which takes a WebSocket server instance, `applyWSSHandler({ wss, router })`, and a
// client class, `createWSClient({ url, WebSocket })`, as its WebSocket documentation shows with
// `ws`. Both ends are the implementation under test.
import assert from "node:assert/strict";
import { EventEmitter, on } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createTRPCClient, createWSClient, isTRPCClientError, wsLink, type TRPCClient, type WebSocketClientOptions } from "@trpc/client";
import { initTRPC, TRPCError } from "@trpc/server";
import { applyWSSHandler, type CreateWSSContextFnOptions } from "@trpc/server/adapters/ws";
import { deferred, waitUntil, withTimeout } from "../helpers/wait.js";
import { assertCarriedByImplementation } from "./carried.js";
import { IMPLEMENTATION, WebSocket, WebSocketServer } from "./implementation.js";

/** The server-side sockets tRPC handed to createContext(), in order. */
const contextSockets: unknown[] = [];
const board = new EventEmitter();

function createContext({ req, res, info }: CreateWSSContextFnOptions): { user: string } {
  contextSockets.push(res);
  const fromParams = info.connectionParams?.user;
  return { user: fromParams ?? String(req.headers["x-user"] ?? "someone") };
}

const t = initTRPC.context<typeof createContext>().create();

function text(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw new Error("expected a non-empty string");
  return value;
}

function count(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0) throw new Error("expected a whole number");
  return value as number;
}

const appRouter = t.router({
  greet: t.procedure.input(text).query(({ input, ctx }) => `hello ${input}, from ${ctx.user}`),
  post: t.procedure.input(text).mutation(({ input, ctx }) => {
    const message = { text: input, by: ctx.user };
    board.emit("posted", message);
    return message;
  }),
  secret: t.procedure.query((): string => {
    throw new TRPCError({ code: "FORBIDDEN", message: "not for you" });
  }),
  countdown: t.procedure.input(count).subscription(async function* ({ input }) {
    for (let n = input; n > 0; n--) yield n;
  }),
  posted: t.procedure.subscription(async function* ({ signal }) {
    for await (const [message] of on(board, "posted", { signal })) yield message as { text: string; by: string };
  }),
});

type AppRouter = typeof appRouter;

interface RunningTrpc {
  readonly wss: InstanceType<typeof WebSocketServer>;
  readonly url: string;
  readonly handler: ReturnType<typeof applyWSSHandler>;
  close(): Promise<void>;
}

/** The server as tRPC's WebSocket page writes it. */
async function startServer(): Promise<RunningTrpc> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext,
    keepAlive: { enabled: true, pingMs: 50, pongWaitMs: 2000 },
  });
  return {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    handler,
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

interface Connected {
  readonly trpc: TRPCClient<AppRouter>;
  readonly ws: ReturnType<typeof createWSClient>;
  /** The client-side sockets tRPC opened, in order. */
  readonly sockets: unknown[];
}

function connect(url: string, options: { connectionParams?: Record<string, string>; user?: string } = {}): Connected {
  const sockets: unknown[] = [];
  const user = options.user;
  // The implementation's client; the subclass records each socket tRPC opens (and sends a header).
  class RecordedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, user === undefined ? {} : { headers: { "x-user": user } });
      sockets.push(this);
    }
  }
  const ws = createWSClient({
    url,
    // The option is typed as the DOM's WebSocket class, which ws's (and so hawser/ws's) is not
    // quite: it has no dispatchEvent(). tRPC uses only what both have.
    WebSocket: RecordedWebSocket as unknown as NonNullable<WebSocketClientOptions["WebSocket"]>,
    connectionParams: options.connectionParams ?? null,
    retryDelayMs: () => 10,
    keepAlive: { enabled: true, intervalMs: 50, pongTimeoutMs: 2000 },
  });
  return { ws, sockets, trpc: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }) };
}

describe(`tRPC 11: applyWSSHandler() on a ${IMPLEMENTATION} WebSocketServer, createWSClient() with its WebSocket`, () => {
  let running: RunningTrpc;
  const clients: Connected[] = [];
  const open = (options?: Parameters<typeof connect>[1]): Connected => {
    const connected = connect(running.url, options);
    clients.push(connected);
    return connected;
  };
  before(async () => {
    running = await startServer();
  });
  after(async () => {
    for (const { ws } of clients) await ws.close();
    await running.close();
  });

  test("a query and a mutation; the context sees the upgrade request and the connection params", async () => {
    const first = open({ user: "ann" });
    assert.equal(await first.trpc.greet.query("ben"), "hello ben, from ann");
    assertCarriedByImplementation(first.sockets[0], "tRPC's client socket");
    assertCarriedByImplementation(contextSockets.at(-1), "the socket in tRPC's server context");

    const second = open({ connectionParams: { user: "cat" } });
    assert.deepEqual(await second.trpc.post.mutate("hi ✓"), { text: "hi ✓", by: "cat" });
  });

  test("errors: a procedure's TRPCError and a rejected input reach the caller with their codes", async () => {
    const { trpc } = open();
    await assert.rejects(trpc.secret.query(), (error: unknown) => {
      assert.ok(isTRPCClientError<AppRouter>(error));
      assert.equal(error.data?.code, "FORBIDDEN");
      assert.equal(error.message, "not for you");
      return true;
    });
    await assert.rejects(trpc.greet.query(""), (error: unknown) => isTRPCClientError<AppRouter>(error) && error.data?.code === "BAD_REQUEST");
    assert.equal(await trpc.greet.query("again"), "hello again, from someone");
  });

  test("a subscription streams several events, then completes", async () => {
    const { trpc } = open();
    const values: number[] = [];
    const completed = deferred();
    trpc.countdown.subscribe(4, { onData: (value) => values.push(value), onComplete: () => completed.resolve(), onError: (error) => completed.reject(error) });
    await withTimeout(completed.promise, 5000, "the subscription to complete");
    assert.deepEqual(values, [4, 3, 2, 1]);
  });

  test("a subscription hears another client's mutations; unsubscribing frees it on the server", async () => {
    const listener = open();
    const poster = open({ user: "dan" });
    const heard: string[] = [];
    const started = deferred();
    const subscription = listener.trpc.posted.subscribe(undefined, {
      onStarted: () => started.resolve(),
      onData: (message) => heard.push(`${message.by}: ${message.text}`),
    });
    await withTimeout(started.promise, 5000, "the subscription to start");
    await waitUntil(() => board.listenerCount("posted") === 1, 5000, "the server to listen for posts");
    for (const message of ["one", "two", "three"]) await poster.trpc.post.mutate(message);
    await waitUntil(() => heard.length === 3, 5000, "three events");
    assert.deepEqual(heard, ["dan: one", "dan: two", "dan: three"]);
    subscription.unsubscribe();
    await waitUntil(() => board.listenerCount("posted") === 0, 5000, "the server to end the subscription");
  });

  test("keep-alive: tRPC's PING/PONG messages flow both ways and the connection lives on", async () => {
    const { trpc, sockets } = open();
    assert.equal(await trpc.greet.query("before"), "hello before, from someone");
    const socket = sockets[0] as InstanceType<typeof WebSocket>;
    let pings = 0;
    socket.on("message", (data: unknown) => {
      if (String(data) === "PING") pings++;
    });
    await waitUntil(() => pings >= 3, 5000, "three PINGs from the server");
    assert.equal(await trpc.greet.query("after"), "hello after, from someone");
    assert.equal(sockets.length, 1, "no reconnection happened");
  });

  test("broadcastReconnectNotification() makes every client reconnect, and calls go on", async () => {
    const { trpc, sockets } = open();
    assert.equal(await trpc.greet.query("first"), "hello first, from someone");
    running.handler.broadcastReconnectNotification();
    await waitUntil(() => sockets.length === 2 && (sockets[1] as InstanceType<typeof WebSocket>).readyState === WebSocket.OPEN, 5000, "a second connection");
    assert.equal(await trpc.greet.query("second"), "hello second, from someone");
    assertCarriedByImplementation(sockets[1], "the reconnected client socket");
  });
});
