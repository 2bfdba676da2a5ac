// genericMain / serve / HandlerHost: command-line listening options, mounting the handler on a
// node:http server the application owns, and shutting down with 1001.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { BROWSER_HINT, echoHandler } from "../../src/cli/echo.js";
import { HandlerHost } from "../../src/server/handler.js";
import { genericMain, parseListenArguments } from "../../src/server/main.js";
import { DEFAULT_PORT } from "../../src/server/options.js";
import { serve } from "../../src/server/serve.js";
import { httpRequest } from "../helpers/http.js";
import { RawClient } from "../helpers/raw-client.js";
import { startSocketServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

describe("parseListenArguments", () => {
  const cases: Array<[string[], { port: number; host: string | undefined }]> = [
    [[], { port: DEFAULT_PORT, host: undefined }],
    [["--port", "9000"], { port: 9000, host: undefined }],
    [["--port=9001"], { port: 9001, host: undefined }],
    [["-p", "9002"], { port: 9002, host: undefined }],
    [["--listening-port", "9003"], { port: 9003, host: undefined }],
    [["--host", "127.0.0.1"], { port: DEFAULT_PORT, host: "127.0.0.1" }],
    [["--listening-host", "::1", "--port", "0"], { port: 0, host: "::1" }],
    [["--listen", "127.0.0.1:9004"], { port: 9004, host: "127.0.0.1" }],
    [["--listen", "[::1]:9005"], { port: 9005, host: "::1" }],
    [["--listen", ":9006"], { port: 9006, host: undefined }],
    [["--listen", "127.0.0.1:9007", "--port", "9008"], { port: 9008, host: "127.0.0.1" }],
    [["--listen", "127.0.0.1:9009", "--host", "localhost"], { port: 9009, host: "localhost" }],
    // Arguments meant for the program itself are left alone.
    [["echo", "--origin", "http://x", "--no-deflate", "--port", "9010"], { port: 9010, host: undefined }],
  ];
  for (const [args, expected] of cases) {
    test(`[${args.join(" ")}] -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseListenArguments(args), expected);
    });
  }

  test("the default port is the original's 8085", () => {
    assert.equal(DEFAULT_PORT, 8085);
  });

  const bad: Array<[string[], RegExp]> = [
    [["--port", "http"], /Not a port number: 'http'/],
    [["--port", "65536"], /Not a port number/],
    [["--port", "-1"], /Not a port number|needs a value/],
    [["--port", "80.5"], /Not a port number/],
    [["--port"], /needs a value.*--port 8085/],
    [["--listen", "9000"], /--listen expects HOST:PORT/],
    [["--listen", "127.0.0.1:port"], /Not a port number/],
  ];
  for (const [args, message] of bad) {
    test(`[${args.join(" ")}] is refused with a message saying what is wrong`, () => {
      assert.throws(() => parseListenArguments(args), message);
    });
  }
});

describe("HandlerHost on an application's own node:http server", () => {
  async function listen(server: Server): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  test("handleUpgrade and handleRequest serve the handler next to the application's routes", async () => {
    const host = new HandlerHost(echoHandler(), { closeTimeoutMs: 1000 });
    const app = createServer((req, res) => {
      if (req.url === "/app") {
        res.end("the application's own page");
        return;
      }
      host.handleRequest(req, res);
    });
    app.on("upgrade", host.handleUpgrade);
    const port = await listen(app);
    try {
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/app`)).body, "the application's own page");
      assert.equal((await httpRequest(`http://127.0.0.1:${port}/ws`)).body, BROWSER_HINT);

      const peer = await WsPeer.connect(`ws://127.0.0.1:${port}/ws`);
      assert.equal((await peer.next()).text, "hello");
      assert.equal((await peer.next()).text, " world!");
      await peer.send(Buffer.from([1, 2, 3]), { binary: true });
      const echoed = await peer.next();
      assert.equal(echoed.isBinary, true);
      assert.deepEqual([...echoed.data], [1, 2, 3]);
      assert.equal(host.clients.size, 1, "the host tracks open sockets");

      // closeAll starts the closing handshake on every socket with 1001.
      host.closeAll();
      assert.equal((await withTimeout(peer.closed, 3000, "the 1001 close")).code, 1001);
      await withTimeout(
        (async () => {
          while (host.clients.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
        })(),
        3000,
        "the host to forget the closed socket",
      );
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });

  test("handler errors on a mounted host: 500 before accepting, the server goes on", async () => {
    const errors: unknown[] = [];
    const host = new HandlerHost(
      (cgi) => {
        if (cgi.pathInfo === "/fail") throw new Error("mounted failure");
        cgi.acceptWebsocket().send("ok");
      },
      { onHandlerError: (error) => errors.push(error) },
    );
    const app = createServer(host.handleRequest);
    app.on("upgrade", host.handleUpgrade);
    const port = await listen(app);
    try {
      await assert.rejects(WsPeer.connect(`ws://127.0.0.1:${port}/fail`), { status: 500 });
      assert.equal(errors.length, 1);
      const peer = await WsPeer.connect(`ws://127.0.0.1:${port}/`);
      assert.equal((await peer.next()).text, "ok");
      await peer.close();
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });
});

