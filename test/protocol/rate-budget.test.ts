// The per-connection rate limit in the Sans-I/O core: a token bucket for frames and one for
// bytes, spent per frame, refilled from a clock only when it runs out. Driven here with a fake
// clock, so every figure is exact.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import fc from "fast-check";
import type { RateLimit } from "../../src/protocol/rate-budget.js";
import { RateBudget } from "../../src/protocol/rate-budget.js";
import { clientFrame, closePayload, connect, OP } from "./helpers.js";

function limit(overrides: Partial<RateLimit> = {}): RateLimit {
  return { messagesPerSecond: 100, burstMessages: 10, bytesPerSecond: Infinity, burstBytes: Infinity, action: "pause", ...overrides };
}

/** A connection with a rate limit and a clock the test moves; records rateLimitExceeded calls. */
function limited(overrides: Partial<RateLimit> = {}) {
  let now = 1_000;
  const t = connect("server", { rateLimit: limit(overrides), clock: () => now });
  const exceeded: Array<{ action: string; waitMs: number }> = [];
  Object.assign(t.rec, { rateLimitExceeded: (action: string, waitMs: number) => exceeded.push({ action, waitMs }) });
  return {
    ...t,
    exceeded,
    advance(ms: number) {
      now += ms;
    },
  };
}

const texts = (count: number, from = 0): Buffer[] => Array.from({ length: count }, (_, i) => clientFrame(OP.text, `m${from + i}`));

test("over any span, a peer that sends as fast as it may gets at most burst + rate × span frames", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5_000 }),
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 60 }),
      (perSecond, burst, steps) => {
        let now = 0;
        const budget = new RateBudget(limit({ messagesPerSecond: perSecond, burstMessages: burst }), now);
        let admitted = 0;
        for (const step of steps) {
          now += step;
          // Spend as the connection does: one per frame, refilling only when overdrawn.
          for (;;) {
            budget.messagesLeft--;
            if (budget.messagesLeft < 0 && !budget.refill(now)) {
              budget.messagesLeft++;
              break;
            }
            admitted++;
          }
        }
        assert.ok(admitted <= burst + Math.floor((perSecond * now) / 1000), `${admitted} frames in ${now} ms at ${perSecond}/s, burst ${burst}`);
        // And it is not stingy: after a full second of quiet the whole burst is back.
        now += 1000 + Math.ceil((burst * 1000) / perSecond);
        budget.refill(now);
        assert.equal(budget.messagesLeft, burst);
      },
    ),
  );
});

test("close: the frame past the budget fails the connection with 1008 and is not delivered", () => {
  const t = limited({ action: "close" });
  t.feed(Buffer.concat(texts(12)));
  assert.equal(t.rec.messages.length, 10, "the burst of 10 goes through");
  assert.deepEqual(
    t.rec.failures.map((f) => f.code),
    [1008],
  );
  assert.deepEqual(t.exceeded, [{ action: "close", waitMs: 0 }]);
  const sent = t.sent();
  assert.equal(sent.at(-1)!.opcode, OP.close);
  assert.equal(sent.at(-1)!.payload.readUInt16BE(0), 1008);
});

test("close: a peer within the rate is never closed, however long it goes on", () => {
  const t = limited({ action: "close" });
  for (let second = 0; second < 20; second++) {
    // 100 frames a second, as ten bursts of ten.
    for (let tenth = 0; tenth < 10; tenth++) {
      t.feed(Buffer.concat(texts(10)));
      t.advance(100);
    }
  }
  assert.equal(t.rec.messages.length, 2000);
  assert.deepEqual(t.rec.failures, []);
});

test("pause: past the burst nothing more is parsed until the budget refills", () => {
  const t = limited();
  t.feed(Buffer.concat(texts(15)));
  assert.equal(t.rec.messages.length, 10, "the burst of 10; the 11th frame's header was read (and spent), its payload waits");
  assert.equal(t.exceeded.length, 1);
  // Resumes at 5 frames (50 ms at 100/s) after repaying the 1 overdrawn: 60 ms.
  assert.deepEqual(t.exceeded[0], { action: "pause", waitMs: 60 });
  // Woken early, it asks for the rest of the time instead of reading.
  t.advance(20);
  t.conn.resumeAfterRateLimit();
  assert.equal(t.rec.messages.length, 10);
  assert.deepEqual(t.exceeded[1], { action: "pause", waitMs: 40 });
  t.advance(40);
  t.conn.resumeAfterRateLimit();
  // 5 frames were back: the 11th (already spent) and the 4 after it go through.
  assert.equal(t.rec.messages.length, 15, "all held frames delivered once the budget allowed");
  assert.deepEqual(
    t.rec.messages.map((m) => m.data.toString()),
    Array.from({ length: 15 }, (_, i) => `m${i}`),
    "in order, none lost",
  );
  assert.deepEqual(t.rec.failures, [], "pause never closes");
});

