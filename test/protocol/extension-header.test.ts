import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatExtension, isToken, parseExtensionOffers, parseTokenList, type ExtensionOffer } from "../../src/protocol/extension-header.js";

/** Offers as plain data for deepEqual: [name, [[param, value], ...], duplicates]. */
function plain(result: ExtensionOffer[] | { error: string }): unknown {
  if ("error" in result) return result;
  return result.map((o) => [o.name, [...o.params], o.duplicateParams]);
}

function ok(header: string | string[]): ExtensionOffer[] {
  const r = parseExtensionOffers(header);
  if ("error" in r) assert.fail(`unexpected error for ${JSON.stringify(header)}: ${r.error}`);
  return r;
}

test("parses the offers browsers and libraries send", () => {
  assert.deepEqual(plain(ok("permessage-deflate; client_max_window_bits")), [["permessage-deflate", [["client_max_window_bits", true]], []]]);
  assert.deepEqual(plain(ok("permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate")), [
    [
      "permessage-deflate",
      [
        ["server_max_window_bits", "10"],
        ["client_max_window_bits", true],
      ],
      [],
    ],
    ["permessage-deflate", [], []],
  ]);
});

test("several header lines and comma lists keep their order", () => {
  assert.deepEqual(plain(ok(["a; x=1, b", "c;y", "d"])), [
    ["a", [["x", "1"]], []],
    ["b", [], []],
    ["c", [["y", true]], []],
    ["d", [], []],
  ]);
});

test("whitespace around separators and empty list elements are tolerated", () => {
  assert.deepEqual(plain(ok(' \t a \t ;\tx = 1 ; y ,, ,\t b ; z="2" , ')), [
    [
      "a",
      [
        ["x", "1"],
        ["y", true],
      ],
      [],
    ],
    ["b", [["z", "2"]], []],
  ]);
  assert.deepEqual(plain(ok("")), []);
  assert.deepEqual(plain(ok(" , ,, ")), []);
  assert.deepEqual(plain(ok([])), []);
  assert.deepEqual(parseExtensionOffers(undefined), []);
  assert.deepEqual(parseTokenList(undefined), []);
});

test("quoted values are unquoted, backslash escapes removed", () => {
  assert.deepEqual(plain(ok('e; a="10"; b="\\1\\5"; c="x\\-y"')), [
    [
      "e",
      [
        ["a", "10"],
        ["b", "15"],
        ["c", "x-y"],
      ],
      [],
    ],
  ]);
});

test("a quoted value that is not a token once unquoted is an error (RFC 6455 §9.1)", () => {
  for (const h of ['e; a="1 0"', 'e; a=""', 'e; a="x,y"', 'e; a="\\""']) {
    assert.ok("error" in parseExtensionOffers(h), h);
  }
});

test("duplicate parameters are reported, first value kept", () => {
  const [offer] = ok("permessage-deflate; server_max_window_bits=10; server_max_window_bits=11; x; x; x");
  assert.equal(offer!.params.get("server_max_window_bits"), "10");
  assert.deepEqual(offer!.duplicateParams, ["server_max_window_bits", "x"]);
});

test("names are case-sensitive and kept as written", () => {
  const [offer] = ok("PerMessage-Deflate; Server_No_Context_Takeover");
  assert.equal(offer!.name, "PerMessage-Deflate");
  assert.ok(offer!.params.has("Server_No_Context_Takeover"));
});

test("malformed headers return an error naming the problem, never throw", () => {
  const bad = [
    ";",
    "a;",
    "a;;b",
    "a; =1",
    "a; b=",
    "a; b= ;",
    "a b",
    "a; b c",
    "a; b=1 2",
    'a; b="unterminated',
    'a; b="bad\\',
    'a; b="x\u0001"',
    "=",
    "a=1",
    "a, ;b",
    "a; b=1=2",
    "a\u00e9",
    "a; b=\u0000",
    '"quoted-name"',
    'a; b=c"d"',
  ];
  for (const h of bad) {
    const r = parseExtensionOffers(h);
    assert.ok("error" in r, `expected an error for ${JSON.stringify(h)}`);
    assert.match(r.error, /^malformed Sec-WebSocket-Extensions: /);
  }
  // A quoted-string cannot continue onto the next header line.
  assert.ok("error" in parseExtensionOffers(['a; b="x', 'y"']));
});

