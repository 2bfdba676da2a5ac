/**
 * Property-based fuzzing of the opening-handshake checks (issue 5, item 2): random and
 * mutated header maps never throw, and every answer is one a server can send.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { runs } from "./streams.js";
import {
  checkServerResponse,
  checkUpgradeRequest,
  computeAcceptKey,
  isToken,
  isValidClientKey,
  type HeaderMap,
  type HeaderValue,
} from "../../src/protocol/handshake.js";

const NAMES = ["upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions", "host", "origin"];

/** Header text built from pieces that matter to the parser, plus arbitrary characters. */
const textArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .array(
      fc.constantFrom("websocket", "Upgrade", "keep-alive", "13", "8", ",", " ", ", ", ";", "=", "\t", '"', "dGhlIHNhbXBsZSBub25jZQ==", "chat", "==", "a"),
      { maxLength: 8 },
    )
    .map((parts) => parts.join("")),
);
const valueArb: fc.Arbitrary<HeaderValue> = fc.oneof(textArb, fc.array(textArb, { maxLength: 3 }), fc.constant(undefined));
const methodArb = fc.oneof(fc.constantFrom("GET", "get", "POST", "HEAD", "", undefined), fc.string({ maxLength: 6 }));

const randomHeadersArb: fc.Arbitrary<HeaderMap> = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 12 })), valueArb, { maxKeys: 10 }),
  fc.record(Object.fromEntries(NAMES.map((n) => [n, valueArb])) as Record<string, fc.Arbitrary<HeaderValue>>),
);

const keyArb: fc.Arbitrary<HeaderValue> = fc.oneof(
  fc
    .integer({ min: 14, max: 18 })
    .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
    .map((b) => Buffer.from(b).toString("base64")),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ` ${Buffer.from(b).toString("base64")}\t`),
  fc.string({ unit: "binary-ascii", minLength: 22, maxLength: 25 }),
  fc.array(fc.constant("dGhlIHNhbXBsZSBub25jZQ=="), { minLength: 1, maxLength: 2 }),
);
const protocolListArb: fc.Arbitrary<HeaderValue> = fc.oneof(
  fc.array(fc.constantFrom("chat", "superchat", "a", "v1.x", "b c", "x/y", "", " chat", "ch\u00e4t"), { maxLength: 4 }).map((l) => l.join(",")),
  fc.array(fc.constantFrom("chat", "a, b", "superchat"), { maxLength: 3 }),
);

/** A valid request with some headers replaced by near misses, to reach every check. */
const nearValidArb: fc.Arbitrary<HeaderMap> = fc
  .record(
    {
      upgrade: fc.option(fc.constantFrom("websocket", "WebSocket", "h2c, websocket", "websockets", "", "web socket"), { nil: undefined }),
      connection: fc.option(fc.constantFrom("Upgrade", "keep-alive, upgrade", "UPGRADE", "Upgraded", "keep-alive", ""), { nil: undefined }),
      version: fc.option(fc.constantFrom("13", " 13 ", "8", "13, 8", "", "14"), { nil: undefined }),
      key: fc.option(keyArb, { nil: undefined }),
      protocols: fc.option(protocolListArb, { nil: undefined }),
      extensions: fc.option(valueArb, { nil: undefined }),
    },
    { requiredKeys: [] },
  )
  .map((r) => {
    const headers: HeaderMap = {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    };
    if ("upgrade" in r) headers["upgrade"] = r.upgrade;
    if ("connection" in r) headers["connection"] = r.connection;
    if ("version" in r) headers["sec-websocket-version"] = r.version;
    if ("key" in r) headers["sec-websocket-key"] = r.key;
    if ("protocols" in r) headers["sec-websocket-protocol"] = r.protocols;
    if ("extensions" in r) headers["sec-websocket-extensions"] = r.extensions;
    return headers;
  });

