// The hawser/ws client: its constructor's options, the handshake's events, and how a failed
// handshake is reported, as a program written for `ws` expects.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, Agent, type ClientRequest, type IncomingMessage, type Server } from "node:http";
import { connect as netConnect, type AddressInfo, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createServer as createHttpsServer } from "node:https";
import { expectedAccept } from "../helpers/raw-client.js";
import { makeSelfSignedCertificate, openssl } from "../helpers/tls-certificate.js";
import { closeOf, listen, next, open, shutdown, WebSocket, WebSocketServer } from "./helpers.js";

/** An HTTP server whose upgrade requests a test answers by hand. */
let http: Server;
let httpPort: number;
before(async () => {
  http = createServer();
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  httpPort = (http.address() as AddressInfo).port;
});
after(async () => {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

function answerNextUpgrade(respond: (req: IncomingMessage, socket: Socket) => void): void {
  http.once("upgrade", respond);
}

function accept101(req: IncomingMessage, extra = ""): string {
  return (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${expectedAccept(String(req.headers["sec-websocket-key"]))}\r\n${extra}\r\n`
  );
}

describe("the constructor", () => {
  test("a bad URL, subprotocol list or protocol version throws at once", () => {
    assert.throws(() => new WebSocket("not a url"), { name: "SyntaxError", message: "Invalid URL: not a url" });
    assert.throws(() => new WebSocket("ftp://example.com"), { name: "SyntaxError", message: /The URL's protocol must be one of/ });
    assert.throws(() => new WebSocket("ws://example.com/#frag"), { name: "SyntaxError", message: "The URL contains a fragment identifier" });
    assert.throws(() => new WebSocket("ws://example.com", ["a", "a"]), { name: "SyntaxError", message: "An invalid or duplicated subprotocol was specified" });
    assert.throws(() => new WebSocket("ws://example.com", { protocolVersion: 1000 }), {
      name: "RangeError",
      message: "Unsupported protocol version: 1000 (supported versions: 8, 13)",
    });
  });

  test("starts connecting at once: readyState CONNECTING, url normalized, send throws", async () => {
    const { wss, url } = await listen();
    const ws = new WebSocket(url.replace("ws:", "http:"));
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.url, `${url}/`);
    assert.throws(() => ws.send("early"), { message: "WebSocket is not open: readyState 0 (CONNECTING)" });
    assert.throws(() => ws.ping(), { message: "WebSocket is not open: readyState 0 (CONNECTING)" });
    await next(ws, "open");
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await shutdown(wss);
  });

  test("headers, origin, subprotocols, the offer of compression and the options object as second argument", async () => {
    const { wss, url } = await listen({ perMessageDeflate: true });
    const request = next<[unknown, IncomingMessage]>(wss, "connection");
    const ws = new WebSocket(url, ["json", "text"], { headers: { Authorization: "Bearer x" }, origin: "https://app.example" });
    const [, req] = await request;
    assert.equal(req.headers.authorization, "Bearer x");
    assert.equal(req.headers.origin, "https://app.example");
    assert.equal(req.headers["sec-websocket-protocol"], "json,text");
    assert.equal(req.headers["sec-websocket-extensions"], "permessage-deflate; client_max_window_bits");
    await next(ws, "open");
    assert.equal(ws.protocol, "json");
    assert.equal(ws.extensions, "permessage-deflate");
    ws.close();
    const plain = new WebSocket(url, { perMessageDeflate: false });
    await next(plain, "open");
    assert.equal(plain.extensions, "");
    plain.close();
    await shutdown(wss);
  });

  test("an agent takes the request, and finishRequest may change it before sending", async () => {
    const { wss, url } = await listen();
    // addRequest is how node:http hands a request to its agent (not in Node's typings).
    const agent = new Agent() as Agent & { addRequest(req: ClientRequest, options: object): void };
    let agentUsed = false;
    const addRequest = agent.addRequest.bind(agent);
    agent.addRequest = (req, options) => {
      agentUsed = true;
      addRequest(req, options);
    };
    const request = next<[unknown, IncomingMessage]>(wss, "connection");
    let finishedFor: WebSocket | null = null;
    const ws = new WebSocket(url, {
      agent,
      finishRequest: (req: ClientRequest, socket: WebSocket) => {
        finishedFor = socket;
        req.setHeader("X-Late", "yes");
        req.end();
      },
    });
    assert.equal(finishedFor, ws, "called from the constructor, with the socket");
    const [, req] = await request;
    assert.equal(req.headers["x-late"], "yes");
    assert.equal(agentUsed, true);
    await next(ws, "open");
    ws.close();
    agent.destroy();
    await shutdown(wss);
  });

  test("createConnection opens the connection (the URL's host and port are passed to it)", async () => {
    const { wss, port } = await listen();
    const seen: Array<{ host: unknown; port: unknown }> = [];
    const ws = new WebSocket("ws://example.invalid:81/", {
      createConnection: ((options: { host?: unknown; port?: unknown }) => {
        seen.push({ host: options.host, port: options.port });
        return netConnect({ host: "127.0.0.1", port });
      }) as never,
    });
    await next(ws, "open");
    assert.deepEqual(seen, [{ host: "example.invalid", port: "81" }]);
    ws.close();
    await shutdown(wss);
  });

  test("ws+unix: URLs connect over a Unix socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hawser-ws-ipc-"));
    const path = join(dir, "s.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const wss = new WebSocketServer({ server });
    const request = next<[unknown, IncomingMessage]>(wss, "connection");
    const ws = new WebSocket(`ws+unix:${path}:/chat?room=1`);
    const [, req] = await request;
    assert.equal(req.url, "/chat?room=1");
    await next(ws, "open");
    ws.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("handshake events and failures", () => {
  test("'upgrade' shows the server's answer before 'open'", async () => {
    const { wss, url } = await listen();
    wss.on("headers", (headers: string[]) => headers.push("X-Server: hawser"));
    const ws = new WebSocket(url);
    const order: string[] = [];
    ws.on("upgrade", (res: IncomingMessage) => order.push(`upgrade:${res.headers["x-server"]}`));
    ws.on("open", () => order.push("open"));
    await next(ws, "open");
    assert.deepEqual(order, ["upgrade:hawser", "open"]);
    ws.close();
    await shutdown(wss);
  });

  test("an answer other than 101 is an error 'Unexpected server response: N', then close 1006", async () => {
    answerNextUpgrade((_req, socket) => socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"));
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`);
    const events: string[] = [];
    ws.on("error", (error) => events.push(`error:${error.message}`));
    const closed = closeOf(ws);
    assert.deepEqual(await closed, { code: 1006, reason: "" });
    assert.deepEqual(events, ["error:Unexpected server response: 401"]);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test("with an 'unexpected-response' listener, the response is the program's to read", async () => {
    answerNextUpgrade((_req, socket) => socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nConnection: close\r\n\r\nbanned"));
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`);
    const errors: string[] = [];
    ws.on("error", (error) => errors.push(error.message));
    const [req, res] = await next<[ClientRequest, IncomingMessage]>(ws, "unexpected-response");
    let body = "";
    for await (const chunk of res) body += chunk;
    assert.equal(res.statusCode, 403);
    assert.equal(body, "banned");
    assert.equal(typeof req.getHeader, "function");
    assert.deepEqual(errors, [], "no error while a listener handles the response");
    assert.equal(ws.readyState, WebSocket.CONNECTING, "nothing is closed for the program");
    const closed = next(ws, "close");
    ws.terminate();
    await closed;
  });

  test("a wrong Sec-WebSocket-Accept or subprotocol fails the handshake with ws's messages", async () => {
    const cases: Array<[(req: IncomingMessage) => string, string[], string]> = [
      [
        () => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n",
        [],
        "Invalid Sec-WebSocket-Accept header",
      ],
      [(req) => accept101(req, "Sec-WebSocket-Protocol: other\r\n"), ["mine"], "Server sent an invalid subprotocol"],
      [(req) => accept101(req), ["mine"], "Server sent no subprotocol"],
      [(req) => accept101(req, "Sec-WebSocket-Protocol: mine\r\n"), [], "Server sent a subprotocol but none was requested"],
      [(req) => accept101(req, "Sec-WebSocket-Extensions: x-unknown\r\n"), [], "Server indicated an extension that was not requested"],
    ];
    for (const [answer, protocols, message] of cases) {
      answerNextUpgrade((req, socket) => socket.write(answer(req)));
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`, protocols);
      const errored = next<[Error]>(ws, "error");
      const closed = closeOf(ws);
      assert.equal((await errored)[0].message, message);
      assert.deepEqual(await closed, { code: 1006, reason: "" });
    }
  });

  test("handshakeTimeout fails a server that never answers", async () => {
    answerNextUpgrade(() => undefined);
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`, { handshakeTimeout: 50 });
    const errored = next<[Error]>(ws, "error");
    const closed = next(ws, "close");
    assert.equal((await errored)[0].message, "Opening handshake has timed out");
    await closed;
  });

  test("close() and terminate() while connecting abandon the attempt with an error and close 1006", async () => {
    for (const method of ["close", "terminate"] as const) {
      answerNextUpgrade(() => undefined);
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`);
      const errored = next<[Error]>(ws, "error");
      const closed = closeOf(ws);
      ws[method]();
      assert.equal(ws.readyState, WebSocket.CLOSING);
      assert.equal((await errored)[0].message, "WebSocket was closed before the connection was established");
      assert.equal((await closed).code, 1006);
    }
  });

  test("a refused connection without an 'error' listener does not crash the process", async () => {
    const ws = new WebSocket("ws://127.0.0.1:1");
    assert.equal((await closeOf(ws)).code, 1006);
  });
});

