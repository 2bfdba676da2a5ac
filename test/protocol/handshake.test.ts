import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  buildAcceptResponse,
  buildHttpResponse,
  checkServerResponse,
  checkUpgradeRequest,
  computeAcceptKey,
  headerHasToken,
  isValidClientKey,
  isWebSocketUpgrade,
  splitHeaderList,
  type HeaderMap,
} from "../../src/protocol/handshake.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/** A valid request's headers as node:http gives them (lower-case names), with overrides. */
function request(overrides: HeaderMap = {}): HeaderMap {
  const headers: HeaderMap = {
    host: "example.com",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
    ...overrides,
  };
  for (const [name, value] of Object.entries(headers)) if (value === undefined) delete headers[name];
  return headers;
}

test("computeAcceptKey: the RFC 6455 section 1.3 example", () => {
  assert.equal(computeAcceptKey(KEY), ACCEPT);
});

test("isValidClientKey: base64 of exactly 16 bytes", () => {
  assert.equal(isValidClientKey(KEY), true);
  assert.equal(isValidClientKey(Buffer.alloc(16, 0xff).toString("base64")), true);
  for (const n of [0, 1, 15, 17, 20, 32]) assert.equal(isValidClientKey(Buffer.alloc(n, 7).toString("base64")), false, `${n} bytes`);
  assert.equal(isValidClientKey("dGhlIHNhbXBsZSBub25jZQ"), false, "missing padding");
  assert.equal(isValidClientKey("dGhlIHNhbXBsZSBub25j!Q=="), false, "not base64");
  assert.equal(isValidClientKey(""), false);
});

// --- checkUpgradeRequest: the table ---------------------------------------------------------

const ACCEPTED: Array<[string, HeaderMap]> = [
  ["the plain request", {}],
  ["Upgrade in another case", { upgrade: "WebSocket" }],
  ["Connection: keep-alive, Upgrade", { connection: "keep-alive, Upgrade" }],
  ["Connection in upper case with spaces", { connection: "  UPGRADE  " }],
  ["Connection as repeated header lines", { connection: ["keep-alive", "upgrade"] }],
  ["Upgrade as a token list", { upgrade: "foo/2, websocket" }],
  ["a key with surrounding spaces", { "sec-websocket-key": `  ${KEY} ` }],
  ["a version with surrounding spaces", { "sec-websocket-version": " 13 " }],
];

for (const [name, overrides] of ACCEPTED) {
  test(`checkUpgradeRequest accepts ${name}`, () => {
    const result = checkUpgradeRequest("GET", request(overrides));
    assert.deepEqual(result, { ok: true, key: KEY, protocols: [], extensions: "" });
  });
}

const REFUSED: Array<[string, string | undefined, HeaderMap, number, RegExp]> = [
  ["POST", "POST", {}, 405, /must use GET/],
  ["a lower-case get (methods are case-sensitive)", "get", {}, 405, /GET/],
  ["no method", undefined, {}, 405, /GET/],
  ["no Upgrade header", "GET", { upgrade: undefined }, 400, /Upgrade header/],
  ["Upgrade: h2c", "GET", { upgrade: "h2c" }, 400, /Upgrade header/],
  ["Upgrade: websockets (a different token)", "GET", { upgrade: "websockets" }, 400, /Upgrade header/],
  ["no Connection header", "GET", { connection: undefined }, 400, /Connection header/],
  ["Connection: keep-alive", "GET", { connection: "keep-alive" }, 400, /Connection header/],
  ["Connection: Upgraded (substring is not a token)", "GET", { connection: "Upgraded" }, 400, /Connection header/],
  ["no key", "GET", { "sec-websocket-key": undefined }, 400, /Sec-WebSocket-Key/],
  ["an empty key", "GET", { "sec-websocket-key": "" }, 400, /Sec-WebSocket-Key/],
  ["a key of 15 bytes", "GET", { "sec-websocket-key": Buffer.alloc(15, 1).toString("base64") }, 400, /16 bytes/],
  ["a key of 17 bytes", "GET", { "sec-websocket-key": Buffer.alloc(17, 1).toString("base64") }, 400, /16 bytes/],
  ["a key that is not base64", "GET", { "sec-websocket-key": "not base64 at all!!!!!==" }, 400, /Sec-WebSocket-Key/],
  ["two keys", "GET", { "sec-websocket-key": [KEY, KEY] }, 400, /Sec-WebSocket-Key/],
  ["a subprotocol that is not a token", "GET", { "sec-websocket-protocol": "chat, sup er" }, 400, /Sec-WebSocket-Protocol/],
  ["a subprotocol offered twice", "GET", { "sec-websocket-protocol": "chat, chat" }, 400, /distinct/],
];

for (const [name, method, overrides, status, message] of REFUSED) {
  test(`checkUpgradeRequest refuses ${name} with ${status}`, () => {
    const result = checkUpgradeRequest(method, request(overrides));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.status, status);
    assert.match(result.message, message);
    if (status === 405) assert.deepEqual(result.headers, { Allow: "GET" });
  });
}

for (const version of ["8", "12", "14", "0", "13, 8", "", undefined]) {
  test(`checkUpgradeRequest answers Sec-WebSocket-Version ${JSON.stringify(version ?? "missing")} with 426 and Sec-WebSocket-Version: 13`, () => {
    const result = checkUpgradeRequest("GET", request({ "sec-websocket-version": version }));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.status, 426);
    assert.deepEqual(result.headers, { "Sec-WebSocket-Version": "13" });
    assert.match(result.message, /version 13/);
  });
}

