// examples/resume.ts with its two clients, examples/resume-client.ts (hawser's Node client with
// `reconnect`) and examples/web-resume.ts (the WHATWG WebSocket, reconnecting in its own code):
// two server processes on one Redis; the client's server becomes unreachable (its connection
// cut, through a proxy) while messages are published on the other; when it is reachable again,
// each client resumes from its last offset and prints every message exactly once.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { assertBuilt, ROOT, startProgram, type RunningProgram } from "../helpers/cli.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { freePort, PrivateRedis, redisServerBinary } from "./redis-helpers.js";

const binary = redisServerBinary();

describe("examples/resume.ts and its clients", { skip: binary.skip }, () => {
  let redis: PrivateRedis | null = null;
  const servers: RunningProgram[] = [];
  before(async () => {
    binary.assertAvailable();
    assertBuilt(); // the examples import the package by name ("hawser", "hawser/redis")
    redis = await PrivateRedis.start();
    const start = (): Promise<RunningProgram> => startProgram("examples/resume.ts", ["--port", "0", "--redis", redis!.url], ["--import", "tsx"]);
    servers.push(...(await Promise.all([start(), start()])));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
    await redis?.remove();
  });

  for (const example of ["examples/resume-client.ts", "examples/web-resume.ts"]) {
    test(`${example} misses nothing while its server is unreachable`, async () => {
      const [first, second] = servers as [RunningProgram, RunningProgram];
      // The client reaches the first server through a proxy (its URL is the one argument).
      const proxy = await TcpProxy.start(first.port);
      after(() => proxy.close());
      const resumer = spawn(process.execPath, ["--import", "tsx", example, `ws://127.0.0.1:${proxy.port}/`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      after(() => void resumer.kill());
      let printed = "";
      let logged = "";
      resumer.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
      resumer.stderr.on("data", (chunk: Buffer) => (logged += chunk.toString()));
      const lines = (): string[] => printed.split("\n").filter(Boolean);

      const publisher = await WsPeer.connect(`${second.url}/`);
      after(() => publisher.terminate());
      assert.match((JSON.parse((await publisher.next()).text) as { caughtUp: string }).caughtUp, /^\d+-\d+$/);
      // Once the client is subscribed, a message reaches it: publish "m0" until one does.
      for (let tries = 0; lines().length === 0; tries++) {
        if (tries === 50) throw new Error(`The client printed nothing within 10 s:\n${logged}`);
        await publisher.send("m0");
        await sleep(200);
      }
      // The client's server becomes unreachable; meanwhile the other server's clients publish.
      proxy.retarget(await freePort());
      proxy.cutAll();
      for (let i = 1; i <= 5; i++) await publisher.send(`m${i}`);
      // The publisher is told each message's offset once Redis has it.
      assert.match((JSON.parse((await publisher.next()).text) as { published: string }).published, /^\d+-\d+$/);
      await sleep(300); // the client notices and retries meanwhile
      // Reachable again: the client resumes from the last offset it printed.
      proxy.retarget(first.port);
      await publisher.send("m6");
      await waitUntil(() => lines().includes("m6"), 15_000, "the client to resume and get m6");
      await sleep(100);
      assert.deepEqual(
        lines().filter((line) => line !== "m0"),
        ["m1", "m2", "m3", "m4", "m5", "m6"],
        `the client printed:\n${printed}`,
      );
    });
  }
});
