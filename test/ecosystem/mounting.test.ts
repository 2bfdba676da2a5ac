// Every examples/mount-*.ts, started the way a test (or another program) would: the handler
// is mounted on the framework's server, authenticates from a cookie or an Authorization
// header before acceptWebsocket(), and refuses everyone else with a real HTTP 401.
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertBuilt, startProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { makeCertificate, openssl, type Certificate } from "../helpers/tls-certificate.js";

interface RunningExample {
  readonly port: number;
  close(): Promise<void>;
}

/** Logs in through the app's own /login route and returns the Cookie header it set. */
async function login(baseUrl: string): Promise<string> {
  const response = await httpRequest(`${baseUrl}/login`);
  assert.equal(response.status, 200);
  const setCookie = response.headers["set-cookie"];
  assert.ok(setCookie && setCookie.length > 0, "the app sets a session cookie");
  return setCookie[0]!.split(";")[0]!;
}

async function checkGreetsAndEchoes(peer: WsPeer, user: string): Promise<void> {
  try {
    assert.equal((await peer.next()).text, `hello ${user}`);
    await peer.send("ping ✓");
    assert.equal((await peer.next()).text, "ping ✓");
  } finally {
    assert.equal((await peer.close(1000, "done")).code, 1000);
  }
}

const frameworks = [
  { name: "node:http", module: "../../examples/mount-http.js", banner: /node:http app/ },
  { name: "Express", module: "../../examples/mount-express.js", banner: /Express app/ },
  { name: "Fastify", module: "../../examples/mount-fastify.js", banner: /Fastify app/ },
  { name: "Koa", module: "../../examples/mount-koa.js", banner: /Koa app/ },
];

for (const framework of frameworks) {
  describe(`mounted on ${framework.name} (${framework.module.slice(6).replace(/\.js$/, ".ts")})`, () => {
    let app: RunningExample;
    let http: string;
    let ws: string;
    before(async () => {
      assertBuilt();
      const example = (await import(framework.module)) as { start(port: number): Promise<RunningExample> };
      app = await example.start(0);
      http = `http://127.0.0.1:${app.port}`;
      ws = `ws://127.0.0.1:${app.port}`;
    });
    after(() => app?.close());

    test("the framework still serves its own pages", async () => {
      const page = await httpRequest(`${http}/`);
      assert.equal(page.status, 200);
      assert.match(page.body, framework.banner);
    });

    test("the session cookie the app set opens the WebSocket", async () => {
      const cookie = await login(http);
      await checkGreetsAndEchoes(await WsPeer.connect(`${ws}/ws`, { headers: { Cookie: cookie } }), "ann");
    });

    test("a Bearer token opens it too", async () => {
      await checkGreetsAndEchoes(await WsPeer.connect(`${ws}/ws`, { headers: { Authorization: "Bearer token-for-ben" } }), "ben");
    });

    test("without credentials, or with wrong ones: HTTP 401, and the server goes on", async () => {
      await assert.rejects(WsPeer.connect(`${ws}/ws`), { status: 401 });
      await assert.rejects(WsPeer.connect(`${ws}/ws`, { headers: { Cookie: "session=forged" } }), { status: 401 });
      await assert.rejects(WsPeer.connect(`${ws}/ws`, { headers: { Authorization: "Bearer nope" } }), { status: 401 });
      await assert.rejects(WsPeer.connect(`${ws}/elsewhere`, { headers: { Authorization: "Bearer token-for-ben" } }), { status: 404 });
      await checkGreetsAndEchoes(await WsPeer.connect(`${ws}/ws`, { headers: { Authorization: "Bearer token-for-ben" } }), "ben");
    });

    test("close() closes open WebSockets with 1001 and stops the server", async () => {
      const example = (await import(framework.module)) as { start(port: number): Promise<RunningExample> };
      const second = await example.start(0);
      const peer = await WsPeer.connect(`ws://127.0.0.1:${second.port}/ws`, { headers: { Authorization: "Bearer token-for-ben" } });
      assert.equal((await peer.next()).text, "hello ben");
      await withTimeout(second.close(), 5000, "close()");
      assert.equal((await peer.closed).code, 1001);
      await assert.rejects(httpRequest(`http://127.0.0.1:${second.port}/`), { code: "ECONNREFUSED" });
    });
  });
}

describe("mounted on node:https (examples/mount-https.ts)", { skip: openssl.skip }, () => {
  let certificate: Certificate;
  let app: RunningExample;
  before(async () => {
    assertBuilt();
    certificate = makeCertificate();
    const example = (await import("../../examples/mount-https.js")) as {
      start(port: number, tls: { cert: Buffer; key: Buffer }): Promise<RunningExample>;
    };
    app = await example.start(0, { cert: certificate.cert, key: certificate.key });
  });
  after(async () => {
    await app?.close();
    certificate?.remove();
  });

  test("wss:// with a Bearer token opens; the certificate is checked against the CA given", async () => {
    const peer = await WsPeer.connect(`wss://127.0.0.1:${app.port}/ws`, {
      ca: certificate.cert,
      headers: { Authorization: "Bearer token-for-ben" },
    });
    await checkGreetsAndEchoes(peer, "ben");
    // Without trusting the test certificate, TLS itself refuses (no silent fallback).
    await assert.rejects(WsPeer.connect(`wss://127.0.0.1:${app.port}/ws`, { headers: { Authorization: "Bearer token-for-ben" } }));
  });

  test("wss:// without credentials: HTTP 401", async () => {
    await assert.rejects(WsPeer.connect(`wss://127.0.0.1:${app.port}/ws`, { ca: certificate.cert }), { status: 401 });
  });

  test("plain HTTPS requests reach the handler's plain-HTTP answer", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`https://127.0.0.1:${app.port}/ws`, { ca: certificate.cert, agent: false }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.match(body, /WebSocket endpoint/);
  });
});

describe("each example also runs as a program", { skip: openssl.skip }, () => {
  test("npx tsx examples/mount-*.ts --port 0 listens, serves /ws, and stops on SIGTERM", async () => {
    const certificate = makeCertificate();
    try {
      const runs = ["http", "express", "fastify", "koa", "https"].map(async (name) => {
        const file = fileURLToPath(new URL(`../../examples/mount-${name}.ts`, import.meta.url));
        const tls = name === "https" ? ["--cert", certificate.certFile, "--key", certificate.keyFile] : [];
        const program = await startProgram(file, ["--port", "0", "--host", "127.0.0.1", ...tls], ["--import", "tsx"]);
        try {
          const scheme = name === "https" ? "wss" : "ws";
          const peer = await WsPeer.connect(`${scheme}://127.0.0.1:${program.port}/ws`, {
            ca: certificate.cert,
            headers: { Authorization: "Bearer token-for-ben" },
          });
          await checkGreetsAndEchoes(peer, "ben");
        } finally {
          await program.stop();
        }
      });
      await Promise.all(runs);
    } finally {
      certificate.remove();
    }
  });
});
