// Header parsing in linear time. A regular expression with nested quantifiers once made a
// server spend minutes on one crafted Sec-WebSocket-Protocol value; every header hawser parses
// (Sec-WebSocket-Protocol, Sec-WebSocket-Extensions, Connection, Upgrade) must take time in
// proportion to its length. Pathological 64 KiB and 512 KiB values go through the pure parsers
// directly, then 64 KiB ones through a real server (maxHeaderBytes raised so they reach the
// parsers) and a hostile server's answers through the client. A quadratic parser needs
// about a second for 64 KiB and a minute for 512 KiB; the linear ones here need a few ms for
// 64 KiB and under 200 ms for 512 KiB (the worst shapes make an object every two characters).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect } from "../../src/client/connect.js";
import { clientDeflateFromResponse, serverDeflateNegotiator } from "../../src/extensions/deflate-codec.js";
import { negotiateServer } from "../../src/extensions/deflate-negotiation.js";
import { parseExtensionOffers, parseTokenList } from "../../src/protocol/extension-header.js";
import { checkServerResponse, checkUpgradeRequest, headerHasToken, splitHeaderList } from "../../src/protocol/handshake.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { startRawServer } from "../client/raw-server.js";
import { RawClient, randomKey, upgradeRequest } from "../helpers/raw-client.js";
import { startSocketServer, type SocketServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";
import { assertStillEchoing } from "./attack.js";

const KiB = 1024;

/** `prefix` then whole copies of `unit`, up to `size` characters (never a cut unit). */
function fill(unit: string, size: number, prefix = ""): string {
  return prefix + unit.repeat(Math.floor((size - prefix.length) / unit.length));
}

/** Distinct tokens "p0,p1,..." of about `size` characters. */
function distinctTokens(size: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length + 12 < size; i++) {
    const token = `p${i}`;
    parts.push(token);
    length += token.length + 1;
  }
  return parts.join(",");
}

/** The pathological shapes, as functions of the size. */
const SHAPES: Array<[string, (size: number) => string]> = [
  ["one huge token", (n) => fill("a", n)],
  ["repeated token 'a,a,a'", (n) => fill("a,", n)],
  ["distinct tokens", (n) => distinctTokens(n)],
  ["commas only", (n) => fill(",", n)],
  ["whitespace then a token", (n) => fill(" \t", n - 1) + "x"],
  ["semicolons ';;;;'", (n) => fill(";", n)],
  ['escaped quotes \'"\\"\\"\\"\'', (n) => fill('\\"', n, '"')],
  ["empty values 'a=,a='", (n) => fill("a=,", n)],
  ["one parameter repeated", (n) => fill("; a", n, "permessage-deflate")],
  ["one offer repeated", (n) => fill("permessage-deflate, ", n)],
  ["unknown offers with parameters", (n) => fill("x-ext; a=1; b, ", n)],
  ["a quoted value full of escapes", (n) => fill("\\a", n - 1, 'permessage-deflate; server_max_window_bits="') + '"'],
  ["an endless number", (n) => fill("9", n, "permessage-deflate; client_max_window_bits=")],
  ["an unterminated quoted string", (n) => fill("x", n, 'permessage-deflate; a="')],
];

/** CPU time of this process so far, in ms: unlike the wall clock, it does not count waiting for a busy core. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The best of up to three timings, in ms of CPU time, stopping once one is under `limitMs` (a slow
 * run may be a GC). CPU time here and below (server and client run in this process), because CI
 * runs the suite on several Node lines on a shared machine, where the wall clock of a linear
 * parser can pass these limits while it waits for a core.
 */
function timeOf(run: () => unknown, limitMs: number): number {
  let best = Infinity;
  // Stop early on a clear failure too: a quadratic parser could take minutes more.
  for (let i = 0; i === 0 || (i < 3 && best >= limitMs && best < 2 * limitMs); i++) {
    const start = cpuMs();
    run();
    best = Math.min(best, cpuMs() - start);
  }
  return best;
}

