// graphql-ws, which takes a WebSocket server instance, `useServer(options, wss)`, and a client
// class, `createClient({ url, webSocketImpl })`, both as its documentation shows with `ws`.
// Here both ends are the implementation under test.
import assert from "node:assert/strict";
import { EventEmitter, on } from "node:events";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import { createClient, type Client, type FormattedExecutionResult } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { deferred, waitUntil, withTimeout } from "../helpers/wait.js";
import { assertCarriedByImplementation } from "./carried.js";
import { IMPLEMENTATION, WebSocket, WebSocketServer } from "./implementation.js";

const TOKEN = "graphql-token";

/** Messages posted by the mutation, announced to the `posted` subscription. */
const board = new EventEmitter();
const posted: string[] = [];

const Message = new GraphQLObjectType({
  name: "Message",
  fields: { id: { type: new GraphQLNonNull(GraphQLInt) }, text: { type: new GraphQLNonNull(GraphQLString) } },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: {
      hello: {
        type: GraphQLString,
        args: { name: { type: GraphQLString } },
        resolve: (_root, args: { name?: string }, context: { user: string }) => `hello ${args.name ?? "world"}, from ${context.user}`,
      },
      messages: { type: new GraphQLList(Message), resolve: () => posted.map((text, id) => ({ id, text })) },
    },
  }),
  mutation: new GraphQLObjectType({
    name: "Mutation",
    fields: {
      post: {
        type: Message,
        args: { text: { type: new GraphQLNonNull(GraphQLString) } },
        resolve: (_root, args: { text: string }) => {
          const message = { id: posted.push(args.text) - 1, text: args.text };
          board.emit("posted", message);
          return message;
        },
      },
    },
  }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      countdown: {
        type: GraphQLInt,
        args: { from: { type: new GraphQLNonNull(GraphQLInt) } },
        subscribe: async function* (_root, args: { from: number }) {
          for (let n = args.from; n > 0; n--) yield { countdown: n };
        },
      },
      posted: {
        type: Message,
        // node:events' on() is an iterator whose return() lets go of the listener at once.
        subscribe: () => on(board, "posted"),
        resolve: (event: [unknown]) => event[0],
      },
    },
  }),
});

interface RunningGraphql {
  readonly wss: InstanceType<typeof WebSocketServer>;
  readonly url: string;
  /** The server-side sockets graphql-ws handed to context(), in order. */
  readonly sockets: unknown[];
  /** Pongs the server's sockets received (answers to graphql-ws's keep-alive pings). */
  pongs: number;
  dispose(): Promise<void>;
}

/** The server as graphql-ws's documentation writes it, with a short keep-alive interval. */
async function startServer(keepAliveMs: number): Promise<RunningGraphql> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", path: "/graphql" });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const running: RunningGraphql = {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`,
    sockets: [],
    pongs: 0,
    dispose: async () => undefined,
  };
  wss.on("connection", (socket) => socket.on("pong", () => running.pongs++));
  const server = useServer(
    {
      schema,
      onConnect: (ctx) => ctx.connectionParams?.token === TOKEN,
      context: (ctx) => {
        running.sockets.push(ctx.extra.socket);
        return { user: ctx.extra.request.headers["x-user"] ?? "someone" };
      },
    },
    wss,
    keepAliveMs,
  );
  running.dispose = async () => {
    await server.dispose();
  };
  return running;
}

function client(url: string, options: { token?: string; user?: string; onClosed?: (event: unknown) => void } = {}): Client {
  const user = options.user;
  // The implementation's client, with a header: graphql-ws passes only (url, protocol), so a
  // subclass adds the options, as a `ws` user would.
  const Impl =
    user === undefined
      ? WebSocket
      : class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers: { "x-user": user } });
          }
        };
  return createClient({
    url,
    webSocketImpl: Impl,
    retryAttempts: 0,
    connectionParams: { token: options.token ?? TOKEN },
    on: options.onClosed ? { closed: options.onClosed } : {},
  });
}

/** A result as graphql-ws's client delivers it. */
type ExecutionResult<Data = Record<string, unknown>> = FormattedExecutionResult<Data, unknown>;

/** Every result of one operation, until it completes. */
async function results(graphql: Client, query: string, variables?: Record<string, unknown>): Promise<ExecutionResult[]> {
  const all: ExecutionResult[] = [];
  for await (const result of graphql.iterate({ query, variables })) all.push(result);
  return all;
}

