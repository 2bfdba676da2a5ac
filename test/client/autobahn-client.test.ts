// conformance/autobahn-client.ts against a tiny fake fuzzing server that speaks the
// Autobahn fuzzingserver URL protocol: getCaseCount, runCase (checking the echoes), updateReports.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { runAutobahnClient } from "../../conformance/autobahn-client.js";
import { WebSocketOpcode, type Cgi } from "../../src/index.js";
import { ROOT } from "../helpers/cli.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";

const CASE_COUNT = 3;

interface FakeFuzzingServer {
  /** "case N: ok" or "case N: <what was wrong>", in order. */
  readonly cases: string[];
  readonly reports: string[];
  readonly countRequests: number;
}

describe("autobahn-client", () => {
  let server: TestServer;
  const state = { cases: [] as string[], reports: [] as string[], countRequests: 0 };
  const fake: FakeFuzzingServer = state;

  before(async () => {
    server = await startServer(
      async (cgi: Cgi) => {
        const socket = cgi.acceptWebsocket();
        const agent = cgi.query.get("agent") ?? "";
        switch (cgi.pathInfo) {
          case "/getCaseCount":
            state.countRequests++;
            socket.send(String(CASE_COUNT));
            socket.close(1000);
            return;
          case "/runCase": {
            const number = Number(cgi.query.get("case"));
            const text = `case ${number} ✓ for ${agent}`;
            const binary = Buffer.from([number, 0, 0xff]);
            socket.send(text);
            socket.send(binary);
            socket.send("");
            const first = await socket.recv();
            const second = await socket.recv();
            const third = await socket.recv();
            const problems: string[] = [];
            if (first.opcode !== WebSocketOpcode.text || first.textData !== text) problems.push("text not echoed as text");
            if (second.opcode !== WebSocketOpcode.binary || !second.data.equals(binary)) problems.push("binary not echoed as binary");
            if (third.opcode !== WebSocketOpcode.text || third.data.length !== 0) problems.push("empty text not echoed");
            state.cases.push(`case ${number}: ${problems.join(", ") || "ok"}`);
            socket.close(1000);
            return;
          }
          case "/updateReports":
            state.reports.push(agent);
            socket.close(1000);
            return;
          default:
            socket.close(4404, "unknown path");
        }
      },
      { pingIntervalMs: 0 },
    );
  });
  after(() => server?.close());

  test("asks for the case count, echoes every case's messages as they came, then updates the reports", async () => {
    const lines: string[] = [];
    const result = await withTimeout(
      runAutobahnClient({ url: server.url, agent: "hawser test", log: (line) => lines.push(line) }),
      20_000,
      "the Autobahn client run",
    );
    assert.equal(result.caseCount, CASE_COUNT);
    assert.deepEqual([...result.outcomes.values()], ["1000 clean", "1000 clean", "1000 clean"]);
    assert.equal(fake.countRequests, 1);
    assert.deepEqual(fake.cases, ["case 1: ok", "case 2: ok", "case 3: ok"]);
    assert.deepEqual(fake.reports, ["hawser test"], "the agent name is passed through, URL-encoded and decoded");
    assert.equal(lines[0], `3 cases on ${server.url}`);
    assert.equal(lines.at(-1), "reports updated for agent hawser test");
  });

  test("npm run autobahn:client -- --url URL --agent NAME --cases 2 exits 0", async () => {
    state.cases.length = 0;
    const child = spawn(process.execPath, ["--import", "tsx", "conformance/autobahn-client.ts", "--url", server.url, "--agent", "cli", "--cases", "2"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await withTimeout(new Promise((resolve) => child.once("close", resolve)), 20_000, "autobahn-client.ts to finish");
    assert.equal(code, 0, output);
    assert.match(output, /case 2\/3: 1000 clean/);
    assert.deepEqual(fake.cases, ["case 2: ok"]);
    assert.equal(fake.reports.at(-1), "cli");
  });

  test("without --url and --agent it exits 2 with the usage", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "conformance/autobahn-client.ts", "--url", server.url], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await withTimeout(new Promise((resolve) => child.once("close", resolve)), 20_000, "autobahn-client.ts to finish");
    assert.equal(code, 2);
    assert.match(stderr, /--url and --agent are required/);
  });
});
