// The request object (the seed's Cgi) over real sockets: what a handler can read from the
// request, the plain-HTTP answer, and how handler errors reach the client.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BROWSER_HINT, echoHandler } from "../../src/cli/echo.js";
import type { Cgi } from "../../src/server/cgi.js";
import { HttpError } from "../../src/server/http-error.js";
import { httpRequest } from "../helpers/http.js";
import { RawClient, upgradeRequest } from "../helpers/raw-client.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { deferred, withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

interface Seen {
  method: string;
  uri: string;
  path: string;
  queryString: string;
  room: string | null;
  tags: string[];
  custom: string | string[] | undefined;
  origin: string;
  cookies: Record<string, string>;
  websocketRequested: boolean;
  remoteAddress: string;
}

function snapshot(cgi: Cgi): Seen {
  return {
    method: cgi.requestMethod,
    uri: cgi.requestUri,
    path: cgi.pathInfo,
    queryString: cgi.queryString,
    room: cgi.query.get("room"),
    tags: cgi.query.getAll("tag"),
    custom: cgi.headers["x-custom"],
    origin: cgi.origin,
    cookies: Object.fromEntries(cgi.cookies),
    websocketRequested: cgi.websocketRequested(),
    remoteAddress: cgi.remoteAddress,
  };
}

describe("reading the request", () => {
  let server: TestServer;
  let seen: Seen[] = [];
  before(async () => {
    server = await startServer(
      (cgi) => {
        seen.push(snapshot(cgi));
        if (cgi.websocketRequested()) cgi.acceptWebsocket().close(1000, "seen");
        else cgi.write("seen", true);
      },
      // The WebSocket request below comes from a page of another origin, on purpose.
      { allowedOrigins: ["http://example.test"] },
    );
  });
  after(() => server.close());

  test("a WebSocket request: method, path, query, headers, origin, cookies", async () => {
    seen = [];
    const peer = await WsPeer.connect(server.url + "/chat/room?room=lobby&tag=a&tag=b%20c", {
      origin: "http://example.test",
      headers: { "X-Custom": "custom value", Cookie: "session=abc123; theme=dark%20blue; empty=" },
    });
    assert.deepEqual(await peer.closed, { code: 1000, reason: "seen" });
    assert.deepEqual(seen, [
      {
        method: "GET",
        uri: "/chat/room?room=lobby&tag=a&tag=b%20c",
        path: "/chat/room",
        queryString: "room=lobby&tag=a&tag=b%20c",
        room: "lobby",
        tags: ["a", "b c"],
        custom: "custom value",
        origin: "http://example.test",
        cookies: { session: "abc123", theme: "dark blue", empty: "" },
        websocketRequested: true,
        remoteAddress: "127.0.0.1",
      },
    ]);
  });

  test("a plain POST: the same fields, no origin, no cookies, websocketRequested() false", async () => {
    seen = [];
    const response = await httpRequest(server.httpUrl + "/form", { method: "POST", body: "x=1", headers: { "X-Custom": "posted" } });
    assert.equal(response.body, "seen");
    assert.deepEqual(seen, [
      {
        method: "POST",
        uri: "/form",
        path: "/form",
        queryString: "",
        room: null,
        tags: [],
        custom: "posted",
        origin: "",
        cookies: {},
        websocketRequested: false,
        remoteAddress: "127.0.0.1",
      },
    ]);
  });
});