describe("redirects", () => {
  test("not followed by default: the 3xx is an unexpected response", async () => {
    answerNextUpgrade((_req, socket) => socket.end("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n"));
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`);
    const closed = next(ws, "close");
    const [error] = await next<[Error]>(ws, "error");
    assert.equal(error.message, "Unexpected server response: 302");
    assert.equal(ws._redirects, 0);
    await closed;
  });

  test("followRedirects follows to the new location, emitting 'redirect' with the URL and request", async () => {
    const wss = new WebSocketServer({ noServer: true });
    answerNextUpgrade((_req, socket) => {
      socket.end("HTTP/1.1 302 Found\r\nLocation: /final\r\n\r\n");
      http.once("upgrade", (req: IncomingMessage, upgraded: Socket, head: Buffer) => wss.handleUpgrade(req, upgraded, head, (ws) => ws.send(String(req.url))));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/start`, { followRedirects: true });
    const [url, req] = await next<[string, ClientRequest]>(ws, "redirect");
    assert.equal(url, `ws://127.0.0.1:${httpPort}/final`);
    assert.equal(typeof req.getHeader("sec-websocket-key"), "string");
    const [data] = await next<[Buffer]>(ws, "message");
    assert.equal(String(data), "/final");
    assert.equal(ws.url, `ws://127.0.0.1:${httpPort}/final`);
    assert.equal(ws._redirects, 1);
    ws.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  test("maxRedirects bounds them: 'Maximum redirects exceeded'", async () => {
    const loop = (_req: IncomingMessage, socket: Socket): void => {
      socket.end("HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\n\r\n");
    };
    http.on("upgrade", loop);
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`, { followRedirects: true, maxRedirects: 2 });
    const closed = next(ws, "close");
    const [error] = await next<[Error]>(ws, "error");
    await closed;
    http.off("upgrade", loop);
    assert.equal(error.message, "Maximum redirects exceeded");
    assert.equal(ws._redirects, 3);
  });

  test("credentials are not carried to another host unless a 'redirect' listener decides", async () => {
    const { wss, port } = await listen();
    const requests: IncomingMessage[] = [];
    wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
      requests.push(req);
      ws.close();
    });
    for (const withListener of [false, true]) {
      answerNextUpgrade((_req, socket) => socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://localhost:${port}/\r\n\r\n`));
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}`, { followRedirects: true, headers: { Authorization: "secret", Cookie: "c=1" } });
      if (withListener) ws.on("redirect", () => undefined);
      await next(ws, "close");
    }
    assert.equal(requests[0]!.headers.authorization, undefined);
    assert.equal(requests[0]!.headers.cookie, undefined);
    assert.equal(requests[1]!.headers.authorization, "secret");
    assert.equal(requests[1]!.headers.cookie, "c=1");
    await shutdown(wss);
  });
});

describe("wss://", { skip: openssl.skip }, () => {
  test("TLS options pass through to the connection: a certificate is refused unless trusted", async () => {
    openssl.assertAvailable();
    const { cert, key } = makeSelfSignedCertificate();
    const https = createHttpsServer({ cert, key });
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    const wss = new WebSocketServer({ server: https });
    wss.on("connection", (ws: WebSocket) => ws.send("secure"));
    const url = `wss://localhost:${(https.address() as AddressInfo).port}`;

    const untrusting = new WebSocket(url);
    const refused = next<[Error & { code?: string }]>(untrusting, "error");
    const refusedClosed = next(untrusting, "close");
    assert.match(String((await refused)[0].code), /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
    await refusedClosed;

    for (const options of [{ ca: cert }, { rejectUnauthorized: false }]) {
      const ws = new WebSocket(url, options);
      const [data] = await next<[Buffer]>(ws, "message");
      assert.equal(String(data), "secure");
      ws.close();
      await next(ws, "close");
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    https.closeAllConnections();
    await new Promise<void>((resolve) => https.close(() => resolve()));
  });
});

