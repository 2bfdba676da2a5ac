// The in-memory history (HistoryStore, under MemoryAdapter): its three bounds (messages per
// topic, age, bytes over all topics), and the truncation flag, which must say exactly whether
// anything after an offset was trimmed. A fake clock drives the age bound.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryStore } from "../../src/server/pubsub-log.js";

function store(limits: { maxMessages?: number; maxAgeMs?: number } = {}, maxTotalBytes = 1 << 20) {
  let now = 1_000;
  const history = new HistoryStore({ maxMessages: limits.maxMessages ?? 1000, maxAgeMs: limits.maxAgeMs ?? 60_000 }, maxTotalBytes, () => now);
  return {
    history,
    append: (topic: string, text: string) => history.append(topic, Buffer.from(text), false),
    texts: (topic: string, since: string) => {
      const { messages, truncated } = history.after(topic, since);
      return { texts: messages.map((m) => m.payload.toString()), truncated };
    },
    advance: (ms: number) => void (now += ms),
  };
}

test("each topic keeps its last maxMessages; flagged only when something after the offset went", () => {
  const s = store({ maxMessages: 3 });
  const a = [0, 1, 2, 3, 4].map((i) => s.append("a", `a${i}`));
  s.append("b", "b0");
  assert.deepEqual(s.texts("a", a[0]!), { texts: ["a2", "a3", "a4"], truncated: true });
  // a1 itself was trimmed, but nothing after it: the history still reaches back.
  assert.deepEqual(s.texts("a", a[1]!), { texts: ["a2", "a3", "a4"], truncated: false });
  assert.deepEqual(s.texts("a", a[4]!), { texts: [], truncated: false });
  assert.deepEqual(s.texts("b", a[4]!), { texts: ["b0"], truncated: false });
});

test("messages older than maxAgeMs go, as soon as anything is appended or read", () => {
  const s = store({ maxAgeMs: 100 });
  const first = s.append("t", "old");
  s.advance(60);
  s.append("t", "newer");
  s.advance(60);
  assert.deepEqual(s.texts("t", first), { texts: ["newer"], truncated: false });
  s.advance(60);
  // Everything aged out: the topic's log is gone, but not what it knew was trimmed.
  assert.deepEqual(s.texts("t", first), { texts: [], truncated: true });
  assert.equal(s.history.heldBytes, 0);
  const fresh = s.append("t", "fresh");
  assert.deepEqual(s.texts("t", fresh), { texts: [], truncated: false });
});

test("past maxTotalBytes the oldest messages of any topic go first; a message larger than it is never kept", () => {
  const s = store({}, 10);
  const x0 = s.append("x", "xxxx");
  s.append("y", "yyyy");
  s.append("x", "XXXX"); // 12 bytes: x's first goes
  assert.equal(s.history.heldBytes, 8);
  assert.deepEqual(s.texts("x", x0), { texts: ["XXXX"], truncated: false });
  assert.deepEqual(s.texts("y", x0).texts, ["yyyy"]);
  const big = s.append("z", "z".repeat(11));
  assert.deepEqual(s.texts("z", big), { texts: [], truncated: false });
  assert.deepEqual(s.texts("z", x0), { texts: [], truncated: true });
});

test("an offset of another store, or not an offset at all, gives what is kept, flagged", () => {
  const s = store();
  s.append("t", "m0");
  const other = new HistoryStore({ maxMessages: 10, maxAgeMs: 1000 }, 1000, () => 0);
  assert.deepEqual(s.texts("t", other.append("t", Buffer.from("elsewhere"), false).replace(/^\d+/, "7")), { texts: ["m0"], truncated: true });
  assert.deepEqual(s.texts("t", "nonsense"), { texts: ["m0"], truncated: true });
  assert.deepEqual(s.texts("t", `${s.history.epoch}-99`), { texts: ["m0"], truncated: true }, "an offset from the future");
});

test("thousands of appends over few topics keep exactly the bound, in order", () => {
  const s = store({ maxMessages: 50 }, 1 << 30);
  for (let i = 0; i < 5000; i++) s.append(`t${i % 4}`, String(i));
  for (let t = 0; t < 4; t++) {
    const { texts } = s.texts(`t${t}`, "x");
    assert.equal(texts.length, 50);
    assert.deepEqual(
      texts.map(Number),
      Array.from({ length: 50 }, (_, i) => 4800 + t + 4 * i),
    );
  }
});
