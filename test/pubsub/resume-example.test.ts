// examples/resume.ts with its two clients, examples/resume-client.ts (hawser's Node client with
// `reconnect`) and examples/web-resume.ts (the WHATWG WebSocket, reconnecting in its own code):
// two server processes on one Redis; the clients' server dies while messages are published on
// the other; when it is back, each client resumes from its last offset and prints every
// message exactly once.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, test } from "node:test";
import { assertBuilt, ROOT, startProgram, type RunningProgram } from "../helpers/cli.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { PrivateRedis, redisServerBinary } from "./redis-helpers.js";

const binary = redisServerBinary();

for (const example of ["examples/resume-client.ts", "examples/web-resume.ts"]) {
  test(`${example} misses nothing while its server is down`, { skip: binary.skip }, async () => {
    binary.assertAvailable();
    assertBuilt(); // the examples import the package by name ("hawser", "hawser/redis")
    const redis = await PrivateRedis.start();
    const servers: RunningProgram[] = [];
    const start = (port = 0): Promise<RunningProgram> => startProgram("examples/resume.ts", ["--port", String(port), "--redis", redis.url], ["--import", "tsx"]);
    after(async () => {
      await Promise.all(servers.map((server) => server.stop().catch(() => undefined)));
      await redis.remove();
    });
    servers.push(await start(), await start());
    const [first, second] = servers as [RunningProgram, RunningProgram];
    // The client connects to the first server (its URL is the one argument).
    const resumer = spawn(process.execPath, ["--import", "tsx", example, `${first.url}/`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    after(() => void resumer.kill());
    let printed = "";
    let logged = "";
    resumer.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    resumer.stderr.on("data", (chunk: Buffer) => (logged += chunk.toString()));
    const lines = (): string[] => printed.split("\n").filter(Boolean);

    const publisher = await WsPeer.connect(`${second.url}/`);
    after(() => publisher.terminate());
    assert.deepEqual(JSON.parse((await publisher.next()).text), { caughtUp: "0-0", truncated: false });
    // Once the client is subscribed, a message reaches it: publish "m0" until one does.
    for (let tries = 0; lines().length === 0; tries++) {
      if (tries === 50) throw new Error(`The client printed nothing within 10 s:\n${logged}`);
      await publisher.send("m0");
      await sleep(200);
    }
    // The client's server dies; meanwhile the other server's clients publish.
    await first.stop();
    for (let i = 1; i <= 5; i++) await publisher.send(`m${i}`);
    // The publisher is told each message's offset once Redis has it.
    assert.match((JSON.parse((await publisher.next()).text) as { published: string }).published, /^\d+-\d+$/);
    await sleep(300); // the client notices and retries meanwhile
    // Back on the same port: the client resumes from the last offset it printed.
    servers.push(await start(first.port));
    await publisher.send("m6");
    await waitUntil(() => lines().includes("m6"), 15_000, "the client to resume and get m6");
    await sleep(100);
    assert.deepEqual(lines().filter((line) => line !== "m0"), ["m1", "m2", "m3", "m4", "m5", "m6"], `the client printed:\n${printed}`);
  });
}
