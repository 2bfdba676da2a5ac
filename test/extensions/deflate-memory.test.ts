// Memory behaviour of permessage-deflate, measured in child processes (a clean
// heap, --expose-gc) so other tests do not disturb the numbers. The file is both
// the test and, with HAWSER_DEFLATE_SCENARIO set, the child program.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { DeflateError, PerMessageDeflate } from "../../src/extensions/deflate.js";
import { forRole, type DeflateParams } from "../../src/extensions/deflate-negotiation.js";
import { ZlibLimiter } from "../../src/extensions/zlib-limiter.js";

const MiB = 1024 * 1024;
const PARAMS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

type Report = Record<string, number | string | boolean>;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error("run the child with --expose-gc");
  g();
  g();
}

const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * A payload inflating to `mib` MiB of zeros. DEFLATE's best ratio is ~1032:1, so
 * 1 GiB needs ~1 MiB of input: 1 MiB of zeros sync-flushed is a ~1 KiB unit that
 * starts and ends on a block boundary, and copies of it concatenate.
 */
function bomb(mib: number): { unit: Buffer; payload: Buffer } {
  const unit = zlib.deflateRawSync(Buffer.alloc(MiB), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = Buffer.concat(Array(mib).fill(unit));
  return { unit, payload: payload.subarray(0, payload.length - 4) }; // RFC 7692 §7.2.1: the sender drops 00 00 ff ff
}

const scenarios: Record<string, () => Promise<Report>> = {
  async bomb(): Promise<Report> {
    const limit = 16 * MiB;
    const { unit, payload } = bomb(1024);
    // the construction is sound: 3 units inflate to 3 MiB of zeros
    const three = zlib.inflateRawSync(Buffer.concat([unit, unit, unit]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok(three.length === 3 * MiB && three.every((b) => b === 0));
    const receiver = new PerMessageDeflate(forRole(PARAMS, "client"));
    gc();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    let inflatedBytes = -1;
    let closeCode = 0;
    try {
      await receiver.decompress(payload, true, limit);
    } catch (err) {
      if (!(err instanceof DeflateError)) throw err;
      closeCode = err.closeCode;
      inflatedBytes = err.inflatedBytes ?? -1;
    }
    const ms = performance.now() - started;
    const peakGrowth = maxRssBytes() - rssBefore;
    receiver.close();

    // The same bomb cut into 1 KiB frames: the limit counts across fragments.
    const fragmented = new PerMessageDeflate(forRole(PARAMS, "client"));
    let fragments = 0;
    let fragmentedCode = 0;
    try {
      for (let i = 0; i < 1024; i++, fragments++) await fragmented.decompress(unit, false, limit);
    } catch (err) {
      if (!(err instanceof DeflateError)) throw err;
      fragmentedCode = err.closeCode;
    }
    fragmented.close();
    return {
      compressedBytes: payload.length,
      limit,
      closeCode,
      inflatedBytes,
      ms: Math.round(ms),
      peakRssGrowthMiB: +(peakGrowth / MiB).toFixed(1),
      fragmentsAccepted: fragments,
      fragmentedCode,
    };
  },

  async cycles(): Promise<Report> {
    const text = Buffer.from("permessage-deflate keeps zlib contexts per connection; ".repeat(60));
    const cycle = async (i: number): Promise<void> => {
      const server = new PerMessageDeflate(forRole(PARAMS, "server"));
      const client = new PerMessageDeflate(forRole(PARAMS, "client"));
      for (let k = 0; k < 3; k++) {
        const m = text.subarray(0, 1000 + ((i * 7 + k * 311) % 2000));
        const toClient = await client.decompress(await server.compress(m), true, 1e6);
        const toServer = await server.decompress(await client.compress(m), true, 1e6);
        if (!toClient.equals(m) || !toServer.equals(m)) throw new Error("round trip failed");
      }
      server.close();
      client.close();
    };
    const run = async (count: number, offset: number): Promise<void> => {
      const batch = 100; // 100 connections open at a time
      for (let i = 0; i < count; i += batch) {
        await Promise.all(Array.from({ length: batch }, (_, k) => cycle(offset + i + k)));
      }
    };
    await run(1000, 0); // warm-up: JIT, allocator arenas, buffer pools
    await new Promise((r) => setTimeout(r, 100));
    gc();
    const rssWarm = process.memoryUsage().rss;
    const started = performance.now();
    await run(10_000, 1000);
    const ms = performance.now() - started;
    await new Promise((r) => setTimeout(r, 100));
    gc();
    const rssAfter = process.memoryUsage().rss;
    return {
      cycles: 10_000,
      ms: Math.round(ms),
      rssWarmMiB: +(rssWarm / MiB).toFixed(1),
      rssAfterMiB: +(rssAfter / MiB).toFixed(1),
      growthMiB: +((rssAfter - rssWarm) / MiB).toFixed(1),
      activeResources: process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap").length,
    };
  },

  /** 1,000 connections each compressing 64 KiB at once (the fragmentation scenario). */
  async connections(): Promise<Report> {
    const maxConcurrent = Number(process.env.HAWSER_ZLIB_CONCURRENCY ?? "10");
    const noContextTakeover = process.env.HAWSER_NO_CONTEXT_TAKEOVER === "1";
    const limiter = new ZlibLimiter(maxConcurrent);
    const params = { ...PARAMS, serverNoContextTakeover: noContextTakeover };
    const message = Buffer.from(Array.from({ length: 9000 }, (_, i) => `{"id":${i},"name":"user${i % 97}","score":${(i * 7919) % 1000}}`).join(",")).subarray(
      0,
      64 * 1024,
    );
    gc();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const connections = Array.from({ length: 1000 }, () => new PerMessageDeflate(forRole(params, "server"), {}, limiter));
    let out = 0;
    for (let round = 0; round < 3; round++) {
      const sizes = await Promise.all(connections.map((c) => c.compress(message).then((b) => b.length)));
      out += sizes.reduce((a, b) => a + b, 0);
    }
    const ms = performance.now() - started;
    const peakGrowth = maxRssBytes() - rssBefore;
    gc();
    const heldGrowth = process.memoryUsage().rss - rssBefore; // contexts kept between messages
    for (const c of connections) c.close();
    await new Promise((r) => setTimeout(r, 100));
    gc();
    const afterClose = process.memoryUsage().rss - rssBefore;
    return {
      maxConcurrent,
      noContextTakeover,
      ratio: +(out / (3 * 1000 * message.length)).toFixed(3),
      ms: Math.round(ms),
      peakRssGrowthMiB: +(peakGrowth / MiB).toFixed(1),
      idleRssGrowthMiB: +(heldGrowth / MiB).toFixed(1),
      afterCloseRssGrowthMiB: +(afterClose / MiB).toFixed(1),
    };
  },
};

const scenario = process.env.HAWSER_DEFLATE_SCENARIO;
if (scenario) {
  const run = scenarios[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  const report = await run();
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const child = (name: string, env: Record<string, string> = {}): Report => {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", self], {
      cwd: root,
      env: { ...process.env, ...env, HAWSER_DEFLATE_SCENARIO: name },
      encoding: "utf8",
      timeout: 110_000,
    });
    assert.equal(r.status, 0, `scenario ${name} failed:\n${r.stderr}`);
    const line = r.stdout.trim().split("\n").pop() ?? "";
    return JSON.parse(line) as Report;
  };

  test("a 1 MiB message inflating to 1 GiB is stopped at the limit with 1009, memory stays near the limit", (t) => {
    const r = child("bomb");
    t.diagnostic(JSON.stringify(r));
    assert.equal(r.closeCode, 1009);
    const limit = r.limit as number;
    assert.ok((r.inflatedBytes as number) > limit, "stopped only after passing the limit");
    assert.ok((r.inflatedBytes as number) <= limit + 64 * 1024, `stopped within one zlib chunk of the limit (${r.inflatedBytes})`);
    assert.ok((r.peakRssGrowthMiB as number) < 96, `peak RSS growth ${r.peakRssGrowthMiB} MiB, far below 1 GiB`);
    assert.equal(r.fragmentedCode, 1009);
    assert.equal(r.fragmentsAccepted, 16, "16 fragments of 1 MiB fit a 16 MiB limit, the 17th does not");
  });

  test("10,000 open/compress/close cycles do not grow RSS or leak handles", (t) => {
    const r = child("cycles");
    t.diagnostic(JSON.stringify(r));
    assert.ok((r.growthMiB as number) < 32, `RSS grew ${r.growthMiB} MiB over 10,000 cycles`);
    assert.equal(r.activeResources, 0);
  });

  test("1,000 connections compressing at once: RSS with the shared limiter (reported)", (t) => {
    const runs = [
      child("connections", { HAWSER_ZLIB_CONCURRENCY: "10" }),
      child("connections", { HAWSER_ZLIB_CONCURRENCY: "1000" }),
      child("connections", { HAWSER_ZLIB_CONCURRENCY: "10", HAWSER_NO_CONTEXT_TAKEOVER: "1" }),
    ];
    for (const r of runs) t.diagnostic(JSON.stringify(r));
    for (const r of runs) assert.ok((r.afterCloseRssGrowthMiB as number) < (r.peakRssGrowthMiB as number));
    // Without context takeover an idle connection holds no deflate context.
    assert.ok((runs[2]!.idleRssGrowthMiB as number) < (runs[0]!.idleRssGrowthMiB as number) / 2);
  });
}
