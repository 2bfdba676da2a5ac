// The client through HTTP proxies: a small CONNECT proxy written here records what it is asked
// and tunnels to a hawser server (serve() on 127.0.0.1). Covers the `proxy` option, HTTP_PROXY /
// HTTPS_PROXY / NO_PROXY from process.env, Proxy-Authorization, refusals (407, 502), a tunnel
// cut mid-handshake, an https:// proxy, redirects choosing the proxy per hop, the WHATWG
// WebSocket and `hawser connect --proxy`.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect as netConnect, createServer as createNetServer, type Socket } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { parseConnectArguments, runConnect } from "../../src/cli/connect.js";
import { echoHandler } from "../../src/cli/echo.js";
import { matchesNoProxy, parseProxyUrl, proxyFor, type ProxyEnvironment, type ProxySettings } from "../../src/client/proxy.js";
import { ClientWebSocket, connect, serve, WebSocketHandshakeError, type ClientConfig, type HawserServer } from "../../src/index.js";
import { WebSocket as WebWebSocket } from "../../src/web.js";
import { waitUntil, withTimeout } from "../helpers/wait.js";
import { makeSelfSignedCertificate, openssl, type SelfSignedCertificate } from "../helpers/tls-certificate.js";

// ---------------------------------------------------------------------------------------------
// Pure: NO_PROXY matching and choosing the proxy.

describe("NO_PROXY matching", () => {
  const table: Array<[host: string, port: number, list: string, expected: boolean]> = [
    ["example.com", 443, "", false],
    ["example.com", 443, "*", true],
    ["10.1.2.3", 80, "foo.test, *", true],
    // A name matches itself and its subdomains, never a longer name that merely ends like it.
    ["example.com", 443, "example.com", true],
    ["ws.example.com", 443, "example.com", true],
    ["a.b.example.com", 443, "example.com", true],
    ["badexample.com", 443, "example.com", false],
    ["example.com.evil.test", 443, "example.com", false],
    // A leading dot (or "*.") changes nothing, as in curl.
    ["example.com", 443, ".example.com", true],
    ["ws.example.com", 443, ".example.com", true],
    ["ws.example.com", 443, "*.example.com", true],
    ["badexample.com", 443, ".example.com", false],
    // Case and a trailing dot do not matter; commas and spaces both separate.
    ["WS.Example.COM", 443, "example.com", true],
    ["ws.example.com.", 443, "EXAMPLE.com.", true],
    ["other.test", 80, "one.test other.test", true],
    ["other.test", 80, " one.test ,, other.test ", true],
    // host:port matches that port only.
    ["example.com", 8080, "example.com:8080", true],
    ["example.com", 8081, "example.com:8080", false],
    ["ws.example.com", 8080, ".example.com:8080", true],
    // IP addresses match addresses, CIDR ranges too; names are never resolved.
    ["127.0.0.1", 80, "127.0.0.1", true],
    ["127.0.0.2", 80, "127.0.0.1", false],
    ["127.0.0.1", 80, "localhost", false],
    ["localhost", 80, "127.0.0.1", false],
    ["10.20.30.40", 80, "10.0.0.0/8", true],
    ["11.0.0.1", 80, "10.0.0.0/8", false],
    ["192.168.7.9", 80, "192.168.0.0/16", true],
    ["192.168.1.1", 3000, "192.168.1.1:3000", true],
    ["192.168.1.1", 3001, "192.168.1.1:3000", false],
    // An IP host is compared as an address, not as a name suffix.
    ["1.0.0.1", 80, "0.0.1", false],
    // IPv6 with or without brackets, ranges, and [v6]:port.
    ["::1", 80, "::1", true],
    ["::1", 80, "[::1]", true],
    ["[::1]", 80, "::1", true],
    ["::1", 8080, "[::1]:8080", true],
    ["::1", 8081, "[::1]:8080", false],
    ["fd00::5", 80, "fd00::/8", true],
    ["fe80::1", 80, "fd00::/8", false],
    ["::2", 80, "::1", false],
    // Loopback is not special: only what is listed bypasses the proxy.
    ["localhost", 80, "example.com", false],
    ["127.0.0.1", 80, "example.com", false],
    ["localhost", 80, "localhost", true],
    // Junk entries are ignored, not fatal.
    ["example.com", 80, "[::1, /8, example.com", true],
  ];
  for (const [host, port, list, expected] of table) {
    test(`${host}:${port} with NO_PROXY=${JSON.stringify(list)}: ${expected ? "direct" : "proxied"}`, () => {
      assert.equal(matchesNoProxy(host, port, list), expected);
    });
  }
});

