// The Node client's `reconnect` setting: backoff with full jitter, the reconnecting and
// reconnected events, messages held while disconnected (sent in order afterwards, bounded,
// or reported through onunsent), giving up, close() between attempts, and `reconnect.url`.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClientWebSocket } from "../../src/client/client-websocket.js";
import { connect } from "../../src/client/connect.js";
import { reconnectDelay, type ReconnectingEvent, type UnsentMessage } from "../../src/client/reconnect.js";
import { ReadyState } from "../../src/protocol/opcodes.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { startSocketServer, type SocketServer } from "../helpers/server.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { deferred, sleep, waitUntil, withTimeout } from "../helpers/wait.js";
import { freePort } from "../pubsub/redis-helpers.js";

const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

/** A server whose sockets record every text message they receive, in order. */
async function recordingServer(): Promise<SocketServer & { received: string[]; sockets: WebSocket[] }> {
  const received: string[] = [];
  const sockets: WebSocket[] = [];
  const server = await startSocketServer({ pingIntervalMs: 0 }, (socket) => {
    sockets.push(socket);
    socket.ontextmessage = (text) => received.push(text);
  });
  return Object.assign(server, { received, sockets });
}

describe("reconnect backoff", () => {
  test("full jitter: a random wait below a ceiling that doubles per attempt, up to maxDelayMs", () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 10].map((attempt) => reconnectDelay(attempt, options, () => 0.999999)),
      [99, 199, 399, 799, 999, 999],
    );
    assert.deepEqual(
      [1, 2, 5].map((attempt) => reconnectDelay(attempt, options, () => 0)),
      [0, 0, 0],
    );
    assert.equal(
      reconnectDelay(3, options, () => 0.5),
      200,
    );
  });

  test("bad settings are refused with the name of the option", () => {
    assert.throws(() => new ClientWebSocket("ws://127.0.0.1:1/", { reconnect: { maxDelayMs: -1 } }), /reconnect\.maxDelayMs/);
    assert.throws(() => new ClientWebSocket("ws://127.0.0.1:1/", { reconnect: { initialDelayMs: 100, maxDelayMs: 10 } }), /below initialDelayMs/);
    assert.throws(() => new ClientWebSocket("ws://127.0.0.1:1/", { reconnect: { maxHeldMessages: Infinity } }), /maxHeldMessages/);
  });
});