test("checkUpgradeRequest parses the subprotocol list in order, trimming and dropping empty elements", () => {
  const cases: Array<[HeaderMap[string], string[]]> = [
    ["chat", ["chat"]],
    ["chat, superchat", ["chat", "superchat"]],
    [" v2.bookings.example.net ,, v1.bookings.example.net , ", ["v2.bookings.example.net", "v1.bookings.example.net"]],
    [
      ["a, b", "c"],
      ["a", "b", "c"],
    ],
    ["", []],
    [undefined, []],
  ];
  for (const [value, protocols] of cases) {
    const result = checkUpgradeRequest("GET", request({ "sec-websocket-protocol": value }));
    assert.ok(result.ok, JSON.stringify(value));
    assert.deepEqual(result.protocols, protocols, JSON.stringify(value));
  }
});

test("checkUpgradeRequest passes Sec-WebSocket-Extensions through raw, joining repeated lines", () => {
  const one = checkUpgradeRequest("GET", request({ "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" }));
  assert.ok(one.ok);
  assert.equal(one.extensions, "permessage-deflate; client_max_window_bits");
  const two = checkUpgradeRequest("GET", request({ "sec-websocket-extensions": ["a", "b; x=1"] }));
  assert.ok(two.ok);
  assert.equal(two.extensions, "a,b; x=1");
});

test("isWebSocketUpgrade: GET with Upgrade and Connection tokens, whatever the rest says", () => {
  assert.equal(isWebSocketUpgrade("GET", request()), true);
  assert.equal(isWebSocketUpgrade("GET", request({ "sec-websocket-version": "8" })), true, "a version problem is still an upgrade request");
  assert.equal(isWebSocketUpgrade("POST", request()), false);
  assert.equal(isWebSocketUpgrade("GET", { host: "x" }), false);
});

test("splitHeaderList and headerHasToken", () => {
  assert.deepEqual(splitHeaderList(" a ,b,, c "), ["a", "b", "c"]);
  assert.deepEqual(splitHeaderList(["a", "b,c"]), ["a", "b", "c"]);
  assert.deepEqual(splitHeaderList(undefined), []);
  assert.equal(headerHasToken("Keep-Alive, UPGRADE", "upgrade"), true);
  assert.equal(headerHasToken("upgrade-insecure", "upgrade"), false);
});

// --- responses -----------------------------------------------------------------------------

test("buildAcceptResponse: 101 with the accept key, chosen subprotocol, extensions and extra headers", () => {
  const response = buildAcceptResponse(KEY, "chat", "permessage-deflate", { "X-Test": "1" });
  assert.equal(
    response,
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n` +
      "Sec-WebSocket-Extensions: permessage-deflate\r\nX-Test: 1\r\n\r\n",
  );
  assert.doesNotMatch(buildAcceptResponse(KEY, undefined, undefined), /Sec-WebSocket-Protocol|Sec-WebSocket-Extensions/);
});

test("buildHttpResponse: Content-Length counts bytes, extra headers are included", () => {
  const response = buildHttpResponse(426, "Upgrade Required", "é", { "Sec-WebSocket-Version": "13" });
  assert.match(response, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(response, /\r\nContent-Length: 2\r\n/);
  assert.match(response, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.ok(response.endsWith("\r\n\r\né"));
});

// --- checkServerResponse -------------------------------------------------------------------

function response(overrides: HeaderMap = {}): HeaderMap {
  const headers: HeaderMap = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-accept": ACCEPT, ...overrides };
  for (const [name, value] of Object.entries(headers)) if (value === undefined) delete headers[name];
  return headers;
}

test("checkServerResponse accepts a correct 101, with or without a subprotocol", () => {
  assert.deepEqual(checkServerResponse(101, response(), KEY, []), { ok: true, protocol: "", extensions: "" });
  assert.deepEqual(checkServerResponse(101, response({ "sec-websocket-protocol": "b" }), KEY, ["a", "b"]), {
    ok: true,
    protocol: "b",
    extensions: "",
  });
  assert.deepEqual(checkServerResponse(101, response({ connection: "keep-alive, upgrade", upgrade: "WebSocket" }), KEY, ["a"]), {
    ok: true,
    protocol: "",
    extensions: "",
  });
});

const BAD_RESPONSES: Array<[string, number, HeaderMap, string[], RegExp]> = [
  ["a 200", 200, {}, [], /Expected HTTP 101, got 200/],
  ["no Upgrade", 101, { upgrade: undefined }, [], /Upgrade: websocket/],
  ["no Connection", 101, { connection: undefined }, [], /Connection: Upgrade/],
  ["a wrong accept", 101, { "sec-websocket-accept": computeAcceptKey("AAAAAAAAAAAAAAAAAAAAAA==") }, [], /wrong Sec-WebSocket-Accept/],
  ["no accept", 101, { "sec-websocket-accept": undefined }, [], /wrong Sec-WebSocket-Accept/],
  ["an unrequested subprotocol", 101, { "sec-websocket-protocol": "evil" }, ["chat"], /'evil', which was not offered/],
  ["a subprotocol when none was offered", 101, { "sec-websocket-protocol": "chat" }, [], /not offered/],
  ["two subprotocols in one line", 101, { "sec-websocket-protocol": "a, b" }, ["a", "b"], /more than one/],
  ["two subprotocol header lines", 101, { "sec-websocket-protocol": ["a", "a"] }, ["a"], /more than one/],
];

for (const [name, status, overrides, offered, message] of BAD_RESPONSES) {
  test(`checkServerResponse refuses ${name}`, () => {
    const result = checkServerResponse(status, response(overrides), KEY, offered);
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.message : "", message);
  });
}
