// The origin policy as a pure function of the request headers, and the proxy headers it may
// believe. The same requests over real sockets are in test/security/origin.test.ts.
import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { describe, test } from "node:test";
import { addressKey, clientAddress, forwardedValue, trustedHops } from "../../src/security/forwarded.js";
import { canonicalOrigin, OriginPolicy, ownOrigin } from "../../src/security/origin-policy.js";

const allowed = (policy: OriginPolicy, headers: IncomingHttpHeaders, secure = false): boolean => policy.refusal(headers, secure) === null;

describe("the default policy", () => {
  const policy = new OriginPolicy(undefined);

  test("accepts a request without Origin (a program, not a browser)", () => {
    assert.ok(allowed(policy, { host: "chat.example:8080" }));
  });

  test("accepts the server's own origin as the request reached it, in any spelling browsers may send", () => {
    assert.ok(allowed(policy, { host: "chat.example:8080", origin: "http://chat.example:8080" }));
    assert.ok(allowed(policy, { host: "Chat.Example:8080", origin: "http://chat.example:8080" }));
    assert.ok(allowed(policy, { host: "chat.example:80", origin: "http://chat.example" }), "the default port is left out of an origin");
    assert.ok(allowed(policy, { host: "chat.example", origin: "https://chat.example" }, true), "over TLS the scheme is https");
    assert.ok(allowed(policy, { host: "[::1]:9000", origin: "http://[::1]:9000" }));
    assert.ok(allowed(policy, { ":authority": "chat.example:8443", origin: "https://chat.example:8443" }, true), "HTTP/2's :authority");
  });

  test("refuses another origin, another port, another scheme, and Origin: null, naming the option to set", () => {
    const own = { host: "chat.example:8080" };
    for (const origin of [
      "http://evil.example",
      "http://chat.example:8081",
      "https://chat.example:8080",
      "http://chat.example.evil.example:8080",
      "null",
      "",
    ]) {
      const refusal = policy.refusal({ ...own, origin }, false);
      assert.ok(refusal !== null, `${JSON.stringify(origin)} must be refused`);
      assert.match(refusal, /allowedOrigins/);
      assert.match(refusal, /--origin URL/);
    }
  });

  test("without a usable Host only requests without Origin get in", () => {
    assert.ok(!allowed(policy, { origin: "http://chat.example" }));
    assert.ok(!allowed(policy, { host: "", origin: "" }));
    assert.ok(!allowed(policy, { host: "evil.example/@chat.example", origin: "http://evil.example" }));
  });

  test("X-Forwarded-Proto and X-Forwarded-Host count only under trustProxy", () => {
    const behindProxy = { host: "10.0.0.5:8080", "x-forwarded-proto": "https", "x-forwarded-host": "chat.example", origin: "https://chat.example" };
    assert.ok(!allowed(policy, behindProxy), "not believed by default: anyone can send them");
    assert.ok(allowed(new OriginPolicy(undefined, 1), behindProxy));
    // Two proxies: the nearest one's entry is the last; one proxy: a client's own entry is not believed.
    const spoofed = { ...behindProxy, "x-forwarded-host": "evil.example, chat.example", origin: "https://evil.example" };
    assert.ok(!allowed(new OriginPolicy(undefined, 1), spoofed));
  });
});

describe("allowedOrigins", () => {
  test("a list adds origins to the default's", () => {
    const policy = new OriginPolicy(["https://app.example", "HTTPS://Other.Example:443/", "null"]);
    assert.ok(allowed(policy, { host: "api.example", origin: "https://app.example" }));
    assert.ok(allowed(policy, { host: "api.example", origin: "https://other.example" }));
    assert.ok(allowed(policy, { host: "api.example", origin: "null" }), "null only when listed");
    assert.ok(allowed(policy, { host: "api.example", origin: "http://api.example" }), "its own origin still");
    assert.ok(allowed(policy, { host: "api.example" }), "no Origin still");
    assert.ok(!allowed(policy, { host: "api.example", origin: "https://app.example.evil" }));
  });

  test('"*" accepts every origin', () => {
    const policy = new OriginPolicy("*");
    assert.ok(allowed(policy, { host: "api.example", origin: "https://anyone.example" }));
    assert.ok(allowed(policy, { host: "api.example", origin: "null" }));
  });

  test("a function alone decides, for requests with and without Origin, and is told the server's own origin", () => {
    const seen: Array<[string, string]> = [];
    const policy = new OriginPolicy((origin, request) => {
      seen.push([origin, request.ownOrigin]);
      return origin.endsWith(".example.com");
    });
    assert.ok(allowed(policy, { host: "api.example.com", origin: "https://a.example.com" }, true));
    assert.ok(!allowed(policy, { host: "api.example.com" }, true), "no Origin is the function's call too");
    assert.deepEqual(seen, [
      ["https://a.example.com", "https://api.example.com"],
      ["", "https://api.example.com"],
    ]);
  });

  test("entries that are not origins are refused with a message that says how to write them", () => {
    assert.throws(() => new OriginPolicy(["https://app.example/path"]), /write 'https:\/\/app\.example'/);
    assert.throws(() => new OriginPolicy(["https://*.example.com"]), /patterns are not supported/);
    assert.throws(() => new OriginPolicy(["app.example"]), /scheme:\/\/host/);
    assert.throws(() => new OriginPolicy("all" as never), /list of origins, "\*" or a function/);
  });
});

describe("proxy headers", () => {
  test("trustProxy: false, true or a number of proxies", () => {
    assert.equal(trustedHops(undefined), 0);
    assert.equal(trustedHops(false), 0);
    assert.equal(trustedHops(true), 1);
    assert.equal(trustedHops(2), 2);
    assert.throws(() => trustedHops(-1), /number of proxies/);
  });

  test("the entry a trusted proxy appended is the one believed, not what the client sent before it", () => {
    assert.equal(forwardedValue("6.6.6.6, 203.0.113.7", 1), "203.0.113.7");
    assert.equal(forwardedValue("6.6.6.6, 203.0.113.7, 10.0.0.2", 2), "203.0.113.7");
    assert.equal(forwardedValue("203.0.113.7", 3), "203.0.113.7", "fewer entries than proxies: the first");
    assert.equal(forwardedValue("203.0.113.7", 0), undefined);
    assert.equal(clientAddress("10.0.0.2", { "x-forwarded-for": "6.6.6.6, 203.0.113.7" }, 1), "203.0.113.7");
    assert.equal(clientAddress("10.0.0.2", { "x-forwarded-for": "203.0.113.7" }, 0), "10.0.0.2");
    assert.equal(clientAddress("10.0.0.2", {}, 1), "10.0.0.2", "no header: the peer");
  });

  test("connections are counted per IPv4 address, and per /64 for IPv6", () => {
    assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
    assert.equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
    assert.equal(addressKey("2001:db8:1:2:3:4:5:6"), addressKey("2001:0db8:0001:0002:ffff::1"));
    assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
    assert.equal(addressKey("::1"), "0:0:0:0::/64");
  });
});

test("canonicalOrigin: as browsers serialize origins", () => {
  assert.equal(canonicalOrigin("HTTP://Example.COM:80"), "http://example.com");
  assert.equal(canonicalOrigin("https://example.com:8443/"), "https://example.com:8443");
  assert.equal(canonicalOrigin("null"), "null");
  assert.equal(canonicalOrigin("chrome-extension://abcdef"), "chrome-extension://abcdef");
  assert.equal(ownOrigin({ host: "example.com:443" }, true), "https://example.com");
});