/** Every pure function that sees a header value from the network. */
const negotiate = serverDeflateNegotiator({});
const PARSERS: Array<[string, (value: string) => unknown]> = [
  ["splitHeaderList", (v) => splitHeaderList(v)],
  ["headerHasToken", (v) => headerHasToken(v, "upgrade")],
  ["parseTokenList", (v) => parseTokenList(v)],
  ["parseExtensionOffers", (v) => parseExtensionOffers(v)],
  [
    "negotiateServer",
    (v) => {
      const offers = parseExtensionOffers(v);
      return "error" in offers ? offers : negotiateServer(offers);
    },
  ],
  ["serverDeflateNegotiator", (v) => negotiate(v)],
  ["clientDeflateFromResponse", (v) => clientDeflateFromResponse(v, {})],
  [
    "checkUpgradeRequest",
    (v) =>
      checkUpgradeRequest("GET", {
        upgrade: "websocket",
        connection: v + ",Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": randomKey(),
        "sec-websocket-protocol": v,
        "sec-websocket-extensions": v,
      }),
  ],
  ["checkServerResponse", (v) => checkServerResponse(101, { upgrade: "websocket", connection: "Upgrade", "sec-websocket-protocol": v }, randomKey(), ["p1"])],
];

describe("the header parsers take linear time on pathological values", () => {
  for (const [parser, parse] of PARSERS) {
    test(`${parser}: every shape at 64 KiB in < 100 ms and at 512 KiB in < 1 s`, () => {
      const slow: string[] = [];
      for (const [shape, make] of SHAPES) {
        for (const [size, limitMs] of [
          [64 * KiB, 100],
          [512 * KiB, 1000],
        ] as const) {
          const value = make(size);
          assert.ok(value.length > size - 64 && value.length <= size, `shape '${shape}' is ${value.length} characters long`);
          const ms = timeOf(() => parse(value), limitMs);
          if (ms >= limitMs) {
            slow.push(`${shape} at ${size / KiB} KiB: ${ms.toFixed(1)} ms`);
            break; // a parser slow at 64 KiB could take minutes at 512 KiB
          }
        }
      }
      assert.deepEqual(slow, [], `${parser} is too slow on`);
    });
  }
});

