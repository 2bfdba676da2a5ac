// `hawser chat`: two processes on two ports sharing a Redis of the test's own; WebSocket
// clients on each. Every text a client sends reaches every client of the room, the sender
// too, on both processes, as JSON with the text unchanged and the same offset everywhere, in
// one order. `since` replays what came after an offset. Plus the page at /, refusals, and the
// in-memory mode without --redis.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { sleep } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { startChat, startTwoChats } from "./chat-client.js";
import { PrivateRedis, redisServerBinary } from "./redis-helpers.js";

interface Message {
  from: string;
  text: string;
  offset: string;
  id?: string;
}

/** Connects and waits for the "caught up" line, which comes once the subscription is in place. */
async function join(chat: RunningProgram, room: string, name: string, since?: string): Promise<WsPeer & { replay: Message[] }> {
  const peer = await WsPeer.connect(
    `${chat.url}/chat?room=${encodeURIComponent(room)}&name=${encodeURIComponent(name)}${since ? `&since=${encodeURIComponent(since)}` : ""}`,
  );
  const replay: Message[] = [];
  for (;;) {
    const message = JSON.parse((await peer.next()).text) as Message & { caughtUp?: boolean; truncated?: boolean };
    if (message.caughtUp) {
      assert.equal(message.truncated, false);
      return Object.assign(peer, { replay });
    }
    replay.push(message);
  }
}

async function expectChat(peer: WsPeer, from: string, text: string): Promise<Message> {
  const raw = await peer.next();
  assert.equal(raw.isBinary, false);
  const message = JSON.parse(raw.text) as Message;
  assert.deepEqual({ from: message.from, text: message.text }, { from, text });
  assert.match(message.offset, /^\d+-\d+$/);
  return message;
}

const binary = redisServerBinary();

describe("two `hawser chat --redis` processes", { skip: binary.skip }, () => {
  let redis: PrivateRedis;
  let one: RunningProgram;
  let two: RunningProgram;
  const peers: WsPeer[] = [];

  before(async () => {
    binary.assertAvailable();
    redis = await PrivateRedis.start();
    [one, two] = await startTwoChats(redis.url);
  });
  after(async () => {
    for (const peer of peers) peer.ws.terminate();
    await Promise.all([one?.stop().catch(() => undefined), two?.stop().catch(() => undefined)]);
    await redis?.remove();
  });

  test("messages cross between the processes, unchanged, in one order, to everyone in the room, with one offset each", async () => {
    const alice = await join(one, "crossing", "alice");
    const bob = await join(two, "crossing", "bob");
    const carol = await join(two, "crossing", "carol");
    const outsider = await join(two, "crossing-other", "dave");
    peers.push(alice, bob, carol, outsider);

    const tricky = 'quotes " and \\ backslash, <b>html</b>, newline\nand emoji 🚢 — all unchanged';
    alice.ws.send("hello from alice");
    alice.ws.send(tricky);
    const texts = Array.from({ length: 50 }, (_, i) => `bob says ${i}`);
    for (const text of texts) bob.ws.send(text);
    const seen: Message[][] = [];
    for (const peer of [alice, bob, carol]) {
      const messages: Message[] = [];
      for (let i = 0; i < 52; i++) messages.push(JSON.parse((await peer.next()).text) as Message);
      seen.push(messages);
    }
    // Each process's messages in the order sent; the room's one order is the same for all.
    assert.deepEqual(
      seen[0]!.filter((m) => m.from === "alice").map((m) => m.text),
      ["hello from alice", tricky],
    );
    assert.deepEqual(
      seen[0]!.filter((m) => m.from === "bob").map((m) => m.text),
      texts,
    );
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[2], seen[0]);
    assert.equal(new Set(seen[0]!.map((m) => m.offset)).size, 52, "two messages share an offset");
    await sleep(100);
    for (const peer of [alice, bob, carol]) assert.equal(peer.unread, 0, "a message arrived twice");
    assert.equal(outsider.unread, 0, "another room heard the conversation");
    assert.match(one.output(), /rooms are shared through Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });

  test("since=OFFSET replays the room's messages after it, on either process, then goes live", async () => {
    const alice = await join(one, "replay", "alice");
    peers.push(alice);
    for (let i = 0; i < 10; i++) alice.ws.send(`m${i}`);
    const offsets: string[] = [];
    for (let i = 0; i < 10; i++) offsets.push((await expectChat(alice, "alice", `m${i}`)).offset);
    const late = await join(two, "replay", "late", offsets[5]);
    peers.push(late);
    assert.deepEqual(
      late.replay.map((m) => [m.text, m.offset]),
      [6, 7, 8, 9].map((i) => [`m${i}`, offsets[i]]),
    );
    alice.ws.send("live");
    await expectChat(late, "alice", "live");
  });

  test("a client may send {text, id}: the room gets the text, with the id", async () => {
    const alice = await join(one, "ids", "alice");
    peers.push(alice);
    alice.ws.send(JSON.stringify({ text: "with an id", id: "m-1" }));
    alice.ws.send('{"not": "an envelope"}');
    const first = JSON.parse((await alice.next()).text) as Message;
    assert.deepEqual([first.text, first.id], ["with an id", "m-1"]);
    await expectChat(alice, "alice", '{"not": "an envelope"}');
  });

  test("the page is at /, the chat endpoint at /chat", async () => {
    const page = await httpRequest(`${one.httpUrl}/`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.body, /<title>hawser chat<\/title>/);
    assert.match(page.body, /new WebSocket\(url\)/);
    assert.equal((await httpRequest(`${one.httpUrl}/chat`)).status, 426);
    assert.equal((await httpRequest(`${one.httpUrl}/elsewhere`)).status, 404);
  });

  test("a binary message is refused with 1003", async () => {
    const peer = await join(one, "binary", "binary");
    peers.push(peer);
    peer.ws.send(Buffer.from([1, 2, 3]));
    assert.equal((await peer.closed).code, 1003);
  });
});

describe("`hawser chat` without --redis", () => {
  test("clients of one process talk to each other", async () => {
    const chat = await startChat();
    const a = await join(chat, "lobby", "a");
    const b = await join(chat, "lobby", "b");
    try {
      a.ws.send("hi b");
      await expectChat(b, "a", "hi b");
      await expectChat(a, "a", "hi b");
      b.ws.send("hi a");
      await expectChat(a, "b", "hi a");
      assert.match(chat.output(), /rooms are shared within this process/);
    } finally {
      a.ws.terminate();
      b.ws.terminate();
      await chat.stop();
    }
  });
});
