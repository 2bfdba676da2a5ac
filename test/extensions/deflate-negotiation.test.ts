import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseExtensionOffers, type ExtensionOffer } from "../../src/protocol/extension-header.js";
import {
  acceptServerResponse,
  buildClientOffer,
  forRole,
  negotiateServer,
  resolveDeflateOptions,
  type DeflateParams,
  type PerMessageDeflateOptions,
} from "../../src/extensions/deflate-negotiation.js";

function offers(header: string): ExtensionOffer[] {
  const r = parseExtensionOffers(header);
  if ("error" in r) assert.fail(r.error);
  return r;
}

const PMD = "permessage-deflate";
const DEFAULTS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

// [offer header, server options, expected response (null = every offer declined), expected params (optional)]
type ServerRow = [string, PerMessageDeflateOptions, string | null, Partial<DeflateParams>?];

const serverTable: ServerRow[] = [
  // plain offers
  [PMD, {}, PMD, DEFAULTS],
  ["", {}, null],
  ["x-webkit-deflate-frame", {}, null],
  ["x-webkit-deflate-frame, permessage-deflate", {}, PMD],
  ["Permessage-Deflate", {}, null], // extension names are compared exactly
  // client_max_window_bits (§7.1.2.2)
  [`${PMD}; client_max_window_bits`, {}, PMD, { clientMaxWindowBits: 15 }],
  [`${PMD}; client_max_window_bits`, { clientMaxWindowBits: 10 }, `${PMD}; client_max_window_bits=10`, { clientMaxWindowBits: 10 }],
  [`${PMD}; client_max_window_bits=12`, {}, `${PMD}; client_max_window_bits=12`, { clientMaxWindowBits: 12 }],
  [`${PMD}; client_max_window_bits=12`, { clientMaxWindowBits: 10 }, `${PMD}; client_max_window_bits=10`, { clientMaxWindowBits: 10 }],
  [`${PMD}; client_max_window_bits=9`, { clientMaxWindowBits: 10 }, `${PMD}; client_max_window_bits=9`, { clientMaxWindowBits: 9 }],
  [`${PMD}; client_max_window_bits=15`, {}, PMD, { clientMaxWindowBits: 15 }],
  [`${PMD}; client_max_window_bits=8`, {}, `${PMD}; client_max_window_bits=8`, { clientMaxWindowBits: 8 }],
  [`${PMD}; client_max_window_bits="12"`, {}, `${PMD}; client_max_window_bits=12`, { clientMaxWindowBits: 12 }],
  [PMD, { clientMaxWindowBits: 10 }, null], // the client cannot be limited: decline
  [`${PMD}, ${PMD}; client_max_window_bits`, { clientMaxWindowBits: 10 }, `${PMD}; client_max_window_bits=10`],
  [PMD, { clientMaxWindowBits: 15 }, PMD],
  [PMD, { clientMaxWindowBits: true }, PMD],
  // server_max_window_bits (§7.1.2.1)
  [`${PMD}; server_max_window_bits=10`, {}, `${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 10 }],
  [`${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 12 }, `${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 10 }],
  [`${PMD}; server_max_window_bits=12`, { serverMaxWindowBits: 10 }, `${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 10 }],
  [`${PMD}; server_max_window_bits=15`, {}, `${PMD}; server_max_window_bits=15`, { serverMaxWindowBits: 15 }],
  [`${PMD}; server_max_window_bits=8`, {}, `${PMD}; server_max_window_bits=8`, { serverMaxWindowBits: 8 }],
  [`${PMD}; server_max_window_bits="9"`, {}, `${PMD}; server_max_window_bits=9`, { serverMaxWindowBits: 9 }],
  [PMD, { serverMaxWindowBits: 11 }, `${PMD}; server_max_window_bits=11`, { serverMaxWindowBits: 11 }],
  [PMD, { serverMaxWindowBits: 8 }, `${PMD}; server_max_window_bits=8`, { serverMaxWindowBits: 8 }],
  [PMD, { serverMaxWindowBits: 15 }, PMD, { serverMaxWindowBits: 15 }],
  // context takeover (§7.1.1)
  [`${PMD}; server_no_context_takeover`, {}, `${PMD}; server_no_context_takeover`, { serverNoContextTakeover: true }],
  [PMD, { serverNoContextTakeover: true }, `${PMD}; server_no_context_takeover`, { serverNoContextTakeover: true }],
  [`${PMD}; client_no_context_takeover`, {}, `${PMD}; client_no_context_takeover`, { clientNoContextTakeover: true }],
  [PMD, { clientNoContextTakeover: true }, `${PMD}; client_no_context_takeover`, { clientNoContextTakeover: true }],
  [
    `${PMD}; client_max_window_bits=10; server_max_window_bits=9; client_no_context_takeover; server_no_context_takeover`,
    {},
    `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10`,
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
  ],
  // declined offers: unknown, duplicate, invalid (§7) — and fallback to the next offer
  [`${PMD}; foo`, {}, null],
  [`${PMD}; foo=1, ${PMD}; client_max_window_bits`, {}, PMD],
  [`${PMD}; server_max_window_bits=10; server_max_window_bits=10`, {}, null],
  [`${PMD}; server_no_context_takeover; server_no_context_takeover, ${PMD}`, {}, PMD],
  [`${PMD}; server_no_context_takeover=1`, {}, null],
  [`${PMD}; client_no_context_takeover=true`, {}, null],
  [`${PMD}; server_max_window_bits`, {}, null],
  [`${PMD}; server_max_window_bits=7`, {}, null],
  [`${PMD}; server_max_window_bits=16`, {}, null],
  [`${PMD}; server_max_window_bits=010`, {}, null],
  [`${PMD}; server_max_window_bits=08`, {}, null],
  [`${PMD}; server_max_window_bits=+9`, {}, null],
  [`${PMD}; client_max_window_bits=7`, {}, null],
  [`${PMD}; client_max_window_bits=abc`, {}, null],
  [`${PMD}; Server_No_Context_Takeover`, {}, null],
  // the first acceptable offer wins
  [`${PMD}; server_max_window_bits=10, ${PMD}`, {}, `${PMD}; server_max_window_bits=10`],
  [`${PMD}; bogus, ${PMD}; server_no_context_takeover, ${PMD}`, {}, `${PMD}; server_no_context_takeover`],
];