test("pause: input arriving while paused is held, not parsed", () => {
  const t = limited();
  t.feed(Buffer.concat(texts(11)));
  t.feed(Buffer.concat(texts(5, 11)));
  assert.equal(t.rec.messages.length, 10);
  t.advance(1000);
  t.conn.resumeAfterRateLimit();
  assert.equal(t.rec.messages.length, 16);
});

test("pings and pongs spend the budget; a ping flood is paused like a message flood (and its pongs with it)", () => {
  const t = limited();
  t.feed(...Array.from({ length: 30 }, () => clientFrame(OP.ping, "x")));
  assert.equal(t.rec.events.filter((e) => e.type === "ping").length, 11);
  assert.equal(t.sent().filter((f) => f.opcode === OP.pong).length, 11, "no pong for a ping not yet read");
  const c = limited({ action: "close" });
  c.feed(clientFrame(OP.pong, "a"), ...Array.from({ length: 10 }, () => clientFrame(OP.ping, "x")));
  assert.deepEqual(
    c.rec.failures.map((f) => f.code),
    [1008],
    "the 11th control frame is one too many",
  );
});

test("the close frame costs nothing: a peer at its limit can still close cleanly", () => {
  const t = limited({ action: "close" });
  t.feed(Buffer.concat(texts(10)), clientFrame(OP.close, closePayload(1000, "bye")));
  assert.deepEqual(t.rec.failures, []);
  assert.ok(t.rec.events.some((e) => e.type === "closeReceived" && e.code === 1000));
});

test("bytes: one large frame passes on a fresh budget; the next one must wait for the debt to be repaid", () => {
  const t = limited({ messagesPerSecond: Infinity, burstMessages: Infinity, bytesPerSecond: 1000, burstBytes: 1000, action: "close" });
  t.feed(clientFrame(OP.binary, Buffer.alloc(3000)));
  assert.equal(t.rec.messages.length, 1, "a frame is admitted while the byte budget is not in debt");
  t.advance(1500);
  t.feed(clientFrame(OP.binary, Buffer.alloc(10)));
  assert.deepEqual(
    t.rec.failures.map((f) => f.code),
    [1008],
    "2,000 bytes owed, 1,500 repaid",
  );
  const p = limited({ messagesPerSecond: Infinity, burstMessages: Infinity, bytesPerSecond: 1000, burstBytes: 1000 });
  p.feed(clientFrame(OP.binary, Buffer.alloc(3000)), clientFrame(OP.binary, Buffer.alloc(10)));
  // Owes 2,000 bytes, resumes at 50 (50 ms at 1,000/s): 2,050 ms.
  assert.deepEqual(p.exceeded, [{ action: "pause", waitMs: 2050 }]);
  assert.equal(p.rec.messages.length, 1, "the frame that found the debt waits for it to be repaid");
});

test("each fragment is a frame: a message in many fragments spends one per fragment", () => {
  const t = limited({ action: "close" });
  t.feed(
    clientFrame(OP.text, "a", { fin: false }),
    ...Array.from({ length: 9 }, () => clientFrame(OP.cont, "b", { fin: false })),
    clientFrame(OP.cont, "c", { fin: true }),
  );
  assert.equal(t.rec.messages.length, 0);
  assert.deepEqual(
    t.rec.failures.map((f) => f.code),
    [1008],
    "the 11th fragment is past a burst of 10",
  );
});

test("a rate pause and a pause for inflating are separate: resuming one does not resume the other", () => {
  const t = limited();
  t.feed(Buffer.concat(texts(12)));
  assert.equal(t.rec.messages.length, 10);
  t.conn.resumeReceiving(); // what the inflater calls after a compressed message
  assert.equal(t.rec.messages.length, 10, "still held for the rate");
  t.advance(1000);
  t.conn.resumeAfterRateLimit();
  assert.equal(t.rec.messages.length, 12);
});

test("no rate limit without the option (the client side, ws-compatible servers)", () => {
  const t = connect("server");
  t.feed(Buffer.concat(texts(5000)));
  assert.equal(t.rec.messages.length, 5000);
  assert.throws(() => connect("server", { rateLimit: limit() }), /needs a clock/);
});
