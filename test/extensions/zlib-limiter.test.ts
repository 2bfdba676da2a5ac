import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ZlibLimiter, ZlibLimiterAbortError, defaultZlibLimiter } from "../../src/extensions/zlib-limiter.js";

test("never runs more than maxConcurrent jobs, and runs them all", async () => {
  const limiter = new ZlibLimiter(3);
  let running = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        assert.ok(limiter.running <= 3);
        await sleep(i % 3);
        running--;
        return i;
      }),
    ),
  );
  assert.equal(peak, 3);
  assert.deepEqual(
    results,
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(limiter.running, 0);
  assert.equal(limiter.queued, 0);
});

test("grants slots in FIFO order", async () => {
  const limiter = new ZlibLimiter(1);
  const started: number[] = [];
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      limiter.run(async () => {
        started.push(i);
        await sleep(0);
      }),
    ),
  );
  assert.deepEqual(
    started,
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test("a throwing or rejecting job releases its slot", async () => {
  const limiter = new ZlibLimiter(1);
  await assert.rejects(
    limiter.run(() => {
      throw new Error("sync boom");
    }),
    /sync boom/,
  );
  await assert.rejects(
    limiter.run(async () => {
      throw new Error("async boom");
    }),
    /async boom/,
  );
  assert.equal(await limiter.run(() => 42), 42);
  assert.equal(limiter.running, 0);
});

test("release is idempotent", async () => {
  const limiter = new ZlibLimiter(1);
  const release = await limiter.acquire();
  release();
  release();
  assert.equal(limiter.running, 0);
  const a = await limiter.acquire();
  const b = limiter.acquire();
  assert.equal(limiter.queued, 1);
  a();
  (await b)();
  assert.equal(limiter.running, 0);
});

test("an aborted waiter leaves the queue and rejects at once; others keep their order", async () => {
  const limiter = new ZlibLimiter(1);
  const hold = await limiter.acquire();
  const controller = new AbortController();
  const order: string[] = [];
  const first = limiter.run(() => void order.push("first"));
  const cancelled = limiter.run(() => void order.push("cancelled"), controller.signal);
  const last = limiter.run(() => void order.push("last"));
  assert.equal(limiter.queued, 3);
  controller.abort();
  await assert.rejects(cancelled, ZlibLimiterAbortError);
  assert.equal(limiter.queued, 2);
  hold();
  await Promise.all([first, last]);
  assert.deepEqual(order, ["first", "last"]);
  await assert.rejects(limiter.acquire(controller.signal), ZlibLimiterAbortError); // already aborted
});

test("a long queue drains without recursion", async () => {
  const limiter = new ZlibLimiter(1);
  const n = 100_000;
  let done = 0;
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) all.push(limiter.run(() => void done++));
  await Promise.all(all);
  assert.equal(done, n);
});

test("raising maxConcurrent starts waiting jobs; bad values throw", async () => {
  const limiter = new ZlibLimiter(1);
  const hold = await limiter.acquire();
  const waiting = limiter.acquire();
  limiter.maxConcurrent = 2;
  (await waiting)();
  hold();
  assert.throws(() => (limiter.maxConcurrent = 0), /maxConcurrent must be an integer >= 1/);
  assert.throws(() => new ZlibLimiter(1.5), RangeError);
  assert.equal(defaultZlibLimiter.maxConcurrent, 10);
});

test("setZlibConcurrency sets the process-wide cap every connection's deflate shares", async () => {
  const { setZlibConcurrency } = await import("../../src/index.js");
  const { defaultZlibLimiter } = await import("../../src/extensions/zlib-limiter.js");
  const before = defaultZlibLimiter.maxConcurrent;
  try {
    setZlibConcurrency(3);
    assert.equal(defaultZlibLimiter.maxConcurrent, 3);
    assert.throws(() => setZlibConcurrency(0), /maxConcurrent must be an integer >= 1/);
  } finally {
    setZlibConcurrency(before);
  }
});
