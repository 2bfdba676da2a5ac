// hawser/web's WebSocket against the browser's own: one scenario script
// (pages/event-log-scenario.js) runs in headless Chromium and in Node against the same hawser
// server, and the two event logs must be identical, event for event and value for value. The
// server also records what it saw of each run; those records must match too.
// Node's built-in WebSocket (undici's) runs the same scenario in a child process; its log must
// be Chromium's but for the differences named in undici-differences.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { HttpError } from "../../src/server/http-error.js";
import type { Handler } from "../../src/server/handler.js";
import type { WebSocket as ServerSocket } from "../../src/websocket/websocket.js";
import { WebSocket } from "../../src/web.js";
import { chromiumPeer, CHROMIUM_ARGS, launchChromium } from "../helpers/chromium.js";
import { nodeWebSocketPeer, runNodeWebSocket, type NodeWebSocketReport } from "../helpers/node-websocket.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitUntil, withTimeout } from "../helpers/wait.js";
import { eventLogScenario, type ScenarioUrls } from "./pages/event-log-scenario.js";
import { undiciDifferences, undiciLingeringSockets } from "./undici-differences.js";

const chromium = chromiumPeer();
const nodeWebSocket = nodeWebSocketPeer();
const SCENARIO_SOURCE = readFileSync(new URL("./pages/event-log-scenario.js", import.meta.url), "utf8");
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>hawser: WebSocket event log</title>
<script type="module">
  import { eventLogScenario } from "/event-log-scenario.js";
  window.eventLogScenario = eventLogScenario;
