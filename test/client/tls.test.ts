// wss:// with a self-signed certificate made at test time: trusted through `ca` (+ `servername`),
// refused without it, accepted with `verifyPeer: false`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect, WebSocketHandshakeError } from "../../src/index.js";
import { echoHandler } from "../../src/cli/echo.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { makeSelfSignedCertificate, openssl } from "../helpers/tls-certificate.js";

describe("wss:// client", { skip: openssl.skip }, () => {
  let server: TestServer;
  let ca: string;
  let url: string;

  before(async () => {
    openssl.assertAvailable();
    const certificate = makeSelfSignedCertificate();
    ca = certificate.cert;
    server = await startServer(echoHandler(), { tls: certificate, pingIntervalMs: 0 });
    url = `wss://127.0.0.1:${server.port}/`;
  });
  after(() => server?.close());

  test("trusting the certificate through `ca` and naming it with `servername` works", async () => {
    const socket = await connect(url, { ca, servername: "localhost", pingFrequency: 0 });
    assert.equal((await socket.recv()).textData, "hello");
    assert.equal((await socket.recv()).textData, " world!");
    socket.send("over tls");
    assert.equal((await socket.recv()).textData, "over tls");
    socket.close();
    assert.equal((await socket.closed).wasClean, true);
  });

  test("without `ca` the self-signed certificate is refused", async () => {
    const error = await connect(url, { servername: "localhost" }).catch((e: unknown) => e);
    assert.ok(error instanceof WebSocketHandshakeError);
    assert.match(error.message, /self[- ]signed certificate/);
    assert.equal(error.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  test("with `ca` but the wrong name (the IP, which the certificate does not list) it is refused", async () => {
    const error = await connect(url, { ca }).catch((e: unknown) => e);
    assert.ok(error instanceof WebSocketHandshakeError);
    assert.equal(error.code, "ERR_TLS_CERT_ALTNAME_INVALID");
  });

  test("verifyPeer: false (and rejectUnauthorized: false) accept any certificate", async () => {
    for (const config of [{ verifyPeer: false }, { rejectUnauthorized: false }]) {
      const socket = await connect(url, { ...config, pingFrequency: 0 });
      assert.equal((await socket.recv()).textData, "hello");
      socket.close();
      await socket.closed;
    }
  });
});
