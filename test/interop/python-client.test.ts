// Interop: Debian's python3-websockets client (test/peers/python_client.py) against hawser's
// echo server (the seed's example). The script reports digests of what it sent and what came
// back and compares them byte for byte; the assertions are made here.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { runForJson } from "../helpers/cli.js";
import { startEchoServer, type EchoServer } from "../helpers/echo-server.js";
import { INTEROP_SIZES } from "../helpers/payloads.js";
import { pythonWebsockets, SYSTEM_PYTHON } from "../helpers/peers.js";
import { withTimeout } from "../helpers/wait.js";

const python = pythonWebsockets();
const SCRIPT = fileURLToPath(new URL("../peers/python_client.py", import.meta.url));

interface Comparison {
  label: string;
  sentKind: "text" | "binary";
  sentLength: number;
  sentSha256: string;
  receivedKind: "text" | "binary";
  receivedLength: number;
  receivedSha256: string;
  equal: boolean;
}

interface Report {
  greeting?: string[];
  extensions?: string;
  results?: Array<Comparison & { length: number; answered: boolean }>;
  closeCode?: number | null;
  closeReason?: string | null;
  echo?: string;
  around?: string[];
  exception?: string;
  unexpectedMessage?: string;
  websocketsVersion: string;
}

/** Runs one scenario of the Python client and parses its report; fails with its stderr. */
async function runPython(url: string, args: string[]): Promise<Report> {
  return (await runForJson(SYSTEM_PYTHON, [SCRIPT, url, ...args], { what: `python_client.py ${args.join(" ")}`, timeoutMs: 60_000 })) as Report;
}

function assertEchoes(results: Comparison[] | undefined, expectedLabels: string[]): void {
  assert.ok(results, "the report has results");
  assert.deepEqual(
    results.map((r) => r.label),
    expectedLabels,
  );
  for (const result of results) {
    assert.equal(result.receivedKind, result.sentKind, `${result.label}: kind`);
    assert.equal(result.receivedLength, result.sentLength, `${result.label}: length`);
    assert.equal(result.receivedSha256, result.sentSha256, `${result.label}: bytes (SHA-256)`);
    assert.equal(result.equal, true, `${result.label}: byte-for-byte comparison in Python`);
  }
}

describe("python3-websockets client against the hawser echo server", { skip: python.skip }, () => {
  let server: EchoServer;
  before(async () => {
    python.assertAvailable();
    server = await startEchoServer();
  });
  after(() => server?.close());

  for (const compression of [true, false]) {
    test(`text and binary of ${INTEROP_SIZES.join(", ")} bytes come back byte for byte (${compression ? "permessage-deflate offered" : "no compression"})`, async () => {
      const report = await runPython(server.url + "/", [...(compression ? [] : ["--no-compression"]), "messages", ...INTEROP_SIZES.map(String)]);
      assert.deepEqual(report.greeting, ["hello", " world!"]);
      if (compression) assert.match(report.extensions ?? "", /^permessage-deflate/, "hawser agreed to the client's offer");
      else assert.equal(report.extensions, "");
      assertEchoes(
        report.results,
        INTEROP_SIZES.flatMap((size) => [`text ${size}`, `binary ${size}`]),
      );
      assert.equal(report.closeCode, 1000);
    });
  }

  test("fragmented messages (from lists and async iterators, up to 16 MiB in 16 fragments) come back whole", async () => {
    const report = await runPython(server.url + "/", ["fragments"]);
    assertEchoes(report.results, [
      "text from a list",
      "binary from a list",
      "text from an async iterator",
      "binary from an async iterator",
      "16 MiB binary in 16 fragments",
      "single-fragment text",
    ]);
    const big = report.results!.find((r) => r.label.startsWith("16 MiB"))!;
    assert.equal(big.sentLength, 16 * 1024 * 1024);
  });

  test("pings of 0, 1, 7, 125 and 16 bytes are each answered with the same payload", async () => {
    const report = await runPython(server.url + "/", ["pings"]);
    assert.deepEqual(
      report.results!.map((r) => [r.length, r.answered]),
      [
        [0, true],
        [1, true],
        [7, true],
        [125, true],
        [16, true],
      ],
    );
    assert.deepEqual(report.around, ["before", "after"], "a ping between messages leaves them in order");
  });

  const closes: Array<[number, string]> = [
    [1000, "normal"],
    [1001, ""],
    [1011, "server error?"],
    [3000, "registered"],
    [4000, "ünïcödé ✓"],
    [4999, "r".repeat(123)],
  ];
  for (const [code, reason] of closes) {
    test(`the client closes with ${code}: the code is echoed, and the server saw code and reason`, async () => {
      const report = await runPython(server.url + "/", ["close", String(code), reason]);
      assert.equal(report.echo, "last words");
      assert.equal(report.closeCode, code);
      const socket = server.sockets.at(-1)!;
      const event = await withTimeout(socket.closed, 3000, "the server's close event");
      assert.deepEqual({ code: event.code, reason: event.reason, wasClean: event.wasClean }, { code, reason, wasClean: true });
    });
  }

  for (const [code, reason] of [
    [1000, "bye"],
    [4321, "ünïcödé"],
  ] as const) {
    test(`hawser closes with ${code} "${reason}": the Python client sees both`, async () => {
      const report = await runPython(`${server.url}/close?code=${code}&reason=${encodeURIComponent(reason)}`, ["server-close"]);
      assert.equal(report.unexpectedMessage, undefined);
      assert.match(report.exception ?? "", /ConnectionClosed/);
      assert.equal(report.closeCode, code);
      assert.equal(report.closeReason, reason);
    });
  }
});