</script>
`;

/** What the server saw of one run, connection by connection, in accept order. */
type ServerRecord = Array<{ path: string; offer: string; agreed: string; protocol: string; events: unknown[][] }>;

function record(records: ServerRecord, socket: ServerSocket, path: string, offer: string): void {
  const entry = { path, offer, agreed: socket.extensions, protocol: socket.protocol, events: [] as unknown[][] };
  records.push(entry);
  socket.onmessage = (event) => {
    entry.events.push(["message", event.isBinary ? "binary" : "text", event.data.length]);
    if (path !== "/server-close") socket.send(event.data);
  };
  // Answering a server's close, a client echoes the code (RFC 6455 section 5.5.1) and may put
  // any reason: Chromium repeats the server's, hawser sends none. Only the code is compared there.
  socket.onclose = (event) => entry.events.push(["close", event.code, path === "/server-close" ? "(reason not compared)" : event.reason, event.wasClean]);
}

/** A port that refuses connections: bound by us a moment ago, then released. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

describe("WHATWG WebSocket: Chromium, hawser/web and Node's own give the same event logs", { skip: chromium.skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let urls: ScenarioUrls;
  let records: ServerRecord = [];

  before(async () => {
    chromium.assertAvailable();
    const handler: Handler = (cgi) => {
      const path = cgi.pathInfo;
      if (!cgi.websocketRequested()) {
        if (path === "/") {
          cgi.header("Content-Type", "text/html; charset=utf-8");
          cgi.write(PAGE, true);
        } else if (path === "/event-log-scenario.js") {
          cgi.header("Content-Type", "text/javascript; charset=utf-8");
          cgi.write(SCENARIO_SOURCE, true);
        } else throw new HttpError(404, "no such page");
        return;
      }
      // Never answered: the client gives up first (the server cuts it after handshakeTimeoutMs).
      if (path === "/hang") return new Promise<void>(() => undefined);
      const offer = String(cgi.headers["sec-websocket-extensions"] ?? "");
      if (path === "/echo") record(records, cgi.acceptWebsocket(cgi.requestedProtocols[0]), path, offer);
      else if (path === "/echo-no-protocol") record(records, cgi.acceptWebsocket(), path, offer);
      else if (path === "/server-close") {
        const socket = cgi.acceptWebsocket();
        record(records, socket, path, offer);
        socket.send("bye soon");
        socket.close(4001, "server says bye");
      } else throw new HttpError(404, "no WebSocket endpoint here");
    };
    server = await startServer(handler, { pingIntervalMs: 0 });
    urls = {
      echo: `${server.url}/echo`,
      echoNoProtocol: `${server.url}/echo-no-protocol`,
      serverClose: `${server.url}/server-close`,
      notFound: `${server.url}/missing`,
      refused: `ws://127.0.0.1:${await refusedPort()}/`,
      hang: `${server.url}/hang`,
    };
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.httpUrl}/`);
    await page.waitForFunction("typeof window.eventLogScenario === 'function'");
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Runs the scenario, then waits until the server has seen every connection of it close. */
  async function run(side: string, scenario: () => Promise<unknown>): Promise<{ log: unknown[][]; server: ServerRecord }> {
    records = [];
    const log = (await withTimeout(scenario(), 20_000, `the scenario in ${side}`)) as unknown[][];
    const seen = records;
    await waitUntil(() => seen.every((entry) => entry.events.some((event) => event[0] === "close")), 5000, `the server to see ${side}'s connections close`);
    return { log, server: seen };
  }

  /** Chromium's run: the reference every other WebSocket is compared with (run once, for both tests). */
  let chromiumRun: Promise<{ log: unknown[][]; server: ServerRecord }> | undefined;
  const inChromium = (): Promise<{ log: unknown[][]; server: ServerRecord }> =>
    (chromiumRun ??= run("Chromium", () => page.evaluate(`window.eventLogScenario(WebSocket, ${JSON.stringify(urls)})`)));

  test("the same scenario logs the same events in Chromium and in Node", async (t) => {
    const inBrowser = await inChromium();
    const inNode = await run("Node", () => eventLogScenario(WebSocket, urls));
    t.diagnostic(`Chromium ${browser.version()} (${CHROMIUM_ARGS.join(" ")}): ${inBrowser.log.length} log entries`);

    // The reference is the browser: first make sure its log shows what the scenario claims to do,
    // so two logs that are identical because both are empty or broken cannot pass.
    const entries = inBrowser.log.map((entry) => JSON.stringify(entry));
    const has = (fragment: unknown[]): boolean => entries.some((entry) => entry.startsWith(JSON.stringify(fragment).slice(0, -1)));
    assert.ok(has(["echo", "open", "open", "Event", 1, "chat", "permessage-deflate"]), "echo opened with a subprotocol and deflate");
    assert.ok(
      has(["echo", "message", 5, "MessageEvent", new URL(urls.echo).origin, "", 0, 1, "blob", 10, "", "read:", 10, "98,108,111,98,32,112,97,114"]),
      "a Blob echo, read",
    );
    assert.ok(has(["echo", "message", 6, "MessageEvent", new URL(urls.echo).origin, "", 0, 1, "arraybuffer", 70_000]), "an ArrayBuffer echo");
    assert.ok(has(["server close", "listener", "message", "bye soon"]), "addEventListener listeners are called");
    // hawser's server echoes the code and reason of the client's close (section 5.5.1).
    assert.ok(has(["echo", "close", "CloseEvent", 1000, "client done", true, 3]), "client-initiated close");
    assert.ok(has(["server close", "close", "CloseEvent", 4001, "server says bye", true, 3]), "server-initiated close");
    for (const label of ["refused", "404", "no protocol chosen", "close while CONNECTING"]) {
      assert.ok(has([label, "error", "Event", 3]), `${label}: error event`);
      assert.ok(has([label, "close", "CloseEvent", 1006, "", false, 3]), `${label}: close 1006`);
    }

    assert.deepEqual(inNode.log, inBrowser.log, "hawser/web's event log differs from Chromium's");
    assert.deepEqual(inNode.server, inBrowser.server, "the server saw the two runs differently");
    assert.deepEqual(
      inBrowser.server.map((entry) => [entry.path, entry.offer, entry.agreed]),
      [
        ["/echo", "permessage-deflate; client_max_window_bits", "permessage-deflate"],
        ["/server-close", "permessage-deflate; client_max_window_bits", "permessage-deflate"],
        ["/echo-no-protocol", "permessage-deflate; client_max_window_bits", "permessage-deflate"],
      ],
      "connections the server accepted, with the extension offer and answer",
    );
  });

  test("Node's own WebSocket (undici) logs what Chromium logs, but for undici's named differences", { skip: nodeWebSocket.skip }, async (t) => {
    nodeWebSocket.assertAvailable();
    const inBrowser = await inChromium();
    let report: NodeWebSocketReport | undefined;
    const inUndici = await run("Node's own WebSocket", async () => {
      report = await runNodeWebSocket(["event-log", JSON.stringify(urls)]);
      return report.log;
    });
    assert.ok(report, "the peer reported");
    const differences = undiciDifferences(report.undiciVersion);
    t.diagnostic(`Node ${report.nodeVersion}, undici ${report.undiciVersion}: ${differences.length} known differences from Chromium`);
    for (const difference of differences) t.diagnostic(`undici: ${difference.name}`);

    const expected = differences.reduce<unknown[][]>((log, difference) => difference.apply(log), inBrowser.log);
    assert.deepEqual(inUndici.log, expected, "undici's event log differs from Chromium's in a way not listed in undici-differences.ts");
    assert.deepEqual(inUndici.server, inBrowser.server, "the server saw the undici run differently from Chromium's");
    assert.equal(report.lingeringSockets, undiciLingeringSockets(report.undiciVersion), "TCP connections undici left open");
  });
});