describe("a server answers 64 KiB pathological handshake headers at once", () => {
  let server: SocketServer;
  const accepted: WebSocket[] = [];
  before(async () => {
    // Large enough that the values reach hawser's parsers instead of node's 431.
    server = await startSocketServer({ maxHeaderBytes: 256 * KiB }, (socket) => {
      accepted.push(socket);
      socket.onmessage = (event) => socket.send(event.data);
    });
  });
  after(() => server.close());

  /** Sends a handshake with one extra header and times the answer. */
  async function answer(header: string, value: string, port = server.port): Promise<{ status: number; extensions: string; protocol: string; ms: number }> {
    const client = await RawClient.connect(port);
    try {
      const text = upgradeRequest({ headers: [[header, value]] }).text;
      const start = cpuMs();
      client.write(text);
      const response = await client.readHttpResponse(5000);
      const ms = cpuMs() - start;
      return {
        status: response.status,
        extensions: response.headers["sec-websocket-extensions"] ?? "",
        protocol: response.headers["sec-websocket-protocol"] ?? "",
        ms,
      };
    } finally {
      client.destroy();
    }
  }

  // [shape, status for Sec-WebSocket-Protocol, status for Sec-WebSocket-Extensions, extension agreed]
  const expected: Record<string, [number, number, boolean]> = {
    "one huge token": [101, 101, false],
    "repeated token 'a,a,a'": [400, 101, false],
    "distinct tokens": [101, 101, false],
    "commas only": [101, 101, false],
    "whitespace then a token": [101, 101, false],
    "semicolons ';;;;'": [400, 400, false],
    'escaped quotes \'"\\"\\"\\"\'': [400, 400, false],
    "empty values 'a=,a='": [400, 400, false],
    "one parameter repeated": [400, 101, false],
    "one offer repeated": [400, 101, true],
    "unknown offers with parameters": [400, 101, false],
    "a quoted value full of escapes": [400, 101, false],
    "an endless number": [400, 101, false],
    "an unterminated quoted string": [400, 400, false],
  };

  for (const [shape, make] of SHAPES) {
    const [protocolStatus, extensionStatus, agreed] = expected[shape]!;
    test(`${shape}: Sec-WebSocket-Protocol gets ${protocolStatus}, Sec-WebSocket-Extensions gets ${extensionStatus}, each in < 200 ms`, async () => {
      const value = make(64 * KiB);
      const protocol = await answer("Sec-WebSocket-Protocol", value);
      assert.equal(protocol.status, protocolStatus, "status for the Sec-WebSocket-Protocol value");
      assert.equal(protocol.protocol, "", "no subprotocol was chosen");
      assert.ok(protocol.ms < 200, `Sec-WebSocket-Protocol answered after ${protocol.ms.toFixed(1)} ms`);
      const extensions = await answer("Sec-WebSocket-Extensions", value);
      assert.equal(extensions.status, extensionStatus, "status for the Sec-WebSocket-Extensions value");
      assert.equal(extensions.extensions.startsWith("permessage-deflate"), agreed, `extension agreed: ${extensions.extensions}`);
      assert.ok(extensions.ms < 200, `Sec-WebSocket-Extensions answered after ${extensions.ms.toFixed(1)} ms`);
    });
  }

  test("with the default maxHeaderBytes (16 KiB) a 64 KiB value gets 431 at once", async () => {
    const plain = await startSocketServer({}, (socket) => {
      socket.onmessage = (event) => socket.send(event.data);
    });
    try {
      const result = await answer("Sec-WebSocket-Protocol", fill("a,", 64 * KiB), plain.port);
      assert.equal(result.status, 431);
      assert.ok(result.ms < 200, `answered after ${result.ms.toFixed(1)} ms`);
      await assertStillEchoing(plain.url);
    } finally {
      await plain.close();
    }
  });

  test("the server still echoes after every attack above", () => assertStillEchoing(server.url));
});

describe("a client answered with pathological headers fails at once", () => {
  // Node's HTTP client allows a 16 KiB response head: a 12 KiB value reaches hawser's parsers,
  // a 64 KiB one is refused by node first. Either way connect() must fail promptly.
  for (const size of [12 * KiB, 64 * KiB]) {
    for (const header of ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"]) {
      test(`${size / KiB} KiB of every shape in ${header}: connect() rejects in < 200 ms each`, async () => {
        let value = "";
        const server = await startRawServer((connection) => {
          connection.socket.write(connection.acceptResponse([`${header}: ${value}`]));
        });
        try {
          const slow: string[] = [];
          for (const [shape, make] of SHAPES) {
            value = make(size);
            const start = cpuMs();
            const outcome = await withTimeout(
              connect(server.url, { protocols: ["p1"] }).then(
                (socket) => {
                  socket.terminate();
                  return "opened";
                },
                (error: Error) => error.message,
              ),
              5000,
              `connect() against ${shape}`,
            );
            const ms = cpuMs() - start;
            // Nothing here is an answer a client may accept: a protocol that was not offered, or
            // an extension answer that is malformed, unknown, or repeated. An empty list (commas
            // only) chooses nothing, which is an acceptable answer.
            if (outcome === "opened" && shape !== "commas only") {
              slow.push(`${shape}: opened`);
            }
            if (ms >= 200) slow.push(`${shape}: ${ms.toFixed(1)} ms`);
          }
          assert.deepEqual(slow, []);
        } finally {
          await server.close();
        }
      });
    }
  }

  test("the client still connects and echoes after all of the above", async () => {
    const echo = await startSocketServer({}, (socket) => {
      socket.onmessage = (event) => socket.send(event.data);
    });
    try {
      await assertStillEchoing(echo.url);
    } finally {
      await echo.close();
    }
  });
});
