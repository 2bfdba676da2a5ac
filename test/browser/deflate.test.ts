// permessage-deflate between headless Chromium and a hawser server, seen on the wire: a frame
// tap between the two shows the handshake (Chromium offers `permessage-deflate;
// client_max_window_bits`) and the RSV1 bit and compressed size of every frame both ways.
// The page sends text and binary messages of 16 B to 128 KiB and checks each echo; the
// server checks what it received against the page's SHA-256.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { PerMessageDeflateOptions } from "../../src/extensions/deflate-negotiation.js";
import type { Handler } from "../../src/server/handler.js";
import { HttpError } from "../../src/server/http-error.js";
import { chromiumPeer, launchChromium } from "../helpers/chromium.js";
import { FrameTap, type TappedMessage } from "../helpers/frame-tap.js";
import { KiB, sha256, sizeLabel } from "../helpers/payloads.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitUntil } from "../helpers/wait.js";
import type { EchoReport, PlannedMessage } from "./pages/deflate-echo.js";

const chromium = chromiumPeer();
const PAGE_SCRIPT = readFileSync(new URL("./pages/deflate-echo.js", import.meta.url), "utf8");
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>hawser: permessage-deflate echo</title>
<script type="module">
  import { deflateEcho } from "/deflate-echo.js";
  window.deflateEcho = deflateEcho;