test(`server negotiation table (${serverTable.length} rows)`, () => {
  for (const [header, options, expected, expectedParams] of serverTable) {
    const label = `offer ${JSON.stringify(header)} with ${JSON.stringify(options)}`;
    const result = negotiateServer(offers(header), options);
    assert.equal(result?.response ?? null, expected, label);
    if (result && expectedParams) assert.deepEqual(result.params, { ...result.params, ...expectedParams }, label);
  }
});

test("the server's answer parses as exactly one valid permessage-deflate element", () => {
  for (const [header, options] of serverTable) {
    const result = negotiateServer(offers(header), options);
    if (!result) continue;
    const parsed = offers(result.response);
    assert.equal(parsed.length, 1);
    assert.equal(parsed[0]!.name, PMD);
  }
});

test("client offer", () => {
  assert.equal(buildClientOffer(), `${PMD}; client_max_window_bits`);
  assert.equal(buildClientOffer({ clientMaxWindowBits: false }), PMD);
  assert.equal(buildClientOffer({ clientMaxWindowBits: 9 }), `${PMD}; client_max_window_bits=9`);
  assert.equal(
    buildClientOffer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 10 }),
    `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10`,
  );
});

// [client options, server's response header, expected: params (partial) | null (not negotiated) | "error"]
type ClientRow = [PerMessageDeflateOptions, string, Partial<DeflateParams> | null | "error"];

const clientTable: ClientRow[] = [
  [{}, "", null],
  [{}, PMD, DEFAULTS],
  [{}, `${PMD}; server_no_context_takeover`, { serverNoContextTakeover: true }],
  [{}, `${PMD}; client_no_context_takeover`, { clientNoContextTakeover: true }],
  [{ clientNoContextTakeover: true }, PMD, { clientNoContextTakeover: true }], // §7.1.1.2: our promise holds
  [{}, `${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 10 }], // §7.1.2.1: allowed unasked
  [{ serverMaxWindowBits: 10 }, `${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 10 }],
  [{ serverMaxWindowBits: 10 }, `${PMD}; server_max_window_bits=9`, { serverMaxWindowBits: 9 }],
  [{ serverMaxWindowBits: 8 }, `${PMD}; server_max_window_bits=8`, { serverMaxWindowBits: 8 }],
  [{ serverMaxWindowBits: 10 }, `${PMD}; server_max_window_bits=11`, "error"],
  [{ serverMaxWindowBits: 10 }, PMD, "error"],
  [{}, `${PMD}; client_max_window_bits=10`, { clientMaxWindowBits: 10 }],
  [{ clientMaxWindowBits: 10 }, PMD, { clientMaxWindowBits: 10 }],
  [{ clientMaxWindowBits: 10 }, `${PMD}; client_max_window_bits=8`, { clientMaxWindowBits: 8 }],
  [{ clientMaxWindowBits: 10 }, `${PMD}; client_max_window_bits=12`, "error"],
  [{ clientMaxWindowBits: false }, `${PMD}; client_max_window_bits=10`, "error"],
  [{}, `${PMD}; client_max_window_bits`, "error"], // a response must carry a value
  [{ serverNoContextTakeover: true }, PMD, "error"],
  [{ serverNoContextTakeover: true }, `${PMD}; server_no_context_takeover`, { serverNoContextTakeover: true }],
  [{}, `${PMD}; foo`, "error"],
  [{}, `${PMD}; server_max_window_bits=10; server_max_window_bits=10`, "error"],
  [{}, `${PMD}; client_no_context_takeover; client_no_context_takeover`, "error"],
  [{}, `${PMD}, ${PMD}`, "error"],
  [{}, "x-foo", "error"],
  [{}, `${PMD}, x-foo`, "error"],
  [{}, `${PMD}; server_no_context_takeover=1`, "error"],
  [{}, `${PMD}; client_no_context_takeover="x"`, "error"],
  [{}, `${PMD}; server_max_window_bits=16`, "error"],
  [{}, `${PMD}; server_max_window_bits=07`, "error"],
  [{}, `${PMD}; server_max_window_bits`, "error"],
  [{}, `${PMD}; server_max_window_bits="9"`, { serverMaxWindowBits: 9 }],
];

