// WebSocketServer of hawser/ws: how it is set up, what it emits and how it answers
// handshakes, as a program written for `ws` expects.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, get, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { RawClient } from "../helpers/raw-client.js";
import { textOf } from "../../src/ws/data.js";
import { closeOf, listen, messages, next, open, pair, shutdown, WebSocket, WebSocketServer } from "./helpers.js";

const ONE_OF = /^TypeError: One and only one of the "port", "server", or "noServer" options must be specified$/;

describe("constructing a server", () => {
  test("exactly one of port, server and noServer is required", () => {
    const server = createServer();
    for (const options of [{}, { port: 0, noServer: true }, { port: 0, server }, { noServer: true, server }]) {
      assert.throws(
        () => new WebSocketServer(options),
        (error: Error) => ONE_OF.test(String(error)),
      );
    }
  });

  test("with a port it listens, answers plain HTTP with 426, and reports its address", async () => {
    let called = false;
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" }, () => (called = true));
    await next(wss, "listening");
    assert.equal(called, true, "the callback is a 'listening' listener");
    const address = wss.address() as AddressInfo;
    assert.equal(address.address, "127.0.0.1");
    assert.equal(wss.options.port, 0, "options are exposed");
    const response = await new Promise<IncomingMessage>((resolve) => get(`http://127.0.0.1:${address.port}/`, resolve));
    let body = "";
    for await (const chunk of response) body += chunk;
    assert.equal(response.statusCode, 426);
    assert.equal(body, "Upgrade Required");
    await shutdown(wss);
    assert.equal(wss.address(), null, "no address once closed");
  });

  test("a port in use is reported as an 'error' event", async () => {
    const { wss, port } = await listen();
    const second = new WebSocketServer({ port, host: "127.0.0.1" });
    const [error] = await next<[NodeJS.ErrnoException]>(second, "error");
    assert.equal(error.code, "EADDRINUSE");
    await shutdown(wss);
  });

  test("address() throws in noServer mode", () => {
    const wss = new WebSocketServer({ noServer: true });
    assert.throws(() => wss.address(), /The server is operating in "noServer" mode/);
  });
});

