// messageRateLimit under attack: a flood of tiny messages (and of pings) from a separate
// process, closed with 1008 in one mode and paused in the other, while well-behaved clients of
// the same server keep echoing. Their round-trip p99 before and during the flood is printed
// (never asserted: speed belongs in bench/), beside the same flood with the limit turned off.
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, test, type TestContext } from "node:test";
import { connect } from "../../src/client/connect.js";
import type { Cgi } from "../../src/server/cgi.js";
import type { HandlerOptions } from "../../src/server/handler.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { sleep, withTimeout } from "../helpers/wait.js";

const FLOODER = fileURLToPath(new URL("./flood-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface FloodResult {
  connections: number;
  framesWritten: number;
  closeCodes: number[];
  drainWaits: number;
}

/** Runs the flooder for `durationMs` against `path`; resolves with what it reports. */
function flood(port: number, path: string, kind: "text" | "ping", durationMs: number): Promise<FloodResult> {
  const child = fork(FLOODER, [String(port), path, kind, String(durationMs)], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return withTimeout(
    new Promise<FloodResult>((resolve, reject) => {
      child.once("exit", (code) => {
        if (code === 0) resolve(JSON.parse(output) as FloodResult);
        else reject(new Error(`the flooder exited with ${code}: ${output}`));
      });
    }),
    durationMs + 15_000,
    "the flooder",
  ).finally(() => child.kill());
}

/** The flood's target: counts what reaches the handler per connection, echoes the rest. */
interface Target {
  server: TestServer;
  /** Messages the handler received on each /flood connection, in connection order. */
  floodMessages: number[];
  floodPings: number[];
  close(): Promise<void>;
}

async function startTarget(options: HandlerOptions & { http2?: false }): Promise<Target> {
  const floodMessages: number[] = [];
  const floodPings: number[] = [];
  const server = await startServer(
    (cgi: Cgi) => {
      const socket = cgi.acceptWebsocket();
      if (cgi.pathInfo === "/flood") {
        const index = floodMessages.push(0) - 1;
        floodPings.push(0);
        socket.onmessage = () => floodMessages[index]!++;
        socket.onping = () => floodPings[index]!++;
        socket.onerror = () => undefined;
        return;
      }
      socket.onmessage = (event) => socket.send(event.data);
    },
    { pingIntervalMs: 0, onWarning: () => undefined, ...options },
  );
  return { server, floodMessages, floodPings, close: () => server.close() };
}

/**
 * Well-behaved clients: each sends a message every 5 ms (200/s, within any limit used here) and
 * times its echo. Returns every round trip in microseconds; fails if an echo is wrong or missing.
 */
async function measureRoundTrips(url: string, clients: WebSocket[], durationMs: number): Promise<number[]> {
  const samples: number[] = [];
  const end = Date.now() + durationMs;
  await Promise.all(
    clients.map(async (client, index) => {
      for (let n = 0; Date.now() < end; n++) {
        const text = `probe ${index} ${n}`;
        const started = process.hrtime.bigint();
        client.send(text);
        const echo = await withTimeout(client.recv(), 5000, `the echo of '${text}' from ${url}`);
        samples.push(Number(process.hrtime.bigint() - started) / 1000);
        assert.equal(echo.textData, text);
        await sleep(5);
      }
    }),
  );
  return samples;
}

function p99(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN;
  return `${at.toFixed(0)} µs (${samples.length} round trips)`;
}

/** p99 of the well-behaved clients before the flood and during it; prints both. */
async function attack(
  t: TestContext,
  target: Target,
  kind: "text" | "ping",
  label: string,
): Promise<{ flood: FloodResult; floodMs: number; before: number[]; during: number[] }> {
  const clients = await Promise.all(Array.from({ length: 4 }, () => connect(`${target.server.url}/echo`, { perMessageDeflate: false })));
  try {
    const before = await measureRoundTrips(target.server.url, clients, 1000);
    const floodStarted = Date.now();
    const flooding = flood(target.server.port, "/flood", kind, 1500);
    await sleep(200); // let the flood start
    const during = await measureRoundTrips(target.server.url, clients, 1000);
    const result = await flooding;
    const floodMs = Date.now() - floodStarted;
    const delivered = target.floodMessages.reduce((a, b) => a + b, 0) + target.floodPings.reduce((a, b) => a + b, 0);
    t.diagnostic(
      `${label}: flooder wrote ${result.framesWritten} ${kind} frames over ${result.connections} connection(s) ` +
        `(close codes: ${[...new Set(result.closeCodes)].join(",") || "none"}; writes blocked ${result.drainWaits} times); ` +
        `${delivered} reached the handler. Well-behaved p99 before: ${p99(before)}, during: ${p99(during)}`,
    );
    return { flood: result, floodMs, before, during };
  } finally {
    for (const client of clients) client.close();
  }
}

const LIMIT = { messagesPerSecond: 500, burstMessages: 500 };
/** What one short-lived connection may get: its burst, and what refills while it is opened and read (50 ms). */
const ONE_CONNECTION = LIMIT.burstMessages + LIMIT.messagesPerSecond / 20;

describe("a message flood", () => {
  test('action "close": each flooding connection is closed with 1008 right after its burst; the others keep echoing', async (t) => {
    const target = await startTarget({ messageRateLimit: { ...LIMIT, action: "close" } });
    try {
      const { flood: result } = await attack(t, target, "text", "close at 500/s");
      assert.ok(result.closeCodes.length >= 1, "the server closed the flooder");
      assert.deepEqual([...new Set(result.closeCodes)], [1008], "every flooding connection got 1008 (policy violation)");
      for (const count of target.floodMessages)
        assert.ok(count <= ONE_CONNECTION, `a flooding connection got ${count} messages through (burst ${LIMIT.burstMessages})`);
    } finally {
      await target.close();
    }
  });

  test('action "pause": the flooder is read at the limited rate and never closed; the others keep echoing', async (t) => {
    const target = await startTarget({ messageRateLimit: { ...LIMIT, action: "pause" } });
    try {
      const { flood: result, floodMs } = await attack(t, target, "text", "pause at 500/s");
      assert.deepEqual(result.closeCodes, [], "pause never closes");
      assert.equal(result.connections, 1);
      assert.ok(result.drainWaits > 0, "the flooder's writes backed up: the server stopped reading");
      const [received] = target.floodMessages as [number];
      // At most the burst, and the rate over the time the flood ran (a little more: the count
      // is read after the flooder's process has reported).
      const most = LIMIT.burstMessages + (LIMIT.messagesPerSecond * (floodMs + 100)) / 1000;
      assert.ok(received <= most, `the handler got ${received} messages in ${floodMs} ms (at most ${most} allowed)`);
      assert.ok(received >= LIMIT.burstMessages, "the burst went through");
      assert.ok(received < result.framesWritten, "far fewer than were written");
    } finally {
      await target.close();
    }
  });

  test("the default limit is on: serve() without options pauses a flood at 1,000 frames/s", async (t) => {
    const target = await startTarget({});
    try {
      const started = Date.now();
      const result = await flood(target.server.port, "/flood", "text", 1000);
      const elapsedMs = Date.now() - started;
      const [received] = target.floodMessages as [number];
      t.diagnostic(`default limit: flooder wrote ${result.framesWritten} frames, ${received} reached the handler in ${elapsedMs} ms`);
      assert.deepEqual(result.closeCodes, []);
      assert.ok(received <= 1000 + elapsedMs + 50, `${received} messages in ${elapsedMs} ms at the default 1,000/s, burst 1,000`);
    } finally {
      await target.close();
    }
  });

  test("for comparison, without a limit: the same flood reaches the handler at full speed (nothing asserted but the echoes)", async (t) => {
    const target = await startTarget({ messageRateLimit: false });
    try {
      const { flood: result } = await attack(t, target, "text", "no limit");
      assert.deepEqual(result.closeCodes, []);
    } finally {
      await target.close();
    }
  });
});

describe("a ping flood", () => {
  test("pings count as messages: closed with 1008 in close mode", async (t) => {
    const target = await startTarget({ messageRateLimit: { ...LIMIT, action: "close" } });
    try {
      const { flood: result } = await attack(t, target, "ping", "ping flood, close at 500/s");
      assert.deepEqual([...new Set(result.closeCodes)], [1008]);
      for (const count of target.floodPings) assert.ok(count <= ONE_CONNECTION, `${count} pings got through (burst ${LIMIT.burstMessages})`);
    } finally {
      await target.close();
    }
  });
});