describe("the plain-HTTP answer", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(async (cgi) => {
      switch (cgi.pathInfo) {
        case "/echo":
          return echoHandler()(cgi);
        case "/status":
          cgi.setResponseStatus(201);
          cgi.header("X-Made-By", "handler");
          cgi.header("Content-Type", "application/json");
          cgi.write('{"created":true}', true);
          return;
        case "/chunks":
          // Several writes without isAll, the last one ending the body; an await in between.
          cgi.write("one ");
          await new Promise((resolve) => setTimeout(resolve, 10));
          cgi.write("two ");
          cgi.write("three", true);
          return;
        case "/bytes":
          cgi.write(new Uint8Array([0xe2, 0x9c, 0x93]), true);
          return;
        case "/nothing":
          return;
        case "/refuse-upgrade":
          // An upgrade request answered with plain HTTP instead of being accepted.
          cgi.setResponseStatus(401);
          cgi.header("WWW-Authenticate", 'Bearer realm="hawser"');
          cgi.write("log in first", true);
          return;
        case "/after-end":
          cgi.write("done", true);
          try {
            cgi.write("more");
          } catch (error) {
            lateWriteError = error;
          }
          return;
      }
    });
  });
  after(() => server.close());
  let lateWriteError: unknown;

  test("a plain GET of the seed's echo endpoint gets the browser hint, with isAll sending it whole", async () => {
    const response = await httpRequest(server.httpUrl + "/echo");
    assert.equal(response.status, 200);
    assert.equal(response.body, BROWSER_HINT);
    assert.equal(
      response.body,
      "You are loading the websocket endpoint in a browser instead of a websocket client. Use a websocket client on this url instead.\n",
    );
    assert.equal(response.headers["content-length"], String(Buffer.byteLength(BROWSER_HINT)));
    assert.match(response.headers["content-type"] ?? "", /^text\/plain/);
  });

  test("setResponseStatus and header shape the answer", async () => {
    const response = await httpRequest(server.httpUrl + "/status");
    assert.equal(response.status, 201);
    assert.equal(response.headers["x-made-by"], "handler");
    assert.equal(response.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(response.body), { created: true });
  });

  test("write without isAll streams the body; the handler's return ends it", async () => {
    const response = await httpRequest(server.httpUrl + "/chunks");
    assert.equal(response.status, 200);
    assert.equal(response.body, "one two three");
  });

  test("write takes bytes as well as text", async () => {
    assert.equal((await httpRequest(server.httpUrl + "/bytes")).body, "\u2713");
  });

  test("a handler that writes nothing answers 200 with an empty body", async () => {
    const response = await httpRequest(server.httpUrl + "/nothing");
    assert.equal(response.status, 200);
    assert.equal(response.body, "");
  });

  test("write after the whole body was sent throws a clear error", async () => {
    assert.equal((await httpRequest(server.httpUrl + "/after-end")).body, "done");
    assert.match(String(lateWriteError), /after the response ended/);
  });

  test("an upgrade request can be refused with a plain answer: status, headers and body on the raw socket", async () => {
    const client = await RawClient.connect(server.port);
    try {
      client.write(upgradeRequest({ path: "/refuse-upgrade" }).text);
      const response = await client.readHttpResponse();
      assert.equal(response.status, 401);
      assert.equal(response.headers["www-authenticate"], 'Bearer realm="hawser"');
      assert.equal(response.body.toString(), "log in first");
      await client.waitForClose();
    } finally {
      client.destroy();
    }
  });

  test("an upgrade request whose handler writes nothing gets an empty 200 and is closed (no hanging socket)", async () => {
    const client = await RawClient.connect(server.port);
    try {
      client.write(upgradeRequest({ path: "/nothing" }).text);
      const response = await client.readHttpResponse();
      assert.equal(response.status, 200);
      assert.equal(response.body.length, 0);
      await client.waitForClose();
    } finally {
      client.destroy();
    }
  });
});

