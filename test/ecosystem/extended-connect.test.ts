// RFC 8441's handshake rules as pure functions: what a server accepts, what it answers.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildExtendedConnectResponse,
  checkExtendedConnectRequest,
  checkExtendedConnectResponse,
  isExtendedConnectWebSocket,
} from "../../src/protocol/extended-connect.js";

const GOOD = {
  ":method": "CONNECT",
  ":protocol": "websocket",
  ":scheme": "https",
  ":path": "/chat?room=1",
  ":authority": "example.com",
  "sec-websocket-version": "13",
};

test("an extended CONNECT with :protocol websocket is a WebSocket request; others are not", () => {
  assert.equal(isExtendedConnectWebSocket(GOOD), true);
  assert.equal(isExtendedConnectWebSocket({ ...GOOD, ":protocol": "WebSocket" }), true);
  assert.equal(isExtendedConnectWebSocket({ ...GOOD, ":method": "GET" }), false);
  assert.equal(isExtendedConnectWebSocket({ ...GOOD, ":protocol": "connect-udp" }), false);
  const { ":protocol": _dropped, ...plainConnect } = GOOD;
  assert.equal(isExtendedConnectWebSocket(plainConnect), false);
});

test("a good request passes with its subprotocols and extension offer; no key is needed", () => {
  const check = checkExtendedConnectRequest({ ...GOOD, "sec-websocket-protocol": "a, b", "sec-websocket-extensions": "permessage-deflate" });
  assert.deepEqual(check, { ok: true, protocols: ["a", "b"], extensions: "permessage-deflate" });
});

test("bad requests get the status RFC 6455 / RFC 8441 name", () => {
  const version = checkExtendedConnectRequest({ ...GOOD, "sec-websocket-version": "8" });
  assert.equal(version.ok, false);
  assert.equal(!version.ok && version.status, 426);
  assert.deepEqual(!version.ok && version.headers, { "sec-websocket-version": "13" });
  const noPath = checkExtendedConnectRequest({ ...GOOD, ":path": undefined });
  assert.equal(!noPath.ok && noPath.status, 400);
  const duplicate = checkExtendedConnectRequest({ ...GOOD, "sec-websocket-protocol": "a, a" });
  assert.equal(!duplicate.ok && duplicate.status, 400);
  const notToken = checkExtendedConnectRequest({ ...GOOD, "sec-websocket-protocol": "a b" });
  assert.equal(!notToken.ok && notToken.status, 400);
  const get = checkExtendedConnectRequest({ ...GOOD, ":method": "GET" });
  assert.equal(!get.ok && get.status, 400);
});

test("the answer is 200 with the chosen subprotocol and extensions, and nothing else", () => {
  assert.deepEqual(buildExtendedConnectResponse(undefined, undefined), { ":status": 200 });
  assert.deepEqual(buildExtendedConnectResponse("b", "permessage-deflate"), {
    ":status": 200,
    "sec-websocket-protocol": "b",
    "sec-websocket-extensions": "permessage-deflate",
  });
});

test("the client accepts any 2xx and checks the subprotocol it was given", () => {
  assert.deepEqual(checkExtendedConnectResponse(200, {}, []), { ok: true, protocol: "", extensions: "" });
  assert.deepEqual(checkExtendedConnectResponse(200, { "sec-websocket-protocol": "b" }, ["a", "b"]), { ok: true, protocol: "b", extensions: "" });
  assert.equal(checkExtendedConnectResponse(101, {}, []).ok, false);
  assert.equal(checkExtendedConnectResponse(401, {}, []).ok, false);
  assert.equal(checkExtendedConnectResponse(200, { "sec-websocket-protocol": "c" }, ["a"]).ok, false);
  assert.equal(checkExtendedConnectResponse(200, { "sec-websocket-protocol": "a, b" }, ["a", "b"]).ok, false);
});