test("formatExtension writes what parseExtensionOffers reads", () => {
  assert.equal(formatExtension("permessage-deflate"), "permessage-deflate");
  assert.equal(
    formatExtension(
      "permessage-deflate",
      new Map<string, string | true>([
        ["server_no_context_takeover", true],
        ["server_max_window_bits", "10"],
      ]),
    ),
    "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
  );
  assert.equal(formatExtension("x", [["q", 'a b"c\\']]), 'x; q="a b\\"c\\\\"');
  assert.throws(() => formatExtension("bad name"), /not an RFC 7230 token/);
  assert.throws(() => formatExtension("x", [["bad=name", true]]), /not an RFC 7230 token/);
  assert.throws(() => formatExtension("x", [["q", "line\nbreak"]]), /cannot be sent/);
});

const tokenArb = fc.stringMatching(/^[a-zA-Z0-9!#$%&'*+\-.^_`|~]{1,12}$/);

test("property: format then parse gives back the extensions", () => {
  const extArb = fc.record({
    name: tokenArb,
    params: fc.uniqueArray(fc.tuple(tokenArb, fc.oneof(fc.constant(true as const), tokenArb)), {
      selector: ([k]) => k,
      maxLength: 5,
    }),
  });
  fc.assert(
    fc.property(fc.array(extArb, { maxLength: 5 }), (exts) => {
      const header = exts.map((e) => formatExtension(e.name, e.params)).join(", ");
      const parsed = ok(header);
      assert.deepEqual(
        parsed.map((o) => [o.name, [...o.params]]),
        exts.map((e) => [e.name, e.params]),
      );
    }),
  );
});

test("property: any string parses or returns an error, never throws", () => {
  const alphabet = fc.constantFrom(...'ab=;," \t\\\u0001\u00e9xyz1'.split(""));
  fc.assert(
    fc.property(fc.array(fc.string({ unit: alphabet, maxLength: 40 }), { maxLength: 3 }), (lines) => {
      const r = parseExtensionOffers(lines);
      assert.ok(Array.isArray(r) || typeof r.error === "string");
    }),
    { numRuns: 2000 },
  );
});

function timeParse(header: string): number {
  const t0 = performance.now();
  parseExtensionOffers(header);
  return performance.now() - t0;
}

test("64 KiB values parse in linear time, including pathological ones", () => {
  const n = 64 * 1024;
  const cases: Record<string, string> = {
    "valid params": "permessage-deflate" + "; a=1".repeat(n / 5),
    "many offers": "permessage-deflate, ".repeat(n / 20),
    semicolons: ";".repeat(n),
    "e then semicolons": "e" + ";".repeat(n),
    "double quotes": '"'.repeat(n),
    "e;a= then quotes": "e;a=" + '"'.repeat(n),
    "a= repeats": "e;" + "a=".repeat(n / 2),
    "open quote with escapes": 'e;a="' + "\\x".repeat(n / 2),
    commas: ",".repeat(n),
    spaces: " ".repeat(n) + "x",
    "long token": "e".repeat(n),
    "long quoted token": 'e;a="' + "b".repeat(n) + '"',
    "whitespace runs": "e" + " ;  a  = 1 ".repeat(n / 12),
    "many distinct duplicated names": "e" + Array.from({ length: 2 }, () => Array.from({ length: n / 16 }, (_, i) => `;p${i}`).join("")).join(""),
  };
  for (const [name, header] of Object.entries(cases)) {
    timeParse(header); // warm up
    const ms = Math.min(timeParse(header), timeParse(header), timeParse(header));
    // Linear parsing of 64 KiB takes well under a millisecond; 50 ms leaves room
    // for slow CI while any quadratic behaviour (seconds) still fails.
    assert.ok(ms < 50, `${name}: ${ms.toFixed(2)} ms`);
  }
});

test("parseTokenList trims, drops empty elements, keeps order", () => {
  assert.deepEqual(parseTokenList("keep-alive, Upgrade"), ["keep-alive", "Upgrade"]);
  assert.deepEqual(parseTokenList([" a ,,\tb\t", "", ",c,"]), ["a", "b", "c"]);
  assert.deepEqual(parseTokenList(""), []);
  assert.deepEqual(parseTokenList("chat, superchat"), ["chat", "superchat"]);
  assert.deepEqual(parseTokenList("x y, z"), ["x y", "z"]); // not validated: see isToken
  const big = "a, ".repeat(64 * 1024);
  const t0 = performance.now();
  assert.equal(parseTokenList(big).length, 64 * 1024);
  assert.ok(performance.now() - t0 < 200);
  const commas = ",".repeat(64 * 1024);
  assert.deepEqual(parseTokenList(commas), []);
});

test("isToken", () => {
  assert.ok(isToken("permessage-deflate"));
  assert.ok(isToken("!#$%&'*+-.^_`|~09azAZ"));
  for (const s of ["", "a b", "a,b", 'a"', "a;b", "a=b", "é", "a\u0000"]) assert.ok(!isToken(s), JSON.stringify(s));
});
