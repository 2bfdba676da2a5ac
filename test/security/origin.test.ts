// The origin policy over real sockets: raw HTTP/1.1 requests with a foreign Origin, with
// "null", with none and with the server's own; the same on a HandlerHost mounted on the
// application's node:http server, and over HTTP/2 (RFC 8441). The browser's side is in
// origin-browser.test.ts.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { connectHttp2 } from "../../src/client/http2.js";
import type { WebSocketHandshakeError } from "../../src/client/errors.js";
import type { Cgi } from "../../src/server/cgi.js";
import { HandlerHost } from "../../src/server/handler.js";
import { HttpError } from "../../src/server/http-error.js";
import { serve } from "../../src/server/serve.js";
import { makeCertificate, openssl, type Certificate } from "../helpers/tls-certificate.js";
import { httpRequest } from "../helpers/http.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { upgrade } from "./requests.js";

/** A handler that accepts every WebSocket and records the origins it saw. */
function recordingHandler(seen: string[]) {
  return (cgi: Cgi): void => {
    if (!cgi.websocketRequested()) {
      cgi.write("page\n", true);
      return;
    }
    seen.push(cgi.origin);
    cgi.acceptWebsocket().close(1000);
  };
}

describe("serve() with the default policy", () => {
  const seen: string[] = [];
  let server: TestServer;
  before(async () => {
    server = await startServer(recordingHandler(seen));
  });
  after(() => server?.close());

  test("a foreign Origin gets 403 naming the option to set, and the handler never runs", async () => {
    seen.length = 0;
    const answer = await upgrade(server.port, { origin: "http://evil.example" });
    assert.equal(answer.status, 403);
    assert.match(answer.body, /Origin 'http:\/\/evil\.example' may not open a WebSocket here/);
    assert.match(answer.body, /allowedOrigins/);
    assert.match(answer.body, /own origin is 'http:\/\/127\.0\.0\.1:\d+'/);
    assert.deepEqual(seen, []);
  });

  test("Origin: null (a sandboxed iframe, a file:// page) gets 403 too", async () => {
    const answer = await upgrade(server.port, { origin: "null" });
    assert.equal(answer.status, 403);
    assert.match(answer.body, /allowedOrigins/);
  });

  test("the same host on another port, or over another scheme, is another origin: 403", async () => {
    assert.equal((await upgrade(server.port, { origin: `http://127.0.0.1:${server.port + 1}` })).status, 403);
    assert.equal((await upgrade(server.port, { origin: `https://127.0.0.1:${server.port}` })).status, 403);
    assert.equal((await upgrade(server.port, { origin: `http://localhost:${server.port}` })).status, 403, "localhost is not 127.0.0.1");
  });

  test("no Origin (a program, not a browser) is accepted", async () => {
    seen.length = 0;
    const answer = await upgrade(server.port);
    assert.equal(answer.status, 101);
    answer.socket.destroy();
    assert.deepEqual(seen, [""]);
  });

  test("the server's own origin, as the request reached it, is accepted", async () => {
    seen.length = 0;
    const own = await upgrade(server.port, { origin: `http://127.0.0.1:${server.port}` });
    assert.equal(own.status, 101);
    own.socket.destroy();
    // Reached as localhost: that is its own origin for this request.
    const asLocalhost = await upgrade(server.port, { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` });
    assert.equal(asLocalhost.status, 101);
    asLocalhost.socket.destroy();
    assert.deepEqual(seen, [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]);
  });

  test("X-Forwarded-Host and -Proto are not believed without trustProxy", async () => {
    const answer = await upgrade(server.port, {
      origin: "https://chat.example",
      headers: [
        ["X-Forwarded-Host", "chat.example"],
        ["X-Forwarded-Proto", "https"],
      ],
    });
    assert.equal(answer.status, 403);
  });

  test("plain HTTP requests are not WebSocket requests: no origin check", async () => {
    const response = await httpRequest(`${server.httpUrl}/`, { headers: { Origin: "http://evil.example" } });
    assert.equal(response.status, 200);
  });
});

describe("allowedOrigins and trustProxy on serve()", () => {
  test("a list lets those origins in beside the default's; others still get 403", async () => {
    const seen: string[] = [];
    const server = await startServer(recordingHandler(seen), { allowedOrigins: ["https://app.example"] });
    try {
      for (const [origin, status] of [
        ["https://app.example", 101],
        [`http://127.0.0.1:${server.port}`, 101],
        ["https://other.example", 403],
        ["null", 403],
      ] as const) {
        const answer = await upgrade(server.port, { origin });
        assert.equal(answer.status, status, origin);
        answer.socket.destroy();
      }
      const none = await upgrade(server.port);
      assert.equal(none.status, 101);
      none.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test('"*" lets every origin through to the handler, which may still check cgi.origin itself', async () => {
    const server = await startServer(
      (cgi) => {
        if (cgi.origin === "http://blocked.example") throw new HttpError(403, "bad origin");
        cgi.acceptWebsocket().close(1000);
      },
      { allowedOrigins: "*" },
    );
    try {
      const anyone = await upgrade(server.port, { origin: "http://anyone.example" });
      assert.equal(anyone.status, 101);
      anyone.socket.destroy();
      const blocked = await upgrade(server.port, { origin: "http://blocked.example" });
      assert.deepEqual([blocked.status, blocked.body], [403, "bad origin\n"]);
    } finally {
      await server.close();
    }
  });

  test("behind a trusted proxy the page's origin is the one the proxy was asked for", async () => {
    const server = await startServer(recordingHandler([]), { trustProxy: true });
    try {
      const headers: Array<[string, string]> = [
        ["X-Forwarded-Host", "chat.example"],
        ["X-Forwarded-Proto", "https"],
      ];
      const proxied = await upgrade(server.port, { origin: "https://chat.example", headers });
      assert.equal(proxied.status, 101);
      proxied.socket.destroy();
      assert.equal((await upgrade(server.port, { origin: "https://evil.example", headers })).status, 403);
    } finally {
      await server.close();
    }
  });
});

describe("HandlerHost mounted on the application's node:http server", () => {
  let app: Server;
  let port: number;
  const seen: string[] = [];
  before(async () => {
    const host = new HandlerHost(recordingHandler(seen));
    app = createServer((_req, res) => res.end("the application's own page\n"));
    app.on("upgrade", host.handleUpgrade);
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    port = (app.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => app.close(() => resolve())));

  test("refuses a foreign Origin with 403, accepts its own and none", async () => {
    seen.length = 0;
    assert.equal((await upgrade(port, { origin: "http://evil.example" })).status, 403);
    assert.equal((await upgrade(port, { origin: "null" })).status, 403);
    const own = await upgrade(port, { origin: `http://127.0.0.1:${port}` });
    assert.equal(own.status, 101);
    own.socket.destroy();
    const none = await upgrade(port);
    assert.equal(none.status, 101);
    none.socket.destroy();
    assert.deepEqual(seen, [`http://127.0.0.1:${port}`, ""]);
  });
});

describe("HTTP/2 (RFC 8441)", { skip: openssl.skip }, () => {
  let certificate: Certificate;
  const seen: string[] = [];
  let close: () => Promise<void>;
  let url: string;
  before(async () => {
    certificate = makeCertificate();
    const server = await serve(recordingHandler(seen), { tls: { cert: certificate.cert, key: certificate.key }, http2: true, host: "127.0.0.1", port: 0 });
    url = server.url;
    close = () => server.close();
  });
  after(async () => {
    await close?.();
    certificate?.remove();
  });

  test("an extended CONNECT from a foreign origin gets 403 on its stream; the server's own origin and none get in", async () => {
    seen.length = 0;
    const refused = await connectHttp2(url, { ca: certificate.cert, origin: "https://evil.example" }).then(
      () => assert.fail("a foreign origin must be refused"),
      (error: unknown) => error as WebSocketHandshakeError,
    );
    assert.equal(refused.status, 403);
    const own = new URL(url.replace("wss:", "https:")).origin;
    for (const origin of [own, undefined]) {
      const socket = await connectHttp2(url, { ca: certificate.cert, ...(origin ? { origin } : {}) });
      await socket.closed;
    }
    assert.deepEqual(seen, [own, ""]);
  });
});
