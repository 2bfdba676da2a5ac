// `hawser chat`: two processes on two ports sharing the machine's Redis; a WebSocket client on
// each (and a second on one of them). Every text a client sends reaches every other client of
// the room, on both processes, as JSON holding the text unchanged, in order; not the sender.
// Plus the page at /, and the in-memory mode without --redis.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startProgram, type RunningProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { sleep } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";
import { SHARED_REDIS_URL, sharedRedis } from "./redis-helpers.js";

const TSX = ["--import", "tsx"];
const CHAT_ARGS = ["chat", "--port", "0", "--host", "127.0.0.1"];

function startChat(extra: string[] = []): Promise<RunningProgram> {
  return startProgram("src/cli.ts", [...CHAT_ARGS, ...extra], TSX);
}

async function join(chat: RunningProgram, room: string, name: string): Promise<WsPeer> {
  return WsPeer.connect(`${chat.url}/chat?room=${encodeURIComponent(room)}&name=${encodeURIComponent(name)}`);
}

async function expectChat(peer: WsPeer, from: string, text: string): Promise<void> {
  const message = await peer.next();
  assert.equal(message.isBinary, false);
  assert.deepEqual(JSON.parse(message.text), { from, text });
}

const shared = sharedRedis();

describe("two `hawser chat --redis` processes", { skip: shared.skip }, () => {
  let one: RunningProgram;
  let two: RunningProgram;
  const peers: WsPeer[] = [];
  // A room of this run only: other runs may share the machine's Redis.
  const room = `test-${randomBytes(4).toString("hex")}`;

  before(async () => {
    shared.assertAvailable();
    [one, two] = await Promise.all([startChat(["--redis", SHARED_REDIS_URL]), startChat(["--redis", SHARED_REDIS_URL])]);
  });
  after(async () => {
    for (const peer of peers) peer.ws.terminate();
    await Promise.all([one?.stop(), two?.stop()]);
  });

  test("messages cross between the processes, unchanged, in order, to everyone but the sender", async () => {
    const alice = await join(one, room, "alice");
    const bob = await join(two, room, "bob");
    const carol = await join(two, room, "carol");
    const outsider = await join(two, `${room}-other`, "dave");
    peers.push(alice, bob, carol, outsider);

    const tricky = 'quotes " and \\ backslash, <b>html</b>, newline\nand emoji 🚢 — all unchanged';
    alice.ws.send("hello from alice");
    alice.ws.send(tricky);
    for (const peer of [bob, carol]) {
      await expectChat(peer, "alice", "hello from alice");
      await expectChat(peer, "alice", tricky);
    }
    const texts = Array.from({ length: 50 }, (_, i) => `bob says ${i}`);
    for (const text of texts) bob.ws.send(text);
    for (const text of texts) await expectChat(alice, "bob", text);
    for (const text of texts) await expectChat(carol, "bob", text);
    await sleep(100);
    assert.equal(alice.unread, 0, "the sender got its own message back");
    assert.equal(bob.unread, 0, "the sender got its own message back");
    assert.equal(outsider.unread, 0, "another room heard the conversation");
    assert.match(one.output(), /rooms are shared through Redis at redis:\/\/127\.0\.0\.1:6379/);
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
    const peer = await join(one, room, "binary");
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