describe("serve() and HawserServer", () => {
  test("reports its port and URL", async () => {
    const server = await serve(echoHandler(), { host: "127.0.0.1", port: 0 });
    try {
      assert.ok(server.port > 0);
      assert.equal(server.url, `ws://127.0.0.1:${server.port}/`);
    } finally {
      await server.close();
    }
  });

  test("close() closes every open socket with 1001, waits for them, and stops listening", async () => {
    const server = await startSocketServer({ closeTimeoutMs: 1000 });
    const peers = [await WsPeer.connect(server.url + "/"), await WsPeer.connect(server.url + "/")];
    const sockets = [(await server.nextSocket()).socket, (await server.nextSocket()).socket];
    await withTimeout(server.server.close(), 3000, "server.close()");
    for (const peer of peers) {
      const closed = await withTimeout(peer.closed, 1000, "the client's close");
      assert.deepEqual(closed, { code: 1001, reason: "server shutting down" });
    }
    for (const socket of sockets) {
      const event = await socket.closed;
      assert.equal(event.code, 1001);
      assert.equal(event.wasClean, true);
    }
    assert.equal(server.server.httpServer.listening, false);
    await assert.rejects(RawClient.connect(server.port), { code: "ECONNREFUSED" });
    await server.close();
  });

  test("close() does not wait for a peer that ignores the close longer than its close timeout", async () => {
    const server = await startSocketServer({ closeTimeoutMs: 300 });
    const { client } = await RawClient.open(server.port);
    await server.nextSocket();
    const start = Date.now();
    await withTimeout(server.server.close(4000, "custom"), 3000, "server.close()");
    assert.ok(Date.now() - start < 2000);
    const frame = await client.readFrame();
    assert.equal(frame.closeCode, 4000, "close(code, reason) passes its code on");
    assert.equal(frame.closeReason, "custom");
    await client.waitForClose();
    await server.close();
  });
});

describe("genericMain", () => {
  test("listens where the arguments say, logs the URL, and serves the handler", async (t) => {
    const log = t.mock.method(console, "log", () => undefined);
    const signalsBefore = { int: process.listeners("SIGINT"), term: process.listeners("SIGTERM") };
    const server = await genericMain(echoHandler(), {}, ["--listen", "127.0.0.1:0"]);
    try {
      assert.equal(log.mock.callCount(), 1);
      assert.equal(log.mock.calls[0]!.arguments[0], `hawser: listening on http://127.0.0.1:${server.port}/`);
      assert.equal(process.listenerCount("SIGINT"), signalsBefore.int.length + 1, "stops cleanly on SIGINT");
      assert.equal(process.listenerCount("SIGTERM"), signalsBefore.term.length + 1, "stops cleanly on SIGTERM");
      const peer = await WsPeer.connect(`ws://127.0.0.1:${server.port}/`);
      assert.equal((await peer.next()).text, "hello");
      await peer.close();
    } finally {
      await server.close();
      // The signal handlers would exit this test process: take back the ones genericMain added.
      for (const listener of process.listeners("SIGINT")) if (!signalsBefore.int.includes(listener)) process.off("SIGINT", listener);
      for (const listener of process.listeners("SIGTERM")) if (!signalsBefore.term.includes(listener)) process.off("SIGTERM", listener);
    }
  });

  test("options given in code win over the command line", async (t) => {
    t.mock.method(console, "log", () => undefined);
    const signalsBefore = { int: process.listeners("SIGINT"), term: process.listeners("SIGTERM") };
    const server = await genericMain(echoHandler(), { host: "127.0.0.1", port: 0 }, ["--port", "1"]);
    try {
      assert.notEqual(server.port, 1);
      assert.equal(server.url, `ws://127.0.0.1:${server.port}/`);
    } finally {
      await server.close();
      for (const listener of process.listeners("SIGINT")) if (!signalsBefore.int.includes(listener)) process.off("SIGINT", listener);
      for (const listener of process.listeners("SIGTERM")) if (!signalsBefore.term.includes(listener)) process.off("SIGTERM", listener);
    }
  });
});