</script>
`;
/** hawser's default: smaller messages are sent uncompressed. */
const THRESHOLD = 1024;
const SIZES = [16, 1000, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 128 * KiB];

/** Each size as text and binary, then the same 4 KiB of noise twice (to see context takeover). */
const PLAN: PlannedMessage[] = [
  ...SIZES.flatMap((size, i) => [
    { kind: "text" as const, size, seed: 2 * i + 1 },
    { kind: "binary" as const, size, seed: 2 * i + 2 },
  ]),
  { kind: "noise", size: 4 * KiB, seed: 99 },
  { kind: "noise", size: 4 * KiB, seed: 99 },
];

interface Variant {
  name: string;
  options: PerMessageDeflateOptions;
  /** The Sec-WebSocket-Extensions answer hawser must give Chromium's offer. */
  agreed: string;
  /** Whether each side's compressor can reach back into the previous message. */
  serverTakeover: boolean;
  clientTakeover: boolean;
}

const VARIANTS: Variant[] = [
  { name: "defaults", options: {}, agreed: "permessage-deflate", serverTakeover: true, clientTakeover: true },
  {
    name: "no context takeover either way",
    options: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    agreed: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    serverTakeover: false,
    clientTakeover: false,
  },
  {
    name: "10-bit windows",
    options: { serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    agreed: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
    // A 1 KiB window cannot reach back over a 4 KiB message: the second copy costing as much as
    // the first shows that each side kept to the window it was given.
    serverTakeover: false,
    clientTakeover: false,
  },
];

interface Received {
  extensions: string;
  /** SHA-256 and kind of every message the server received, in order. */
  messages: Array<{ sha256: string; isBinary: boolean; length: number }>;
}

/** An echo server that records, per connection, what it agreed to and what it received. */
async function startDeflateServer(options: PerMessageDeflateOptions, received: Received[]): Promise<TestServer> {
  const handler: Handler = (cgi) => {
    if (!cgi.websocketRequested()) {
      if (cgi.pathInfo === "/") {
        cgi.header("Content-Type", "text/html; charset=utf-8");
        cgi.write(PAGE, true);
      } else if (cgi.pathInfo === "/deflate-echo.js") {
        cgi.header("Content-Type", "text/javascript; charset=utf-8");
        cgi.write(PAGE_SCRIPT, true);
      } else throw new HttpError(404, "no such page");
      return;
    }
    const socket = cgi.acceptWebsocket();
    const record: Received = { extensions: socket.extensions, messages: [] };
    received.push(record);
    socket.onmessage = (event) => {
      const bytes = typeof event.data === "string" ? Buffer.from(event.data) : event.data;
      record.messages.push({ sha256: sha256(bytes), isBinary: event.isBinary, length: bytes.length });
      socket.send(event.data);
    };
  };
  // The page's WebSocket goes through a frame tap on another port: a cross-origin request, let
  // through for the page's own origin only.
  let pageOrigin = "";
  const server = await startServer(handler, { pingIntervalMs: 0, perMessageDeflate: options, allowedOrigins: (origin) => origin === pageOrigin });
  pageOrigin = server.httpUrl;
  return server;
}

function describeMessages(messages: TappedMessage[]): string {
  return messages.map((m) => `${m.compressed ? "C" : "-"}${m.wireBytes}/${m.frames}`).join(" ");
}

describe("permessage-deflate with headless Chromium", { skip: chromium.skip }, () => {
  let browser: Browser;
  let page: Page;
  const servers: TestServer[] = [];
  const taps: FrameTap[] = [];

  before(async () => {
    chromium.assertAvailable();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const tap of taps) await tap.close();
    for (const server of servers) await server.close();
  });

  for (const variant of VARIANTS) {
    test(`${variant.name}: negotiated, RSV1 both ways, ${SIZES.map(sizeLabel).join(", ")} text and binary echoed intact`, async (t) => {
      const received: Received[] = [];
      const server = await startDeflateServer(variant.options, received);
      servers.push(server);
      const tap = await FrameTap.start(server.port);
      taps.push(tap);
      page ??= await browser.newPage();
      await page.goto(`${server.httpUrl}/`);
      await page.waitForFunction("typeof window.deflateEcho === 'function'");

      const report = (await page.evaluate(`window.deflateEcho(${JSON.stringify(`${tap.url}/echo`)}, ${JSON.stringify(PLAN)})`)) as EchoReport;
      const wire = await tap.nextConnection();
      await wire.closed;
      await waitUntil(() => received.length === 1, 2000, "the server to record the connection");
      const [seen] = received as [Received];

      // Negotiation, as seen by the browser, on the wire, and by the server.
      assert.equal(wire.offeredExtensions, "permessage-deflate; client_max_window_bits", "Chromium's offer");
      assert.equal(wire.agreedExtensions, variant.agreed, "hawser's answer on the wire");
      assert.equal(seen.extensions, variant.agreed, "the server socket's extensions");
      assert.equal(report.extensions, variant.agreed, "the browser's ws.extensions");
      assert.deepEqual(report.close, { code: 1000, reason: "done", wasClean: true });

      // Every message came back intact, and the server received exactly what the page sent.
      for (const [i, result] of report.results.entries()) {
        const label = `${result.kind} ${sizeLabel(result.size)} (#${i})`;
        assert.equal(result.echoed, true, `${label}: the echo differs from what was sent`);
        assert.equal(seen.messages[i]?.sha256, result.sha256, `${label}: the server received other bytes`);
        assert.equal(seen.messages[i]?.isBinary, result.kind === "binary", `${label}: message type`);
      }
      assert.equal(seen.messages.length, PLAN.length);

      // The wire: RSV1 both ways above the threshold, and real compression.
      const toServer = wire.messagesToServer();
      const toClient = wire.messagesToClient();
      t.diagnostic(`Chromium → hawser: ${describeMessages(toServer)}`);
      t.diagnostic(`hawser → Chromium: ${describeMessages(toClient)}`);
      assert.equal(toServer.length, PLAN.length);
      assert.equal(toClient.length, PLAN.length);
      for (const [i, { kind, size }] of PLAN.entries()) {
        const label = `${kind} ${sizeLabel(size)} (#${i})`;
        assert.equal(toClient[i]!.compressed, size >= THRESHOLD, `${label}: hawser compresses exactly the messages of ${THRESHOLD} bytes or more`);
        if (size >= THRESHOLD) {
          assert.equal(toServer[i]!.compressed, true, `${label}: Chromium's frame carried RSV1`);
          if (kind !== "noise") {
            assert.ok(toServer[i]!.wireBytes < size / 2, `${label}: Chromium sent ${toServer[i]!.wireBytes} bytes`);
            assert.ok(toClient[i]!.wireBytes < size / 2, `${label}: hawser sent ${toClient[i]!.wireBytes} bytes`);
          }
        }
      }
      for (const direction of [wire.toServer, wire.toClient]) {
        for (const frame of direction) if (frame.opcode >= 8) assert.equal(frame.rsv1, false, "control frames are never compressed");
      }

      // The same 4 KiB of noise twice: with context takeover the second copy is a back-reference.
      const [firstUp, secondUp] = toServer.slice(-2) as [TappedMessage, TappedMessage];
      const [firstDown, secondDown] = toClient.slice(-2) as [TappedMessage, TappedMessage];
      t.diagnostic(`noise twice: up ${firstUp.wireBytes} then ${secondUp.wireBytes} bytes, down ${firstDown.wireBytes} then ${secondDown.wireBytes}`);
      const checkTakeover = (who: string, first: number, second: number, takeover: boolean): void => {
        if (takeover) assert.ok(second < first / 4, `${who} kept its context: the second copy should be tiny (${first} then ${second} bytes)`);
        else assert.ok(second > first * 0.9, `${who} must reset its context: both copies cost the same (${first} then ${second} bytes)`);
      };
      checkTakeover("Chromium", firstUp.wireBytes, secondUp.wireBytes, variant.clientTakeover);
      checkTakeover("hawser", firstDown.wireBytes, secondDown.wireBytes, variant.serverTakeover);
    });
  }
});