describe("choosing the proxy for a connection", () => {
  const ws = { secure: false, host: "ws.example.com", port: 80 };
  const wss = { secure: true, host: "ws.example.com", port: 443 };
  const fromEnv: ProxySettings = { proxy: undefined, noProxy: undefined };
  const chosen = (target: typeof ws, settings: ProxySettings, env: ProxyEnvironment): string | null => {
    const proxy = proxyFor(target, settings, env);
    return proxy === null ? null : `${proxy.source} ${proxy.display}`;
  };

  test("ws:// reads http_proxy / HTTP_PROXY, wss:// reads https_proxy / HTTPS_PROXY", () => {
    const env = { HTTP_PROXY: "http://plain:3128", HTTPS_PROXY: "http://secure:3128" };
    assert.equal(chosen(ws, fromEnv, env), "HTTP_PROXY http://plain:3128");
    assert.equal(chosen(wss, fromEnv, env), "HTTPS_PROXY http://secure:3128");
    assert.equal(chosen(ws, fromEnv, { HTTPS_PROXY: "http://secure:3128" }), null);
    assert.equal(chosen(wss, fromEnv, { HTTP_PROXY: "http://plain:3128" }), null);
    assert.equal(chosen(ws, fromEnv, {}), null);
  });

  test("the lower-case name wins, as in curl; empty values count as unset", () => {
    assert.equal(chosen(ws, fromEnv, { http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2" }), "http_proxy http://lower:1");
    assert.equal(chosen(wss, fromEnv, { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:2" }), "https_proxy http://lower:1");
    assert.equal(chosen(ws, fromEnv, { http_proxy: "", HTTP_PROXY: "http://upper:2" }), "HTTP_PROXY http://upper:2");
    assert.equal(chosen(ws, fromEnv, { http_proxy: " " }), null);
  });

  test("under CGI (REQUEST_METHOD set) HTTP_PROXY is ignored: a request's Proxy: header can set it (httpoxy)", () => {
    assert.equal(chosen(ws, fromEnv, { REQUEST_METHOD: "GET", HTTP_PROXY: "http://attacker:80" }), null);
    assert.equal(chosen(ws, fromEnv, { REQUEST_METHOD: "GET", http_proxy: "http://mine:3128" }), "http_proxy http://mine:3128");
  });

  test("NO_PROXY (or no_proxy, which wins) exempts hosts; the noProxy option replaces both", () => {
    const env = { HTTP_PROXY: "http://p:3128", NO_PROXY: "example.com" };
    assert.equal(chosen(ws, fromEnv, env), null);
    assert.equal(chosen(ws, fromEnv, { ...env, no_proxy: "other.test" }), "HTTP_PROXY http://p:3128");
    assert.equal(chosen(ws, { proxy: undefined, noProxy: "" }, env), "HTTP_PROXY http://p:3128");
    assert.equal(chosen(ws, { proxy: undefined, noProxy: "ws.example.com" }, { HTTP_PROXY: "http://p:3128" }), null);
  });

  test("an explicit proxy beats the environment, still minus NO_PROXY (curl's rule); proxy false ignores both", () => {
    const explicit = parseProxyUrl("http://mine:8080", "config.proxy");
    const env = { HTTP_PROXY: "http://env:3128", HTTPS_PROXY: "http://env:3128" };
    assert.equal(chosen(ws, { proxy: explicit, noProxy: undefined }, env), "config.proxy http://mine:8080");
    assert.equal(chosen(wss, { proxy: explicit, noProxy: undefined }, env), "config.proxy http://mine:8080");
    assert.equal(chosen(ws, { proxy: explicit, noProxy: undefined }, { NO_PROXY: ".example.com" }), null);
    assert.equal(chosen(ws, { proxy: false, noProxy: undefined }, env), null);
  });

  test("ws+unix: never goes through a proxy", () => {
    assert.equal(proxyFor({ secure: false, host: "localhost", port: 0, socketPath: "/tmp/s" }, fromEnv, { HTTP_PROXY: "http://p:1" }), null);
  });

  test("proxy URLs: credentials become Basic authorization, default ports, no scheme means http://", () => {
    const proxy = parseProxyUrl("http://us%3Aer:p%40ss%20word@proxy.test:3128", "config.proxy");
    assert.equal(proxy.authorization, `Basic ${Buffer.from("us:er:p@ss word").toString("base64")}`);
    assert.equal(proxy.display, "http://proxy.test:3128", "credentials never appear in messages");
    assert.deepEqual([proxy.secure, proxy.host, proxy.port], [false, "proxy.test", 3128]);
    assert.equal(parseProxyUrl("http://proxy.test", "x").port, 80);
    assert.equal(parseProxyUrl("https://proxy.test", "x").port, 443);
    assert.equal(parseProxyUrl("https://proxy.test", "x").secure, true);
    assert.equal(parseProxyUrl("proxy.test:3128", "x").display, "http://proxy.test:3128");
    assert.deepEqual(parseProxyUrl("http://[::1]:3128", "x").host, "::1");
    assert.equal(parseProxyUrl("http://user@p:1", "x").authorization, `Basic ${Buffer.from("user:").toString("base64")}`);
    assert.equal(parseProxyUrl("http://p:1", "x").authorization, undefined);
  });

  test("unusable proxy URLs throw, naming where they came from and without the password", () => {
    assert.throws(
      () => parseProxyUrl("socks5://u:secret@p:1080", "HTTPS_PROXY"),
      (error: Error) => {
        assert.match(error.message, /^HTTPS_PROXY names a socks5:\/\/ proxy .*HTTP proxies only/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
    assert.throws(() => parseProxyUrl("http://bad host:1", "config.proxy"), /^TypeError: config\.proxy is not a proxy URL/);
    assert.throws(() => new ClientWebSocket("ws://x.test/", { proxy: "ftp://p:21" }), /config\.proxy names a ftp:\/\/ proxy/);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end through a CONNECT proxy written here.

interface ProxyRequest {
  method: string;
  /** The request target: "host:port" for CONNECT. */
  target: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
}

type ProxyBehaviour =
  | { kind: "tunnel" }
  | { kind: "refuse"; status: number; statusText: string; headers?: string }
  /** Answers 200, then cuts both sides as soon as the client sends its first bytes. */
  | { kind: "cut" }
  /** Accepts the CONNECT and never answers. */
  | { kind: "silent" };

interface TestProxy {
  readonly url: string;
  readonly port: number;
  readonly requests: ProxyRequest[];
  behaviour: ProxyBehaviour;
  /** Sockets of the proxy (both sides of tunnels) not yet closed. */
  openSockets(): number;
  close(): Promise<void>;
}

/**
 * An HTTP proxy that only does CONNECT (RFC 9110 section 9.3.6). Every host name leads to
 * 127.0.0.1, so tests can name targets freely ("echo.test", "localhost" for the certificate)
 * and see that the client hands the name, not an address, to the proxy.
 */
async function startProxy(tls?: SelfSignedCertificate): Promise<TestProxy> {
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }) : createHttpServer();
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("close", () => sockets.delete(socket));
  };
  const proxy: TestProxy = {
    url: "",
    port: 0,
    requests: [],
    behaviour: { kind: "tunnel" },
    openSockets: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on("request", (request: IncomingMessage, response) => {
    proxy.requests.push({ method: request.method ?? "", target: request.url ?? "", httpVersion: request.httpVersion, headers: request.headers });
    response.writeHead(405, { Allow: "CONNECT", Connection: "close" }).end();
  });
  server.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
    track(client);
    proxy.requests.push({ method: request.method ?? "", target: request.url ?? "", httpVersion: request.httpVersion, headers: request.headers });
    const behaviour = proxy.behaviour;
    if (behaviour.kind === "refuse") {
      const body = `${behaviour.status} from the test proxy`;
      client.end(
        `HTTP/1.1 ${behaviour.status} ${behaviour.statusText}\r\n${behaviour.headers ?? ""}` +
          `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    if (behaviour.kind === "silent") {
      // Read, so the client's FIN is seen (node:http's sockets allow half-open connections).
      client.resume();
      client.once("end", () => client.destroy());
      return;
    }
    const port = Number(/:(\d+)$/.exec(request.url ?? "")?.[1]);
    const upstream = netConnect(port, "127.0.0.1");
    track(upstream);
    upstream.once("error", () => client.destroy());
    upstream.once("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (behaviour.kind === "cut") {
        client.once("data", () => {
          client.destroy();
          upstream.destroy();
        });
        return;
      }
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(proxy, { port, url: `${tls ? "https" : "http"}://127.0.0.1:${port}` });
}

/** A hawser echo server (the seed's handler) that records each request's headers. */
interface EchoTarget {
  readonly server: HawserServer;
  readonly port: number;
  readonly seen: IncomingHttpHeaders[];
}

async function startEcho(tls?: SelfSignedCertificate): Promise<EchoTarget> {
  const seen: IncomingHttpHeaders[] = [];
  const echo = echoHandler();
  const server = await serve(
    (cgi) => {
      seen.push(cgi.headers);
      return echo(cgi);
    },
    { host: "127.0.0.1", port: 0, pingIntervalMs: 0, ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}) },
  );
  return { server, port: server.port, seen };
}

/** A plain TCP server answering every request with a redirect to `location()`. */
async function startRedirector(location: () => string): Promise<{ port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (!received.includes("\r\n\r\n")) return;
      hits++;
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    hits: () => hits,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const PROXY_VARIABLES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"];

/** Runs `body` with these proxy variables in process.env (and no others), then restores them. */
async function withEnvironment<T>(variables: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = new Map(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    return await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Connects, checks the seed's greeting and one echo, closes cleanly. */
async function echoRoundTrip(url: string, config: ClientConfig): Promise<void> {
  const socket = await connect(url, { pingFrequency: 0, ...config });
  assert.equal((await socket.recv()).textData, "hello");
  assert.equal((await socket.recv()).textData, " world!");
  socket.send("through the tunnel");
  assert.equal((await socket.recv()).textData, "through the tunnel");
  socket.close();
  assert.equal((await socket.closed).wasClean, true);
}

async function connectError(url: string, config: ClientConfig): Promise<WebSocketHandshakeError> {
  const socket = new ClientWebSocket(url, { pingFrequency: 0, ...config });
  const errors: Error[] = [];
  socket.onerror = (error) => errors.push(error);
  const error = await withTimeout(
    socket.connect().then(
      () => null,
      (e: unknown) => e,
    ),
    5000,
    "connect() to fail",
  );
  assert.ok(error instanceof WebSocketHandshakeError, `expected a WebSocketHandshakeError, got ${String(error)}`);
  const closed = await socket.closed;
  assert.deepEqual([closed.code, closed.wasClean], [1006, false]);
  assert.deepEqual(errors, [error], "onerror reports the same error once");
  return error;
}

describe("the client through an HTTP CONNECT proxy", () => {
  let proxy: TestProxy;
  let echo: EchoTarget;
  /** A port where nothing listens. */
  let deadPort: number;

  before(async () => {
    proxy = await startProxy();
    echo = await startEcho();
    const dead = createNetServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
  });
  after(async () => {
    await echo?.server.close();
    await proxy?.close();
  });

  const reset = (behaviour: ProxyBehaviour = { kind: "tunnel" }): void => {
    proxy.requests.length = 0;
    echo.seen.length = 0;
    proxy.behaviour = behaviour;
  };

  test("ws:// with the proxy option: CONNECT host:port HTTP/1.1 with Host, then the handshake in the tunnel", async () => {
    reset();
    await withEnvironment({}, () => echoRoundTrip(`ws://echo.test:${echo.port}/chat`, { proxy: proxy.url }));
    assert.equal(proxy.requests.length, 1);
    const [request] = proxy.requests;
    assert.deepEqual([request!.method, request!.target, request!.httpVersion], ["CONNECT", `echo.test:${echo.port}`, "1.1"]);
    assert.equal(request!.headers.host, `echo.test:${echo.port}`);
    assert.equal(request!.headers["proxy-authorization"], undefined);
    // The server got the WebSocket request through the tunnel, addressed to the name.
    assert.equal(echo.seen.length, 1);
    assert.equal(echo.seen[0]!.host, `echo.test:${echo.port}`);
    await waitUntil(() => proxy.openSockets() === 0, 2000, "the proxy's tunnel sockets to close");
  });

  test("credentials in the proxy URL go to the proxy as Proxy-Authorization: Basic, and not to the server", async () => {
    reset();
    await withEnvironment({}, () => echoRoundTrip(`ws://echo.test:${echo.port}/`, { proxy: `http://alice:s%3Acr%40t@127.0.0.1:${proxy.port}` }));
    assert.equal(proxy.requests[0]!.headers["proxy-authorization"], `Basic ${Buffer.from("alice:s:cr@t").toString("base64")}`);
    assert.equal(echo.seen[0]!["proxy-authorization"], undefined);
  });

  test("the userAgent goes to the proxy too", async () => {
    reset();
    await withEnvironment({}, () => echoRoundTrip(`ws://echo.test:${echo.port}/`, { proxy: proxy.url, userAgent: "hawser-test/1" }));
    assert.equal(proxy.requests[0]!.headers["user-agent"], "hawser-test/1");
  });

  test("HTTP_PROXY from the environment carries ws:// (HTTPS_PROXY is for wss:// only)", async () => {
    reset();
    await withEnvironment({ HTTP_PROXY: proxy.url, HTTPS_PROXY: `http://127.0.0.1:${deadPort}` }, () => echoRoundTrip(`ws://echo.test:${echo.port}/`, {}));
    assert.deepEqual(
      proxy.requests.map((request) => request.target),
      [`echo.test:${echo.port}`],
    );
  });

  test("NO_PROXY listing the host connects directly; so does proxy: false", async () => {
    reset();
    await withEnvironment({ HTTP_PROXY: `http://127.0.0.1:${deadPort}`, NO_PROXY: "example.org, 127.0.0.1" }, () =>
      echoRoundTrip(`ws://127.0.0.1:${echo.port}/`, {}),
    );
    await withEnvironment({ HTTP_PROXY: `http://127.0.0.1:${deadPort}` }, () => echoRoundTrip(`ws://127.0.0.1:${echo.port}/`, { proxy: false }));
    assert.equal(echo.seen.length, 2);
    // Without the exemption the (dead) proxy is used: loopback is not special.
    const error = await withEnvironment({ HTTP_PROXY: `http://127.0.0.1:${deadPort}`, NO_PROXY: "example.org" }, () =>
      connectError(`ws://127.0.0.1:${echo.port}/`, {}),
    );
    assert.equal(error.proxy, `http://127.0.0.1:${deadPort}`);
    assert.equal(error.code, "ECONNREFUSED");
    assert.match(error.message, new RegExp(`through the proxy http://127\\.0\\.0\\.1:${deadPort} \\(from HTTP_PROXY\\)`));
    assert.equal(echo.seen.length, 2);
  });

  test("a proxy answering 407 fails the connection with the proxy's status, saying it was the proxy", async () => {
    reset({ kind: "refuse", status: 407, statusText: "Proxy Authentication Required", headers: 'Proxy-Authenticate: Basic realm="test"\r\n' });
    const error = await withEnvironment({}, () => connectError(`ws://echo.test:${echo.port}/`, { proxy: `http://bob:hunter2@127.0.0.1:${proxy.port}` }));
    assert.equal(error.status, 407);
    assert.equal(error.statusText, "Proxy Authentication Required");
    assert.equal(error.headers["proxy-authenticate"], 'Basic realm="test"');
    assert.equal(error.proxy, proxy.url);
    assert.match(
      error.message,
      /^The proxy http:\/\/127\.0\.0\.1:\d+ \(from config\.proxy\) refused to open a tunnel to echo\.test:\d+: HTTP 407 Proxy Authentication Required\. The proxy did not accept the credentials/,
    );
    assert.doesNotMatch(error.message, /hunter2/);
    assert.equal(echo.seen.length, 0);

    const anonymous = await withEnvironment({}, () => connectError(`ws://echo.test:${echo.port}/`, { proxy: proxy.url }));
    assert.equal(anonymous.status, 407);
    assert.match(anonymous.message, /wants credentials: put them in the proxy URL/);
    await waitUntil(() => proxy.openSockets() === 0, 2000, "the proxy's sockets to close");
  });

  test("a proxy answering 502 (it could not reach the server) fails with 502 and the proxy named", async () => {
    reset({ kind: "refuse", status: 502, statusText: "Bad Gateway" });
    const error = await withEnvironment({ HTTP_PROXY: proxy.url }, () => connectError(`ws://unreachable.test:${echo.port}/`, {}));
    assert.equal(error.status, 502);
    assert.equal(error.proxy, proxy.url);
    assert.equal(error.url, `ws://unreachable.test:${echo.port}/`);
    assert.match(
      error.message,
      /^The proxy http:\/\/127\.0\.0\.1:\d+ \(from HTTP_PROXY\) refused to open a tunnel to unreachable\.test:\d+: HTTP 502 Bad Gateway\./,
    );
    assert.equal(error.body, "502 from the test proxy");
  });

  test("a proxy cutting the tunnel mid-handshake: a clean error, nothing left open", async () => {
    reset({ kind: "cut" });
    const error = await withEnvironment({}, () => connectError(`ws://echo.test:${echo.port}/`, { proxy: proxy.url }));
    assert.match(
      error.message,
      new RegExp(`^Could not connect to ws://echo\\.test:${echo.port}/ through the proxy http://127\\.0\\.0\\.1:${proxy.port}: socket hang up`),
    );
    assert.equal(error.status, undefined);
    assert.equal(proxy.requests.length, 1);
    await waitUntil(() => proxy.openSockets() === 0, 2000, "the proxy's sockets to close");
  });

  test("a proxy that never answers the CONNECT: handshakeTimeoutMs ends the attempt", async () => {
    reset({ kind: "silent" });
    const started = Date.now();
    const error = await withEnvironment({}, () => connectError(`ws://echo.test:${echo.port}/`, { proxy: proxy.url, handshakeTimeoutMs: 300 }));
    assert.equal(error.code, "ETIMEDOUT");
    assert.ok(Date.now() - started < 3000);
    await waitUntil(() => proxy.openSockets() === 0, 2000, "the proxy's socket to close once the client gave up");
  });

  test("a bad proxy URL in the environment fails the connection, naming the variable", async () => {
    reset();
    const error = await withEnvironment({ HTTP_PROXY: "socks5://127.0.0.1:1080" }, () => connectError(`ws://echo.test:${echo.port}/`, {}));
    assert.match(error.message, /HTTP_PROXY names a socks5:\/\/ proxy/);
  });

  test("redirects choose the proxy again for each hop (NO_PROXY in, and out)", async () => {
    // Hop 1 direct (NO_PROXY lists 127.0.0.1), hop 2 to a name, through the proxy.
    reset();
    const toName = await startRedirector(() => `ws://echo.test:${echo.port}/after`);
    try {
      await withEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }, () =>
        echoRoundTrip(`ws://127.0.0.1:${toName.port}/before`, { followRedirects: true }),
      );
      assert.equal(toName.hits(), 1);
      assert.deepEqual(
        proxy.requests.map((request) => request.target),
        [`echo.test:${echo.port}`],
      );
    } finally {
      await toName.close();
    }
    // Hop 1 through the proxy, hop 2 to 127.0.0.1, which NO_PROXY sends direct.
    reset();
    const toAddress = await startRedirector(() => `ws://127.0.0.1:${echo.port}/after`);
    try {
      await withEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }, () =>
        echoRoundTrip(`ws://redirect.test:${toAddress.port}/before`, { followRedirects: true }),
      );
      assert.equal(toAddress.hits(), 1);
      assert.deepEqual(
        proxy.requests.map((request) => request.target),
        [`redirect.test:${toAddress.port}`],
      );
      assert.equal(echo.seen[0]!.host, `127.0.0.1:${echo.port}`);
    } finally {
      await toAddress.close();
    }
  });

  test("the WHATWG WebSocket (hawser/web) uses the environment's proxy, as a browser uses the system's", async () => {
    reset();
    const received = await withEnvironment({ HTTP_PROXY: proxy.url }, async () => {
      const socket = new WebWebSocket(`ws://echo.test:${echo.port}/`, [], { pingFrequency: 0 });
      const messages: string[] = [];
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.onerror = () => reject(new Error("the WebSocket failed"));
          socket.onmessage = (event) => {
            messages.push((event as MessageEvent).data as string);
            if (messages.length === 2) socket.close();
          };
          socket.onclose = () => resolve();
        }),
        5000,
        "the WHATWG WebSocket to open, receive and close",
      );
      return messages;
    });
    assert.deepEqual(received, ["hello", " world!"]);
    assert.deepEqual(
      proxy.requests.map((request) => request.target),
      [`echo.test:${echo.port}`],
    );
  });

  test("hawser connect --proxy URL (and --proxy '' / --noproxy)", async () => {
    const parsed = parseConnectArguments(["ws://x.test/", "--proxy", "http://p.test:3128", "--noproxy", "a.test,b.test"]);
    assert.ok(parsed !== "help");
    assert.equal(parsed.config.proxy, "http://p.test:3128");
    assert.equal(parsed.config.noProxy, "a.test,b.test");
    const direct = parseConnectArguments(["ws://x.test/", "--proxy", ""]);
    assert.ok(direct !== "help");
    assert.equal(direct.config.proxy, false);

    reset();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = "";
    let err = "";
    stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const status = await withEnvironment({}, () =>
      withTimeout(
        runConnect([`ws://echo.test:${echo.port}/`, "--proxy", proxy.url, "--ping", "0", "--wait", "0.2"], {
          stdin: Readable.from(["over the proxy\n"]),
          stdout,
          stderr,
          interactive: false,
        }),
        5000,
        "hawser connect to finish",
      ),
    );
    assert.equal(status, 0, err);
    assert.equal(out, "hello\n world!\nover the proxy\n");
    assert.deepEqual(
      proxy.requests.map((request) => request.target),
      [`echo.test:${echo.port}`],
    );
  });
});

describe("wss:// through a proxy, and https:// proxies", { skip: openssl.skip }, () => {
  let certificate: SelfSignedCertificate;
  let proxy: TestProxy;
  let tlsProxy: TestProxy;
  let echo: EchoTarget;

  before(async () => {
    openssl.assertAvailable();
    certificate = makeSelfSignedCertificate();
    proxy = await startProxy();
    tlsProxy = await startProxy(certificate);
    echo = await startEcho(certificate);
  });
  after(async () => {
    await echo?.server.close();
    await proxy?.close();
    await tlsProxy?.close();
  });

  // The certificate names DNS:localhost only: the check passes only if TLS inside the tunnel
  // is checked against the target's name, not the proxy's 127.0.0.1.
  const target = (): string => `wss://localhost:${echo.port}/`;

  test("wss:// with the proxy option: TLS with the target inside the tunnel", async () => {
    proxy.requests.length = 0;
    proxy.behaviour = { kind: "tunnel" };
    await withEnvironment({}, () => echoRoundTrip(target(), { proxy: proxy.url, ca: certificate.cert }));
    assert.deepEqual(
      proxy.requests.map((request) => [request.method, request.target]),
      [["CONNECT", `localhost:${echo.port}`]],
    );
  });

  test("wss:// through HTTPS_PROXY (HTTP_PROXY is for ws:// only); the target's certificate is still checked", async () => {
    proxy.requests.length = 0;
    await withEnvironment({ HTTPS_PROXY: proxy.url, HTTP_PROXY: "http://127.0.0.1:9" }, () => echoRoundTrip(target(), { ca: certificate.cert }));
    assert.deepEqual(
      proxy.requests.map((request) => request.target),
      [`localhost:${echo.port}`],
    );

    const untrusted = await withEnvironment({ HTTPS_PROXY: proxy.url }, () => connectError(target(), {}));
    assert.equal(untrusted.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
    assert.match(untrusted.message, /through the proxy/);
  });

  test("a proxy cutting the tunnel during the TLS handshake: a clean error, nothing left open", async () => {
    proxy.requests.length = 0;
    proxy.behaviour = { kind: "cut" };
    try {
      const error = await withEnvironment({}, () => connectError(target(), { proxy: proxy.url, ca: certificate.cert }));
      assert.match(error.message, /^Could not connect to wss:\/\/localhost:\d+\/ through the proxy http:\/\/127\.0\.0\.1:\d+: /);
      assert.equal(error.status, undefined);
      await waitUntil(() => proxy.openSockets() === 0, 2000, "the proxy's sockets to close");
    } finally {
      proxy.behaviour = { kind: "tunnel" };
    }
  });

  test("an https:// proxy: TLS to the proxy (trusted through proxyTls), CONNECT inside, TLS to the target inside that", async () => {
    tlsProxy.requests.length = 0;
    // The proxy's address is 127.0.0.1; its certificate names localhost, hence the servername.
    const tlsProxyUrl = `https://127.0.0.1:${tlsProxy.port}`;
    const proxyTls = { ca: certificate.cert, servername: "localhost" };
    await withEnvironment({}, () => echoRoundTrip(target(), { proxy: tlsProxyUrl, proxyTls, ca: certificate.cert }));
    assert.equal(tlsProxy.requests[0]!.target, `localhost:${echo.port}`);

    // The target's `ca` does not vouch for the proxy: without proxyTls the proxy is refused.
    const error = await withEnvironment({}, () => connectError(target(), { proxy: tlsProxyUrl, ca: certificate.cert, proxyTls: { servername: "localhost" } }));
    assert.equal(error.proxy, tlsProxyUrl);
    assert.equal(error.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
    await waitUntil(() => tlsProxy.openSockets() === 0, 2000, "the TLS proxy's sockets to close");
  });

  test("an https:// proxy cutting the tunnel during the inner TLS handshake: a clean error, nothing left open", async () => {
    tlsProxy.behaviour = { kind: "cut" };
    try {
      const error = await withEnvironment({}, () =>
        connectError(target(), { proxy: tlsProxy.url, proxyTls: { ca: certificate.cert, servername: "localhost" }, ca: certificate.cert }),
      );
      assert.match(error.message, /^Could not connect to wss:\/\/localhost:\d+\/ through the proxy https:\/\/127\.0\.0\.1:\d+: /);
      await waitUntil(() => tlsProxy.openSockets() === 0, 2000, "the TLS proxy's sockets to close");
    } finally {
      tlsProxy.behaviour = { kind: "tunnel" };
    }
  });
});
