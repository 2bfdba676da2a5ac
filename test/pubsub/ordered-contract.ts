// The contract of ordered adapters (MemoryAdapter, RedisStreamsAdapter) beyond the shared one
// (adapter-contract.ts): one order per topic on every hub with the same offsets, own publishes
// included; publishConfirmed gives the offset subscribers see; history after an offset from any
// hub, flagged when trimmed past it; and a socket that resumes from an offset while publishes
// go on gets every later message exactly once, in order.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryLimits, OrderedPubSubAdapter } from "../../src/server/pubsub-adapter.js";
import { PubSub, type PubSubMessage } from "../../src/server/pubsub.js";
import { startSocketServer } from "../helpers/server.js";
import { sleep, waitUntil } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

export interface OrderedContractOptions {
  /** Makes one adapter on the shared backend, with these history limits when given. */
  makeAdapter(history?: HistoryLimits): OrderedPubSubAdapter;
  /** Waits until a new adapter relays (e.g. connected to Redis). */
  ready?(adapter: OrderedPubSubAdapter): Promise<void>;
  skip?: string | false;
  check?(): void;
}

interface Heard {
  offset: string;
  text: string;
}

async function hubs(options: OrderedContractOptions, count: number, history?: HistoryLimits): Promise<PubSub[]> {
  const list = Array.from({ length: count }, () => new PubSub({ pubsubAdapter: options.makeAdapter(history) }));
  for (const hub of list) await options.ready?.(hub.adapter as OrderedPubSubAdapter);
  return list;
}

function record(into: Heard[]) {
  return (message: PubSubMessage) => {
    assert.equal(typeof message.offset, "string", "an ordered adapter's message has an offset");
    into.push({ offset: message.offset!, text: message.data.toString() });
  };
}