describe("the client's own options", () => {
  test("maxPayload: a bigger message fails with 1009 and WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", async () => {
    const { wss, url } = await listen();
    wss.on("connection", (ws: WebSocket) => ws.send(Buffer.alloc(2048)));
    const ws = new WebSocket(url, { maxPayload: 1024 });
    const errored = next<[Error & { code: string }]>(ws, "error");
    const closed = closeOf(ws);
    const [error] = await errored;
    assert.ok(error instanceof RangeError);
    assert.equal(error.code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    assert.equal(error.message, "Max payload size exceeded");
    assert.equal((await closed).code, 1006);
    await shutdown(wss);
  });

  test("generateMask supplies the masking keys", async () => {
    const { wss, url, port } = await listen();
    void port;
    const raw = next<[WebSocket]>(wss, "connection");
    const ws = await open(url, [], { generateMask: (mask: Buffer) => mask.fill(0) });
    const [server] = await raw;
    const chunks: Buffer[] = [];
    server._socket!.prependListener("data", (chunk: Buffer) => chunks.push(chunk));
    ws.send("abc");
    await next(server, "message");
    assert.deepEqual([...Buffer.concat(chunks).subarray(2, 6)], [0, 0, 0, 0], "the key on the wire is the one generated");
    assert.equal(Buffer.concat(chunks).subarray(6, 9).toString(), "abc", "a zero key leaves the payload as it is");
    ws.close();
    await shutdown(wss);
  });
});