describe("accepting connections", () => {
  test("'connection' gives the socket and the upgrade request; clients tracks open sockets", async () => {
    const { wss, url } = await listen();
    const accepted = next<[WebSocket, IncomingMessage]>(wss, "connection");
    const client = new WebSocket(`${url}/room?x=1`, { headers: { "X-Token": "t0k" } });
    const [socket, req] = await accepted;
    assert.ok(socket instanceof WebSocket);
    assert.equal(req.url, "/room?x=1");
    assert.equal(req.headers["x-token"], "t0k");
    assert.equal(wss.clients.size, 1);
    assert.ok(wss.clients.has(socket));
    const serverSideClosed = next(socket, "close");
    client.close();
    await serverSideClosed;
    assert.equal(wss.clients.size, 0, "a closed socket leaves clients before its close listeners run");
    await shutdown(wss);
  });

  test("clientTracking: false leaves clients undefined", async () => {
    const { wss, client, server } = await pair({ clientTracking: false });
    assert.equal(wss.clients, undefined);
    client.terminate();
    await next(server, "close");
    await shutdown(wss);
  });

  test("the WebSocket option makes the server hand out a subclass", async () => {
    class Tagged extends WebSocket {
      get tag(): string {
        return "tagged";
      }
    }
    const { wss, client, server } = await pair({ WebSocket: Tagged });
    assert.ok(server instanceof Tagged);
    assert.equal((server as Tagged).tag, "tagged");
    client.close();
    await shutdown(wss);
  });

  test("'headers' lets a listener add response headers", async () => {
    const { wss, url } = await listen();
    wss.on("headers", (headers: string[]) => headers.push("Set-Cookie: session=abc"));
    const client = new WebSocket(url);
    const opened = next(client, "open");
    const [response] = await next<[IncomingMessage]>(client, "upgrade");
    assert.equal(response.headers["set-cookie"]?.[0], "session=abc");
    await opened;
    client.close();
    await shutdown(wss);
  });

  test("path and shouldHandle: other paths get 400", async () => {
    const { wss, url } = await listen({ path: "/ws" });
    assert.equal(wss.shouldHandle({ url: "/ws?a=b" } as IncomingMessage), true);
    assert.equal(wss.shouldHandle({ url: "/other" } as IncomingMessage), false);
    const refused = new WebSocket(`${url}/other`);
    const [, response] = await next<[unknown, IncomingMessage]>(refused, "unexpected-response");
    assert.equal(response.statusCode, 400);
    refused.terminate();
    const accepted = await open(`${url}/ws`);
    accepted.close();
    await shutdown(wss);
  });

  test("handleProtocols picks the subprotocol from the offered set; by default the first", async () => {
    const { wss, url } = await listen({ handleProtocols: (protocols: Set<string>) => [...protocols].at(-1) ?? false });
    const client = await open(url, ["chat", "superchat"]);
    assert.equal(client.protocol, "superchat");
    client.close();
    await shutdown(wss);
    const plain = await listen();
    const other = await open(plain.url, ["chat", "superchat"]);
    assert.equal(other.protocol, "chat");
    other.close();
    await shutdown(plain.wss);
  });

  test("handleUpgrade in noServer mode, on a server shared with plain HTTP", async () => {
    const http = createServer((_req, res) => res.end("plain"));
    const wss = new WebSocketServer({ noServer: true });
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url !== "/ws") {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    wss.on("connection", (ws: WebSocket) => ws.send("welcome"));
    const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const [first] = await messages(client, 1);
    assert.equal(textOf(first![0]), "welcome");
    assert.equal(first![1], false);
    client.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  test("handleUpgrade twice with one socket throws", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const thrown = new Promise<Error>((resolve) => {
      http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss.handleUpgrade(req, socket, head, (ws) => ws.close());
        try {
          wss.handleUpgrade(req, socket, head, () => undefined);
        } catch (error) {
          resolve(error as Error);
        }
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    assert.match((await thrown).message, /handleUpgrade\(\) was called more than once with the same socket/);
    await next(client, "close");
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  test("data sent along with the upgrade request reaches the connection's message listener", async () => {
    const { wss, port } = await listen();
    const got = new Promise<string>((resolve) => {
      wss.on("connection", (ws: WebSocket) => ws.on("message", (data) => resolve(textOf(data))));
    });
    const client = await RawClient.connect(port);
    const { upgradeRequest } = await import("../helpers/raw-client.js");
    const { encodeFrame, Op } = await import("../helpers/frames.js");
    client.write(Buffer.concat([Buffer.from(upgradeRequest().text), encodeFrame({ opcode: Op.text, payload: "early" })]));
    assert.equal(await got, "early");
    client.destroy();
    await shutdown(wss);
  });
});

describe("verifyClient", () => {
  test("synchronous: false refuses with 401; info has origin, secure and the request", async () => {
    const seen: Array<{ origin: string; secure: boolean; url: string | undefined }> = [];
    const { wss, url } = await listen({
      verifyClient: (info: { origin: string; secure: boolean; req: IncomingMessage }) => {
        seen.push({ origin: info.origin, secure: info.secure, url: info.req.url });
        return info.origin === "https://good.example";
      },
    });
    const refused = new WebSocket(url, { origin: "https://evil.example" });
    const [error] = await next<[Error]>(refused, "error");
    assert.equal(error.message, "Unexpected server response: 401");
    const accepted = await open(url, [], { origin: "https://good.example" });
    assert.deepEqual(seen, [
      { origin: "https://evil.example", secure: false, url: "/" },
      { origin: "https://good.example", secure: false, url: "/" },
    ]);
    accepted.close();
    await shutdown(wss);
  });

  test("asynchronous: the callback accepts, or refuses with a status, message and headers", async () => {
    const { wss, port, url } = await listen({
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
        setImmediate(() => (info.req.url === "/ok" ? done(true) : done(false, 429, "Slow down", { "Retry-After": "120" })));
      },
    });
    const client = await RawClient.connect(port);
    const { upgradeRequest } = await import("../helpers/raw-client.js");
    client.write(upgradeRequest({ path: "/busy" }).text);
    const response = await client.readHttpResponse();
    assert.equal(response.status, 429);
    assert.equal(response.headers["retry-after"], "120");
    assert.equal(response.body.toString(), "Slow down");
    client.destroy();
    const accepted = await open(`${url}/ok`);
    accepted.close();
    await shutdown(wss);
  });
});

describe("malformed handshakes", () => {
  async function answer(port: number, options: Parameters<typeof import("../helpers/raw-client.js").upgradeRequest>[0]) {
    const { upgradeRequest } = await import("../helpers/raw-client.js");
    const client = await RawClient.connect(port);
    client.write(upgradeRequest(options).text);
    const response = await client.readHttpResponse();
    client.destroy();
    return response;
  }

  test("each gets its status and a message saying what was wrong", async () => {
    const { wss, port } = await listen({ perMessageDeflate: true });
    const cases: Array<[Parameters<typeof answer>[1], number, string]> = [
      [{ upgrade: "h2c" }, 400, "Invalid Upgrade header"],
      [{ key: "short==" }, 400, "Missing or invalid Sec-WebSocket-Key header"],
      [{ version: null }, 400, "Missing or invalid Sec-WebSocket-Version header"],
      [{ version: "12" }, 426, "Missing or invalid Sec-WebSocket-Version header"],
      [{ headers: [["Sec-WebSocket-Protocol", "a;b"]] }, 400, "Invalid Sec-WebSocket-Protocol header"],
      [
        { headers: [["Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=99"]] },
        400,
        "Invalid or unacceptable Sec-WebSocket-Extensions header",
      ],
    ];
    for (const [options, status, message] of cases) {
      const response = await answer(port, options);
      assert.equal(response.status, status, message);
      assert.equal(response.body.toString(), message);
    }
    const version = await answer(port, { version: "7" });
    assert.equal(version.headers["sec-websocket-version"], "13, 8", "the versions spoken are named");
    await shutdown(wss);
  });

  test("version 8 (the draft ws also speaks) is accepted", async () => {
    const { wss, port } = await listen();
    const { client, response } = await RawClient.open(port, { version: "8" });
    assert.equal(response.status, 101);
    client.destroy();
    await shutdown(wss);
  });

  test("'wsClientError' listeners answer malformed requests themselves", async () => {
    const { wss, port } = await listen();
    wss.on("wsClientError", (error: Error, socket: Duplex, req: IncomingMessage) => {
      socket.end(`HTTP/1.1 418 I'm a teapot\r\nX-Why: ${error.message.replace(/ /g, "_")}\r\nX-Method: ${req.method}\r\n\r\n`);
    });
    const response = await answer(port, { method: "POST" });
    assert.equal(response.status, 418);
    assert.equal(response.headers["x-why"], "Invalid_HTTP_method");
    assert.equal(response.headers["x-method"], "POST");
    await shutdown(wss);
  });

  test("an offer of unknown extensions is ignored, and compression is off unless configured", async () => {
    const { wss, port } = await listen();
    const connected = next<[WebSocket, IncomingMessage]>(wss, "connection");
    const { client, response } = await RawClient.open(port, { headers: [["Sec-WebSocket-Extensions", "permessage-deflate, x-custom; a=1"]] });
    assert.equal(response.headers["sec-websocket-extensions"], undefined);
    const [socket] = await connected;
    assert.equal(socket.extensions, "");
    client.destroy();
    await shutdown(wss);
  });
});

describe("closing the server", () => {
  test("close(cb) stops accepting, leaves open sockets open, and calls back once they are gone (outside server)", async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const wss = new WebSocketServer({ server: http });
    const accepted = next<[WebSocket]>(wss, "connection");
    const client = await open(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const [socket] = await accepted;
    let closed = false;
    wss.close(() => (closed = true));
    assert.equal(http.listenerCount("upgrade"), 0, "its listeners leave the outside server");
    client.send("still open");
    const [received] = await messages(socket, 1);
    assert.equal(textOf(received![0]), "still open");
    assert.equal(closed, false, "not closed while a client is connected");
    const done = next(wss, "close");
    client.close();
    await done;
    assert.equal(closed, true);
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  test("a second close() reports that the server is not running; upgrades after close get 503", async () => {
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const error = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    assert.equal(error?.message, "The server is not running");

    const http = createServer();
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => wss.handleUpgrade(req, socket, head, () => undefined));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const [, response] = await next<[unknown, IncomingMessage]>(client, "unexpected-response");
    assert.equal(response.statusCode, 503);
    client.terminate();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  test("closing a server made for a port closes its HTTP server, then emits 'close'", async () => {
    const { wss, client, server } = await pair();
    const serverSideClosed = closeOf(server);
    client.close(4001, "bye");
    assert.deepEqual(await serverSideClosed, { code: 4001, reason: "bye" });
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    assert.equal(wss._server, null);
  });
});
