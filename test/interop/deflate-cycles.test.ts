// Zlib contexts are freed when connections close: 10,000 open / message / close cycles of
// compressing connections (hawser client to a hawser echo server in a child process of its
// own, test/helpers/deflate-load-server.ts). The server's RSS at the end stays within a bound
// of its RSS at the start, and neither side is left with a handle (socket, timer) it did not
// have before. The figures are printed as diagnostics.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { connect } from "../../src/index.js";
import { settledStats as settled, startLoadServer, type LoadServer } from "../helpers/deflate-load-server.js";
import { MiB } from "../helpers/payloads.js";
import { withTimeout } from "../helpers/wait.js";

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

const servers: LoadServer[] = [];
after(async () => {
  for (const server of servers) await server.stop();
});

const CYCLES = 10_000;
const WARM_UP = 1000;
const PARALLEL = 50;
/** Generous: a leaked zlib context is ~300 KiB, so 10,000 cycles leaking one would add ~3 GiB. */
const MAX_RSS_GROWTH = 48 * MiB;

describe(`${CYCLES.toLocaleString("en")} open / message / close cycles of compressing connections`, () => {
  test("RSS at the end stays near RSS at the start, and no handles are left behind", async (t) => {
    const server = await startLoadServer({ pingIntervalMs: 0 });
    servers.push(server);
    const text = "zlib contexts must be freed when a connection closes; ".repeat(40);
    const cycle = async (): Promise<void> => {
      const client = await connect(`ws://127.0.0.1:${server.port}/`);
      assert.match(client.extensions, /^permessage-deflate/);
      client.send(text);
      const echo = await withTimeout(client.recv(), 10_000, "the echo");
      assert.equal(echo.textData, text);
      client.close();
      const closed = await withTimeout(client.closed, 10_000, "the client to close");
      assert.equal(closed.wasClean, true);
    };
    const run = async (count: number): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < count) {
            next++;
            await cycle();
          }
        }),
      );
    };

    await run(WARM_UP); // JIT, allocator arenas, buffer pools
    const start = await settled(server);
    const clientResources = process.getActiveResourcesInfo().sort();
    const started = performance.now();
    await run(CYCLES);
    const ms = performance.now() - started;
    const end = await settled(server);
    const growth = end.rssBytes - start.rssBytes;
    t.diagnostic(
      `${CYCLES} cycles (${PARALLEL} at a time) in ${(ms / 1000).toFixed(1)} s; server RSS ${mib(start.rssBytes)} at the start, ` +
        `${mib(end.rssBytes)} at the end (${growth >= 0 ? "+" : ""}${mib(growth)}), heap ${mib(start.heapUsedBytes)} → ${mib(end.heapUsedBytes)}, ` +
        `external ${mib(start.externalBytes)} → ${mib(end.externalBytes)}`,
    );
    assert.equal(end.accepted, WARM_UP + CYCLES);
    assert.equal(end.openSockets, 0);
    assert.deepEqual(end.closeCodes, { 1000: WARM_UP + CYCLES });
    assert.ok(growth < MAX_RSS_GROWTH, `server RSS grew by ${mib(growth)} over ${CYCLES} cycles`);
    assert.deepEqual(end.activeResources, start.activeResources, "the server's live handles");
    assert.deepEqual(process.getActiveResourcesInfo().sort(), clientResources, "the client side's live handles");
    await server.stop();
  });
});