export function orderedAdapterContract(options: OrderedContractOptions): void {
  const skip = options.skip ?? false;

  test("every hub gets a topic's messages in one order with the same offsets, its own publishes included", { skip }, async () => {
    options.check?.();
    const list = await hubs(options, 3);
    try {
      const heard: Heard[][] = list.map(() => []);
      await Promise.all(list.map((hub, i) => hub.listen("ordered", record(heard[i]!))));
      const confirmed = new Map<string, string>();
      const confirmations: Array<Promise<void>> = [];
      const perHub = 60;
      for (let n = 0; n < perHub; n++) {
        for (let h = 0; h < list.length; h++) {
          const text = `h${h}-${n}`;
          if (n % 3 === 0) confirmations.push(list[h]!.publishConfirmed("ordered", text).then((offset) => void confirmed.set(text, offset)));
          else list[h]!.publish("ordered", text);
        }
      }
      const total = perHub * list.length;
      await waitUntil(() => heard.every((h) => h.length >= total), 10_000, "every hub to hear every publish");
      await Promise.all(confirmations);
      await sleep(50); // room for duplicates to show up
      const adapter = list[0]!.adapter as OrderedPubSubAdapter;
      for (const h of heard) {
        assert.equal(h.length, total, "a message arrived twice");
        assert.deepEqual(h, heard[0], "two hubs saw different orders or offsets");
      }
      for (let i = 1; i < heard[0]!.length; i++) {
        assert.ok(adapter.compareOffsets(heard[0]![i - 1]!.offset, heard[0]![i]!.offset) < 0, "offsets do not increase");
      }
      // Each hub's own publishes keep the order it made them.
      for (let h = 0; h < list.length; h++) {
        const mine = heard[0]!.filter((m) => m.text.startsWith(`h${h}-`)).map((m) => m.text);
        assert.deepEqual(
          mine,
          Array.from({ length: perHub }, (_, n) => `h${h}-${n}`),
        );
      }
      const byText = new Map(heard[0]!.map((m) => [m.text, m.offset]));
      for (const [text, offset] of confirmed) assert.equal(offset, byText.get(text), `publishConfirmed gave another offset for ${text}`);
      assert.equal(confirmed.size, Math.ceil(perHub / 3) * list.length);
    } finally {
      await Promise.all(list.map((hub) => hub.close()));
    }
  });

  test("history after an offset, read on any hub: exactly the later messages, not truncated", { skip }, async () => {
    options.check?.();
    const [a, b] = (await hubs(options, 2)) as [PubSub, PubSub];
    try {
      const offsets: string[] = [];
      for (let i = 0; i < 10; i++) offsets.push(await a.publishConfirmed("hist", `m${i}`));
      const adapterB = b.adapter as OrderedPubSubAdapter;
      const after3 = await adapterB.history("hist", offsets[3]!);
      assert.equal(after3.truncated, false);
      assert.deepEqual(
        after3.messages.map((m) => [m.offset, m.payload.toString(), m.binary]),
        offsets.slice(4).map((offset, i) => [offset, `m${i + 4}`, false]),
      );
      const afterLast = await adapterB.history("hist", offsets[9]!);
      assert.deepEqual(afterLast, { messages: [], truncated: false });
      const other = await adapterB.history("hist-other-topic", offsets[9]!);
      assert.equal(other.messages.length, 0, "a topic's history holds only its own messages");
      await b.publishConfirmed("hist", Buffer.from([1, 2, 3]));
      const binary = await adapterB.history("hist", offsets[9]!);
      assert.deepEqual(
        binary.messages.map((m) => [m.payload, m.binary]),
        [[Buffer.from([1, 2, 3]), true]],
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a topic's position, even before its first message, resumes without a gap or a truncation flag", { skip }, async () => {
    options.check?.();
    const [a, b] = (await hubs(options, 2)) as [PubSub, PubSub];
    try {
      await a.listen("fresh", () => undefined);
      const adapter = a.adapter as OrderedPubSubAdapter;
      const position = adapter.position("fresh");
      assert.equal(typeof position, "string");
      assert.equal(adapter.position("not-read-here"), undefined);
      assert.deepEqual(await adapter.history("fresh", position!), { messages: [], truncated: false });
      const offset = await b.publishConfirmed("fresh", "first");
      const history = await adapter.history("fresh", position!);
      assert.deepEqual([history.truncated, history.messages.map((m) => [m.offset, m.payload.toString()])], [false, [[offset, "first"]]]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a history trimmed past the offset says so, and gives what is left", { skip }, async () => {
    options.check?.();
    const [a] = (await hubs(options, 1, { maxMessages: 10 })) as [PubSub];
    try {
      const offsets: string[] = [];
      // Redis trims whole stream nodes (100 entries by default) with MAXLEN ~: publish enough.
      for (let i = 0; i < 300; i++) offsets.push(await a.publishConfirmed("trim", `m${i}`));
      const adapter = a.adapter as OrderedPubSubAdapter;
      const history = await adapter.history("trim", offsets[5]!);
      assert.equal(history.truncated, true, "messages after the offset were trimmed, unflagged");
      const texts = history.messages.map((m) => m.payload.toString());
      assert.ok(texts.length >= 10, `at least maxMessages are kept, got ${texts.length}`);
      const first = Number(texts[0]!.slice(1));
      assert.deepEqual(
        texts,
        Array.from({ length: 300 - first }, (_, i) => `m${first + i}`),
        "what is left is the newest, in order",
      );
      // Still within the history: not truncated.
      const recent = await adapter.history("trim", offsets[295]!);
      assert.deepEqual(recent.truncated, false);
      assert.deepEqual(
        recent.messages.map((m) => m.payload.toString()),
        ["m296", "m297", "m298", "m299"],
      );
      // An offset this topic never had is flagged too.
      assert.equal((await adapter.history("trim", "not-an-offset")).truncated, true);
    } finally {
      await a.close();
    }
  });

  test("a socket resuming from an offset while publishes go on gets every later message once, in order", { skip }, async () => {
    options.check?.();
    const [publisher] = (await hubs(options, 1)) as [PubSub];
    const adapter = options.makeAdapter();
    const server = await startSocketServer({ pingIntervalMs: 0, pubsubAdapter: adapter });
    let publishing = true;
    try {
      await options.ready?.(adapter);
      const offsets: string[] = [];
      for (let i = 0; i < 20; i++) offsets.push(await publisher.publishConfirmed("resume", `m${i}`));
      // Publishes go on, from another hub, all through the resume.
      let next = 20;
      const pump = (async () => {
        while (publishing) {
          publisher.publish("resume", `m${next++}`);
          await sleep(1);
        }
      })();
      const peer = await WsPeer.connect(`${server.url}/`);
      const { socket } = await server.nextSocket();
      const subscription = await socket.subscribe("resume", { since: offsets[9]!, format: (m) => `${m.offset} ${m.data.toString()}` });
      assert.equal(subscription.truncated, false);
      assert.ok(subscription.replayed >= 10, `the history after the offset was sent, got ${subscription.replayed}`);
      await sleep(100);
      publishing = false;
      await pump;
      const last = next - 1;
      const lines: string[] = [];
      while (lines.length < last - 9) lines.push((await peer.next()).text);
      await sleep(50);
      assert.equal(peer.unread, 0, "a message arrived twice");
      assert.deepEqual(
        lines.map((line) => line.split(" ")[1]),
        Array.from({ length: last - 9 }, (_, i) => `m${i + 10}`),
        "messages missing, twice, or out of order at the seam",
      );
      assert.equal(lines[0]!.split(" ")[0], offsets[10], "the format function sees the offset");
      peer.terminate();
    } finally {
      publishing = false;
      await server.close();
      await publisher.close();
    }
  });
}