test(`client acceptance table (${clientTable.length} rows)`, () => {
  for (const [options, header, expected] of clientTable) {
    const label = `response ${JSON.stringify(header)} to ${JSON.stringify(options)}`;
    const result = acceptServerResponse(offers(header), options);
    if (expected === "error") {
      assert.ok(result !== null && "error" in result, label);
      assert.ok(result.error.length > 10, label);
    } else if (expected === null) {
      assert.equal(result, null, label);
    } else {
      assert.ok(result !== null && !("error" in result), `${label}: ${JSON.stringify(result)}`);
      assert.deepEqual(result, { ...DEFAULTS, ...expected }, label);
    }
  }
});

const bits = fc.integer({ min: 8, max: 15 });
const optionsArb: fc.Arbitrary<PerMessageDeflateOptions> = fc.record(
  {
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: bits,
    clientMaxWindowBits: fc.oneof(bits, fc.boolean()),
  },
  { requiredKeys: [] },
);

test("property: client and server agree on the same parameters, within both sides' limits", () => {
  fc.assert(
    fc.property(optionsArb, optionsArb, (clientOpts, serverOpts) => {
      const server = negotiateServer(offers(buildClientOffer(clientOpts)), serverOpts);
      if (!server) {
        // The only reason to decline our own offer: the server limits the client window, the offer cannot.
        assert.ok(typeof serverOpts.clientMaxWindowBits === "number" && serverOpts.clientMaxWindowBits < 15);
        assert.equal(clientOpts.clientMaxWindowBits, false);
        return;
      }
      const client = acceptServerResponse(offers(server.response), clientOpts);
      assert.deepEqual(client, server.params);
      const p = server.params;
      if (clientOpts.serverMaxWindowBits !== undefined) assert.ok(p.serverMaxWindowBits <= clientOpts.serverMaxWindowBits);
      if (serverOpts.serverMaxWindowBits !== undefined) assert.ok(p.serverMaxWindowBits <= serverOpts.serverMaxWindowBits);
      if (typeof clientOpts.clientMaxWindowBits === "number") assert.ok(p.clientMaxWindowBits <= clientOpts.clientMaxWindowBits);
      if (typeof serverOpts.clientMaxWindowBits === "number") assert.ok(p.clientMaxWindowBits <= serverOpts.clientMaxWindowBits);
      if (clientOpts.serverNoContextTakeover || serverOpts.serverNoContextTakeover) assert.ok(p.serverNoContextTakeover);
      if (clientOpts.clientNoContextTakeover || serverOpts.clientNoContextTakeover) assert.ok(p.clientNoContextTakeover);
    }),
    { numRuns: 3000 },
  );
});

test("forRole maps each direction to the endpoint", () => {
  const p: DeflateParams = { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 9, clientMaxWindowBits: 12 };
  assert.deepEqual(forRole(p, "server"), {
    compressNoContextTakeover: true,
    compressWindowBits: 9,
    decompressNoContextTakeover: false,
    decompressWindowBits: 12,
  });
  assert.deepEqual(forRole(p, "client"), {
    compressNoContextTakeover: false,
    compressWindowBits: 12,
    decompressNoContextTakeover: true,
    decompressWindowBits: 9,
  });
});

test("options are checked with messages that name the option", () => {
  assert.deepEqual(resolveDeflateOptions(), {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: true,
    thresholdBytes: 1024,
    memLevel: 8,
    compressionLevel: 1,
  });
  assert.throws(() => resolveDeflateOptions({ serverMaxWindowBits: 16 }), /serverMaxWindowBits must be an integer from 8 to 15, got 16/);
  assert.throws(() => resolveDeflateOptions({ serverMaxWindowBits: 7 }), /serverMaxWindowBits/);
  assert.throws(() => resolveDeflateOptions({ clientMaxWindowBits: 9.5 }), /clientMaxWindowBits/);
  assert.throws(() => resolveDeflateOptions({ memLevel: 0 }), /memLevel must be an integer from 1 to 9/);
  assert.throws(() => resolveDeflateOptions({ compressionLevel: 10 }), /compressionLevel/);
  assert.throws(() => resolveDeflateOptions({ thresholdBytes: -1 }), /thresholdBytes/);
  assert.throws(() => negotiateServer([], { serverMaxWindowBits: 20 }), RangeError);
});