/** The reference: section 4.2.1 read plainly, in the order the checks are documented. */
function referenceStatus(method: string | undefined, headers: HeaderMap): number {
  const text = (v: HeaderValue): string => (v === undefined ? "" : Array.isArray(v) ? v.join(",") : v);
  const tokens = (v: HeaderValue): string[] =>
    text(v)
      .split(",")
      .map((t) => t.trim().toLowerCase());
  if (method !== "GET") return 405;
  if (!tokens(headers["upgrade"]).includes("websocket")) return 400;
  if (!tokens(headers["connection"]).includes("upgrade")) return 400;
  if (text(headers["sec-websocket-version"]).trim() !== "13") return 426;
  const key = headers["sec-websocket-key"];
  if (typeof key !== "string") return 400;
  const trimmed = key.trim();
  if (trimmed.length !== 24 || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || Buffer.from(trimmed, "base64").length !== 16) return 400;
  const offered = text(headers["sec-websocket-protocol"])
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (offered.some((p) => !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p)) || new Set(offered).size !== offered.length) return 400;
  return 101;
}

function checkAnswer(method: string | undefined, headers: HeaderMap): void {
  const result = checkUpgradeRequest(method, headers);
  assert.equal(result.ok ? 101 : result.status, referenceStatus(method, headers), "agrees with the reference");
  if (result.ok) {
    assert.ok(isValidClientKey(result.key), "an accepted key is base64 of 16 bytes");
    assert.equal(Buffer.from(result.key, "base64").length, 16);
    assert.equal(new Set(result.protocols).size, result.protocols.length, "offered subprotocols are distinct");
    for (const p of result.protocols) assert.ok(isToken(p), `subprotocol ${JSON.stringify(p)} is a token`);
    assert.equal(typeof result.extensions, "string");
  } else {
    assert.ok(result.message.length > 0);
    if (result.status === 426) assert.deepEqual(result.headers, { "Sec-WebSocket-Version": "13" });
  }
}

test("fuzz: checkUpgradeRequest never throws on random header maps and agrees with the reference", () => {
  fc.assert(
    fc.property(methodArb, randomHeadersArb, (method, headers) => checkAnswer(method, headers)),
    { numRuns: runs(3000) },
  );
});

test("fuzz: checkUpgradeRequest on near-valid requests agrees with a reference reading of section 4.2.1", () => {
  fc.assert(
    fc.property(fc.constantFrom("GET", "POST"), nearValidArb, (method, headers) => checkAnswer(method, headers)),
    { numRuns: runs(3000) },
  );
});

test("fuzz: checkServerResponse never throws, and accepts only the right accept key and one offered subprotocol", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  const responseArb = fc.record({
    status: fc.constantFrom(101, 101, 101, 200, 400),
    random: randomHeadersArb,
    base: fc.boolean(),
    rightAccept: fc.boolean(),
    protocol: fc.option(protocolListArb, { nil: undefined }),
  });
  fc.assert(
    fc.property(responseArb, fc.array(fc.constantFrom<string>("chat", "superchat", "a"), { maxLength: 3 }), (r, offered) => {
      const headers: HeaderMap = r.base ? { ...r.random, upgrade: "websocket", connection: "Upgrade" } : { ...r.random };
      if (r.rightAccept) headers["sec-websocket-accept"] = computeAcceptKey(key);
      if (r.protocol !== undefined) headers["sec-websocket-protocol"] = r.protocol;
      const result = checkServerResponse(r.status, headers, key, offered);
      if (result.ok) {
        assert.equal(r.status, 101);
        assert.equal(String(headers["sec-websocket-accept"]).trim(), computeAcceptKey(key));
        const chosen = String(headers["sec-websocket-protocol"] ?? "")
          .split(",")
          .map((p) => p.trim())
          .filter((p) => p !== "");
        assert.ok(chosen.length <= 1, "at most one subprotocol");
        assert.equal(result.protocol, chosen[0] ?? "");
        assert.ok(result.protocol === "" || offered.includes(result.protocol), "only an offered subprotocol");
      } else if (r.base && r.rightAccept && r.status === 101 && r.protocol === undefined && headers["sec-websocket-protocol"] === undefined) {
        assert.fail(`a correct response was refused: ${result.message}`);
      }
    }),
    { numRuns: runs(2000) },
  );
});

test("checkUpgradeRequest on a 64 KiB Sec-WebSocket-Protocol value answers without backtracking blow-up", () => {
  // A hostile value (ws had a ReDoS here): many elements, and one long almost-token.
  for (const value of ["a,".repeat(32768), "a".repeat(65535) + " ", ",".repeat(65536), "a ".repeat(32768)]) {
    const result = checkUpgradeRequest("GET", {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
      "sec-websocket-protocol": value,
    });
    assert.equal(typeof result.ok, "boolean");
  }
});
