// Smoke tests under Bun and Deno (both from npm, as devDependencies; see test/helpers/runtimes.ts):
// the built `hawser echo` served by the runtime and driven by hawser's client from Node, and a
// small user program (client-program.mjs: hawser's client and hawser/web) run by the runtime
// against a hawser echo server in Node, and a `ws` program on hawser/ws (ws-program.mjs: its
// server and client in the runtime). What does not work under a runtime is listed in the
// README's "Other runtimes" section.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { connect, WebSocketOpcode } from "../../src/index.js";
import { assertBuilt, CLI, runForJson, startProgram } from "../helpers/cli.js";
import { startEchoServer, type EchoServer } from "../helpers/echo-server.js";
import { BUN, DENO, type Runtime } from "../helpers/runtimes.js";
import { withTimeout } from "../helpers/wait.js";

const CLIENT_PROGRAM = fileURLToPath(new URL("./client-program.mjs", import.meta.url));
const WS_PROGRAM = fileURLToPath(new URL("./ws-program.mjs", import.meta.url));

/** Runs `script` under the runtime and parses the JSON it prints; fails with its stderr. */
function runUnder(runtime: Runtime, script: string, args: string[]): Promise<unknown> {
  return runForJson(runtime.executable, [...runtime.runArgs, script, ...args], {
    what: `${runtime.name} running ${script}`,
    timeoutMs: 60_000,
    env: runtime.env,
  });
}

/** Messages where each compressed one refers back to the ones before (context takeover). */
function conversation(): Array<string | Uint8Array> {
  const phrase = "the same words again, and again, across messages ";
  const bytes = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (i * 13) & 0xff);
  return [phrase, phrase.repeat(40), bytes(5000), phrase.repeat(2000), bytes(70_000), phrase.repeat(30_000), "é".repeat(20_000), phrase, bytes(0)];
}

for (const runtime of [BUN, DENO]) {
  describe(`${runtime.name}: the smoke tests`, { skip: runtime.peer.skip }, () => {
    before(() => {
      runtime.peer.assertAvailable();
      assertBuilt();
    });

    test(`\`hawser echo\` under ${runtime.name}: echoes with and without permessage-deflate, answers HTTP, stops on SIGTERM with 1001`, async (t) => {
      t.diagnostic(runtime.version());
      const program = await startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"], [...runtime.runArgs], runtime);
      try {
        for (const perMessageDeflate of [true, false]) {
          const socket = await connect(`${program.url}/`, { pingFrequency: 0, perMessageDeflate });
          assert.equal(socket.extensions, perMessageDeflate ? "permessage-deflate" : "");
          assert.equal((await socket.recv()).textData, "hello");
          assert.equal((await socket.recv()).textData, " world!");
          for (const [i, message] of conversation().entries()) {
            socket.send(message);
            const echo = await socket.recv();
            if (typeof message === "string") assert.equal(echo.textData, message, `message ${i} (text)`);
            else assert.ok(echo.opcode === WebSocketOpcode.binary && Buffer.from(echo.data).equals(message), `message ${i} (binary)`);
          }
          socket.close(1000, "done");
          const end = await socket.recv();
          assert.deepEqual([end.opcode, end.code, end.reason, end.wasClean], [WebSocketOpcode.close, 1000, "done", true]);
        }

        const page = await fetch(`${program.httpUrl}/`);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /websocket client/);

        const open = await connect(`${program.url}/`, { pingFrequency: 0 });
        assert.deepEqual([(await open.recv()).textData, (await open.recv()).textData], ["hello", " world!"]);
        program.child.kill("SIGTERM");
        const end = await open.recv();
        assert.deepEqual([end.code, end.reason, end.wasClean], [1001, "server shutting down", true]);
        assert.equal(await withTimeout(program.exited, 10_000, `${runtime.name} to exit`), 0);
      } finally {
        await program.stop();
      }
    });

    describe(`user programs under ${runtime.name}, against a hawser server in Node`, () => {
      let server: EchoServer;
      before(async () => {
        server = await startEchoServer({ pingIntervalMs: 0 });
      });
      after(() => server?.close());

      test("hawser's client and hawser/web (client-program.mjs)", async () => {
        const report = (await runUnder(runtime, CLIENT_PROGRAM, [`${server.url}/`])) as {
          client: { extensions: string; greeting: string[]; echoes: string[]; close: unknown[] };
          web: unknown[][];
        };
        assert.equal(report.client.extensions, "permessage-deflate");
        assert.deepEqual(report.client.greeting, ["hello", " world!"]);
        assert.deepEqual(report.client.echoes, new Array(12).fill("ok"), "every echo came back as sent");
        assert.deepEqual(report.client.close, [true, 1000, "client done", true]);
        assert.deepEqual(report.web, [
          ["open", 1, "permessage-deflate"],
          ["message", "text", 5, "hell", "ello"],
          ["message", "text", 7, " wor", "rld!"],
          ["message", "text", 8, "from", " web"],
          ["message", "binary", 70_000, 3, 12],
          ["close", 4000, "web done", true, 3],
        ]);
        const closes = await Promise.all(server.sockets.slice(-2).map((socket) => withTimeout(socket.closed, 3000, "the server's close events")));
        assert.deepEqual(
          closes.map((event) => [event.code, event.reason, event.wasClean]),
          [
            [1000, "client done", true],
            [4000, "web done", true],
          ],
        );
      });
    });

    test("the hawser/ws face: a WebSocketServer and a WebSocket in one program (ws-program.mjs)", async () => {
      const report = (await runUnder(runtime, WS_PROGRAM, [])) as { server: unknown[][]; client: unknown[][] };
      const echoes = [
        ["message", "text", 21, "hello from the client"],
        ["message", "text", 5000, "é".repeat(21)],
        ["message", "binary", 70_000, true],
        ["message", "binary", 0, true],
      ];
      assert.deepEqual(report.client, [["open", 1, "chat", "permessage-deflate"], ...echoes, ["pong", "are you there"], ["close", 4001, "client done", 3]]);
      assert.deepEqual(report.server, [["connection", "/path?x=1", "chat"], ...echoes, ["ping", "are you there"], ["close", 4001, "client done"]]);
    });
  });
}