describe("handler errors", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((cgi) => {
      // A plain (not async) function, so this throw is a synchronous one.
      if (cgi.pathInfo === "/throw") throw new Error("synchronous failure before accepting");
      return asyncPaths(cgi);
    });
    const asyncPaths = async (cgi: Cgi): Promise<void> => {
      switch (cgi.pathInfo) {
        case "/forbidden":
          throw new HttpError(403, "bad origin");
        case "/teapot":
          throw new HttpError(418, "short and stout", { "X-Reason": "tea" });
        case "/reject":
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new Error("async failure before accepting");
        case "/throw-after-accept": {
          const socket = cgi.acceptWebsocket();
          socket.send("accepted");
          await socket.recv();
          throw new Error("failure after accepting");
        }
        default:
          return echoHandler()(cgi);
      }
    };
  });
  after(() => server.close());

  test("HttpError(403) before accepting answers 403 to a WebSocket client and is not logged as a failure", async () => {
    const before = server.handlerErrors.length;
    await assert.rejects(WsPeer.connect(server.url + "/forbidden"), { status: 403 });
    const response = await httpRequest(server.httpUrl + "/forbidden");
    assert.equal(response.status, 403);
    assert.equal(response.body, "bad origin\n");
    assert.equal(server.handlerErrors.length, before, "an HttpError is an answer, not a handler failure");
  });

  test("HttpError carries its headers into the answer, on both the upgrade and the plain path", async () => {
    const client = await RawClient.connect(server.port);
    try {
      client.write(upgradeRequest({ path: "/teapot" }).text);
      const response = await client.readHttpResponse();
      assert.equal(response.status, 418);
      assert.equal(response.headers["x-reason"], "tea");
      assert.equal(response.body.toString(), "short and stout\n");
    } finally {
      client.destroy();
    }
    const plain = await httpRequest(server.httpUrl + "/teapot");
    assert.equal(plain.status, 418);
    assert.equal(plain.headers["x-reason"], "tea");
  });

  for (const path of ["/throw", "/reject"]) {
    test(`a handler that fails before accepting (${path}) gives 500, is reported, and the server goes on`, async () => {
      const before = server.handlerErrors.length;
      await assert.rejects(WsPeer.connect(server.url + path), { status: 500 });
      const plain = await httpRequest(server.httpUrl + path);
      assert.equal(plain.status, 500);
      assert.doesNotMatch(plain.body, /failure/, "the error's message stays on the server");
      assert.equal(server.handlerErrors.length, before + 2);
      assert.match(String(server.handlerErrors.at(-1)?.error), /failure before accepting/);
      assert.equal(server.handlerErrors.at(-1)?.cgi.pathInfo, path);
      const peer = await WsPeer.connect(server.url + "/");
      assert.equal((await peer.next()).text, "hello");
      await peer.close();
    });
  }

  test("a handler that fails after accepting closes the socket with 1011, and the server goes on", async () => {
    const before = server.handlerErrors.length;
    const peer = await WsPeer.connect(server.url + "/throw-after-accept");
    assert.equal((await peer.next()).text, "accepted");
    await peer.send("make it throw");
    const closed = await withTimeout(peer.closed, 3000, "the 1011 close");
    assert.equal(closed.code, 1011);
    assert.equal(server.handlerErrors.length, before + 1);
    assert.match(String(server.handlerErrors.at(-1)?.error), /failure after accepting/);

    const other = await WsPeer.connect(server.url + "/");
    assert.equal((await other.next()).text, "hello");
    assert.equal((await other.next()).text, " world!");
    await other.send("echo me");
    assert.equal((await other.next()).text, "echo me");
    await other.close();
  });

  test("without onHandlerError, failures are logged to stderr and the process keeps serving", async (t) => {
    const logged = deferred<unknown[]>();
    const errorLog = t.mock.method(console, "error", (...args: unknown[]) => logged.resolve(args));
    const { serve } = await import("../../src/server/serve.js");
    const bare = await serve(
      () => {
        throw new Error("logged failure");
      },
      { host: "127.0.0.1", port: 0 },
    );
    try {
      const response = await httpRequest(`http://127.0.0.1:${bare.port}/x`);
      assert.equal(response.status, 500);
      const args = await withTimeout(logged.promise, 2000, "the error log");
      assert.match(String(args[0]), /GET \/x/);
      assert.match(String(args[1]), /logged failure/);
    } finally {
      errorLog.mock.restore();
      await bare.close();
    }
  });
});