describe("a reconnecting client", () => {
  test("after a drop it is CONNECTING, reports reconnecting then reconnected, and messages flow on the same socket", async () => {
    const server = await recordingServer();
    try {
      const client = await connect(`${server.url}/`, { pingFrequency: 0, reconnect: FAST });
      const events: string[] = [];
      let closes = 0;
      client.onclose = () => closes++;
      // Read in the handler: with fast retries the client may be open again before a poll sees it.
      let stateWhileReconnecting = -1;
      client.onreconnecting = (event) => {
        stateWhileReconnecting = client.readyState;
        events.push(`reconnecting ${event.attempt} ${event.code}`);
      };
      const reconnected = deferred();
      client.onreconnected = (event) => {
        events.push(`reconnected ${event.attempts}`);
        reconnected.resolve();
      };
      const inbox: string[] = [];
      client.ontextmessage = (text) => inbox.push(text);
      await waitUntil(() => server.sockets.length === 1, 2000, "the server to have the socket");
      server.sockets[0]!.send("before");
      await waitUntil(() => inbox.length === 1, 2000, "the first message");
      server.sockets[0]!.terminate();
      await waitUntil(() => events.length > 0, 2000, "the drop to be noticed");
      assert.equal(stateWhileReconnecting, ReadyState.CONNECTING);
      await withTimeout(reconnected.promise, 5000, "the client to reconnect");
      assert.deepEqual(events, ["reconnecting 1 1006", "reconnected 1"]);
      assert.equal(client.readyState, ReadyState.OPEN);
      await waitUntil(() => server.sockets.length === 2, 2000, "the server to have the new socket");
      server.sockets[1]!.send("after");
      client.send("hello again");
      await waitUntil(() => inbox.length === 2 && server.received.length === 1, 2000, "messages on the new connection");
      assert.deepEqual(inbox, ["before", "after"]);
      assert.deepEqual(server.received, ["hello again"]);
      assert.equal(closes, 0, "onclose fired while reconnecting");
      client.close();
      const closed = await withTimeout(client.closed, 2000, "the close");
      assert.equal(closed.code, 1000);
      assert.equal(closes, 1);
    } finally {
      await server.close();
    }
  });

  test("messages sent while disconnected are held and sent first, in order, once connected again", async () => {
    const server = await recordingServer();
    try {
      const client = await connect(`${server.url}/`, { pingFrequency: 0, reconnect: FAST });
      client.onreconnecting = () => {
        // Disconnected for sure: the drop was just reported.
        for (let i = 0; i < 5; i++) assert.equal(client.send(`held ${i}`), true);
        assert.equal(client.heldMessages, 5);
      };
      client.onreconnected = (event) => {
        assert.equal(event.sentHeld, 5);
        client.send("after reconnecting");
      };
      await waitUntil(() => server.sockets.length === 1, 2000, "the server to have the socket");
      client.send("first");
      await waitUntil(() => server.received.length === 1, 2000, "the first message");
      server.sockets[0]!.terminate();
      await waitUntil(() => server.received.length === 7, 5000, "the held messages");
      assert.deepEqual(server.received, ["first", "held 0", "held 1", "held 2", "held 3", "held 4", "after reconnecting"]);
      assert.equal(client.heldMessages, 0);
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });

  test("held messages are bounded: past maxHeldMessages or maxHeldBytes send() returns false", async () => {
    const server = await recordingServer();
    try {
      const client = await connect(`${server.url}/`, { pingFrequency: 0, reconnect: { ...FAST, maxHeldMessages: 3, maxHeldBytes: 10 } });
      const results: boolean[] = [];
      client.onreconnecting = (event) => {
        if (event.attempt !== 1) return;
        results.push(client.send("a"), client.send("b"), client.send("123456789"), client.send("c"), client.send("d"));
      };
      await waitUntil(() => server.sockets.length === 1, 2000, "the server to have the socket");
      server.sockets[0]!.terminate();
      await waitUntil(() => server.received.length === 3, 5000, "the held messages");
      // "123456789" would pass 10 bytes; "d" would be the fourth message.
      assert.deepEqual(results, [true, true, false, true, false]);
      assert.deepEqual(server.received, ["a", "b", "c"]);
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });

  test("gives up after maxAttempts: onerror, held messages to onunsent, then onclose", async () => {
    const server = await recordingServer();
    const client = await connect(`${server.url}/`, { pingFrequency: 0, reconnect: { ...FAST, maxAttempts: 3 } });
    const attempts: ReconnectingEvent[] = [];
    const unsent: UnsentMessage[][] = [];
    const order: string[] = [];
    client.onreconnecting = (event) => {
      attempts.push(event);
      if (event.attempt === 1) client.send("never sent", { binary: false });
    };
    client.onunsent = (messages) => {
      order.push("unsent");
      unsent.push(messages);
    };
    client.onerror = () => order.push("error");
    client.onclose = (event) => order.push(`close ${event.code}`);
    await server.close(); // the server is gone for good: every attempt fails
    const closed = await withTimeout(client.closed, 5000, "the client to give up");
    assert.equal(closed.code, 1006);
    assert.deepEqual(
      attempts.map((event) => event.attempt),
      [1, 2, 3],
    );
    assert.equal(attempts[0]!.error, undefined);
    assert.ok(attempts[1]!.error instanceof Error, "a failed attempt's error is reported with the next");
    assert.deepEqual(order, ["error", "unsent", "close 1006"]);
    assert.deepEqual(unsent, [[{ data: "never sent", options: { binary: false } }]]);
    assert.equal(client.readyState, ReadyState.CLOSED);
    assert.equal(client.send("too late"), false);
  });

  test("close() between attempts ends it at once: onunsent, onclose, no more attempts", async () => {
    const port = await freePort(); // nothing listens there
    const server = await recordingServer();
    const proxy = await TcpProxy.start(server.port);
    try {
      const client = await connect(`ws://127.0.0.1:${proxy.port}/`, { pingFrequency: 0, reconnect: { initialDelayMs: 2000, maxDelayMs: 2000 } });
      proxy.retarget(port);
      let attempts = 0;
      const unsent: UnsentMessage[][] = [];
      client.onreconnecting = () => {
        attempts++;
        client.send("held");
        client.close();
      };
      client.onunsent = (messages) => unsent.push(messages);
      proxy.cutAll();
      const closed = await withTimeout(client.closed, 2000, "close() while waiting to reconnect");
      assert.equal(closed.wasClean, false);
      assert.equal(attempts, 1);
      assert.deepEqual(
        unsent.map((list) => list.map((m) => m.data)),
        [["held"]],
      );
      await sleep(30);
      assert.equal(attempts, 1, "it went on trying after close()");
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  test("connect() retries until a server answers; reconnect.url picks each attempt's URL", async () => {
    const dead = await freePort();
    const server = await recordingServer();
    try {
      const tried: string[] = [];
      const client = new ClientWebSocket(`ws://127.0.0.1:${dead}/first`, {
        pingFrequency: 0,
        reconnect: { ...FAST, url: (attempt) => (attempt < 3 ? `ws://127.0.0.1:${dead}/try${attempt}` : `${server.url}/try${attempt}`) },
      });
      client.onreconnecting = () => tried.push(client.url);
      let opens = 0;
      client.onopen = () => opens++;
      await withTimeout(client.connect(), 5000, "connect() to succeed on the third retry");
      assert.equal(opens, 1);
      assert.equal(client.url, `${server.url}/try3`);
      assert.deepEqual(tried, [`ws://127.0.0.1:${dead}/first`, `ws://127.0.0.1:${dead}/try1`, `ws://127.0.0.1:${dead}/try2`]);
      const { cgi } = await server.nextSocket();
      assert.equal(cgi.pathInfo, "/try3");
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });

  test("shouldReconnect can decline: the socket then closes as without reconnect", async () => {
    const server = await recordingServer();
    try {
      const client = await connect(`${server.url}/`, { pingFrequency: 0, reconnect: { ...FAST, shouldReconnect: (event) => event.code !== 4001 } });
      let reconnecting = 0;
      client.onreconnecting = () => reconnecting++;
      await waitUntil(() => server.sockets.length === 1, 2000, "the server to have the socket");
      server.sockets[0]!.close(4001, "go away for good");
      const closed = await withTimeout(client.closed, 2000, "the close");
      assert.deepEqual([closed.code, closed.reason, reconnecting], [4001, "go away for good", 0]);
    } finally {
      await server.close();
    }
  });

  test("without reconnect nothing changes: a drop closes the socket", async () => {
    const server = await recordingServer();
    try {
      const client = await connect(`${server.url}/`, { pingFrequency: 0 });
      await waitUntil(() => server.sockets.length === 1, 2000, "the server to have the socket");
      server.sockets[0]!.terminate();
      assert.equal((await withTimeout(client.closed, 2000, "the close")).code, 1006);
      assert.equal(client.send("x"), false);
    } finally {
      await server.close();
    }
  });
});