describe(`graphql-ws 6: useServer() on a ${IMPLEMENTATION} WebSocketServer, createClient() with its WebSocket`, () => {
  let running: RunningGraphql;
  const clients: Client[] = [];
  const open = (options?: Parameters<typeof client>[1]): Client => {
    const graphql = client(running.url, options);
    clients.push(graphql);
    return graphql;
  };
  before(async () => {
    running = await startServer(100);
  });
  after(async () => {
    for (const graphql of clients) await graphql.dispose();
    await running.dispose();
  });

  test("a query and a mutation, with the context built from the upgrade request", async () => {
    const connected = deferred<unknown>();
    const graphql = createClient({
      url: running.url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { token: TOKEN },
      on: { connected: (socket) => connected.resolve(socket) },
    });
    clients.push(graphql);
    assert.deepEqual(await results(graphql, "{ hello }"), [{ data: { hello: "hello world, from someone" } }]);
    assertCarriedByImplementation(await connected.promise, "graphql-ws's client socket");
    assertCarriedByImplementation(running.sockets.at(-1), "the socket in graphql-ws's server context");

    const named = open({ user: "ann" });
    assert.deepEqual(await results(named, "query ($n: String) { hello(name: $n) }", { n: "ben" }), [{ data: { hello: "hello ben, from ann" } }]);
    const [{ data }] = (await results(named, 'mutation { post(text: "first ✓") { id text } }')) as [ExecutionResult<{ post: { id: number; text: string } }>];
    assert.equal(data?.post.text, "first ✓");
    const [list] = (await results(named, "{ messages { text } }")) as [ExecutionResult<{ messages: Array<{ text: string }> }>];
    assert.ok(list.data?.messages.some((message) => message.text === "first ✓"));
  });

  test("errors in a query come back as GraphQL errors, and the connection goes on", async () => {
    const graphql = open();
    // A query that fails validation ends with graphql-ws's "error" message: iterate() throws its errors.
    await assert.rejects(results(graphql, "{ nosuchfield }"), (errors: unknown) => {
      assert.match(String((errors as Array<{ message: string }>)[0]?.message), /Cannot query field "nosuchfield"/);
      return true;
    });
    assert.deepEqual(await results(graphql, "{ hello }"), [{ data: { hello: "hello world, from someone" } }]);
  });

  test("a subscription streams several events, then completes", async () => {
    const graphql = open();
    assert.deepEqual(
      await results(graphql, "subscription { countdown(from: 5) }"),
      [5, 4, 3, 2, 1].map((countdown) => ({ data: { countdown } })),
    );
  });

  test("a subscription hears mutations from another client; leaving it frees it on the server", async () => {
    const listener = open();
    const poster = open();
    const heard: string[] = [];
    const subscription = listener.iterate({ query: "subscription { posted { text } }" });
    const reading = (async () => {
      for await (const result of subscription) {
        heard.push((result.data as { posted: { text: string } }).posted.text);
        if (heard.length === 3) break; // sends "complete" to the server
      }
    })();
    await waitUntil(() => board.listenerCount("posted") === 1, 5000, "the subscription to start on the server");
    for (const text of ["one", "two", "three"]) await results(poster, "mutation ($t: String!) { post(text: $t) { id } }", { t: text });
    await withTimeout(reading, 5000, "three events on the subscription");
    assert.deepEqual(heard, ["one", "two", "three"]);
    await waitUntil(() => board.listenerCount("posted") === 0, 5000, "the server to end the subscription");
  });

  test("onConnect refusing the connectionParams closes the socket with 4403 Forbidden", async () => {
    const closed = deferred<{ code: number; reason: string }>();
    const graphql = open({ token: "wrong", onClosed: (event) => closed.resolve(event as { code: number; reason: string }) });
    await assert.rejects(results(graphql, "{ hello }"));
    const event = await withTimeout(closed.promise, 5000, "the close");
    assert.deepEqual({ code: event.code, reason: event.reason }, { code: 4403, reason: "Forbidden" });
  });

  test("the subprotocol: graphql-transport-ws is chosen, anything else is declined in the handshake", async () => {
    const accepted = new WebSocket(running.url, ["some-other", "graphql-transport-ws"]);
    await new Promise((resolve, reject) => {
      accepted.once("open", resolve);
      accepted.once("error", reject);
    });
    assert.equal(accepted.protocol, "graphql-transport-ws");
    accepted.terminate();
    // useServer() sets wss.options.handleProtocols after the server exists: the server must ask it.
    assert.equal(await upgradeProtocolHeader(running.url, "graphql-ws"), undefined);
  });

  test("keep-alive pings from the server are answered by the client, and the connection lives on", async () => {
    const graphql = open();
    // An open subscription keeps the (lazy) client's connection up across the pings.
    const subscription = graphql.iterate({ query: "subscription { posted { text } }" });
    const next = subscription.next();
    await waitUntil(() => board.listenerCount("posted") === 1, 5000, "the subscription to start on the server");
    const before = running.pongs;
    await waitUntil(() => running.pongs >= before + 3, 5000, "three pongs to graphql-ws's pings");
    await results(graphql, 'mutation { post(text: "still here") { id } }');
    const event = await withTimeout(next, 5000, "the event after the pings");
    assert.deepEqual(event.value, { data: { posted: { text: "still here" } } });
    await subscription.return?.(undefined);
  });

  test("dispose() closes every client with 1001 and stops the server", async () => {
    const own = await startServer(0);
    const closed = deferred<{ code: number }>();
    const graphql = client(own.url, { onClosed: (event) => closed.resolve(event as { code: number }) });
    clients.push(graphql);
    assert.equal((await results(graphql, "{ hello }")).length, 1);
    await own.dispose();
    assert.equal((await withTimeout(closed.promise, 5000, "the close")).code, 1001);
    await assert.rejects(results(client(own.url), "{ hello }"));
  });
});

/** Sends an opening handshake offering `protocol`; returns the Sec-WebSocket-Protocol of the 101. */
function upgradeProtocolHeader(url: string, protocol: string): Promise<string | undefined> {
  const target = new URL(url.replace(/^ws/, "http"));
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = httpRequest(target, {
        agent: false,
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Protocol": protocol,
        },
      });
      req.once("upgrade", (response, socket) => {
        socket.destroy();
        const header = response.headers["sec-websocket-protocol"];
        resolve(Array.isArray(header) ? header.join(",") : header);
      });
      req.once("response", (response) => reject(new Error(`expected 101, got ${response.statusCode}`)));
      req.once("error", reject);
      req.end();
    }),
    5000,
    "the 101 response",
  );
}
