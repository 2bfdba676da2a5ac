// The chat page in a real browser (Debian's chromium, driven by playwright-core): two pages,
// each on its own `hawser chat --redis` process, talk to each other; then the process of one
// page is killed with SIGKILL while both type. That page reaches the other process through a
// load balancer (a TCP proxy the test retargets), resumes from the last offset it showed, and
// sends what was typed while it was reconnecting. Both logs end with every message exactly
// once, in one order; the counts are printed.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Page } from "playwright-core";
import { chromiumPeer, launchChromium } from "../helpers/chromium.js";
import type { RunningProgram } from "../helpers/cli.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { withTimeout } from "../helpers/wait.js";
import { startTwoChats } from "./chat-client.js";
import { countDeliveries } from "./fault-counts.js";
import { PrivateRedis, redisServerBinary } from "./redis-helpers.js";

const browser = chromiumPeer();
const binary = redisServerBinary();

interface Shown {
  offset: string;
  text: string;
}

/** What shownMessages reads of the page's list items (the DOM's Element; this project's TypeScript has no DOM library). */
interface ListItem {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}

function shownMessages(page: Page): Promise<Shown[]> {
  return page.$$eval("#log li[data-offset]", (items: ListItem[]) =>
    items.map((li) => ({ offset: li.getAttribute("data-offset") ?? "", text: li.textContent ?? "" })),
  );
}

async function type(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

test(
  "browsers on two chat processes talk; one process is killed and its page resumes on the other, missing nothing",
  { skip: browser.skip || binary.skip },
  async () => {
    browser.assertAvailable();
    binary.assertAvailable();
    const redis = await PrivateRedis.start();
    const chats: RunningProgram[] = [];
    let balancer: TcpProxy | null = null;
    const instance = await launchChromium();
    after(async () => {
      await instance.close();
      await balancer?.close();
      await Promise.all(chats.map((chat) => chat.stop().catch(() => undefined)));
      await redis.remove();
    });
    chats.push(...(await startTwoChats(redis.url)));
    const [one, two] = chats as [RunningProgram, RunningProgram];
    // Ann's page reaches process one through a load balancer; Ben's page is on process two.
    balancer = await TcpProxy.start(one.port);
    const ann = await instance.newPage();
    const ben = await instance.newPage();
    await ann.goto(`http://127.0.0.1:${balancer.port}/?room=browsers&name=ann&retry=50`);
    await ben.goto(`${two.httpUrl}/?room=browsers&name=ben&retry=50`);
    for (const page of [ann, ben]) await page.locator("#status", { hasText: "in room" }).waitFor();

    await type(ann, "hello ben, <i>not markup</i>");
    const atBen = ben.locator("#log li", { hasText: "hello ben" });
    await atBen.waitFor();
    assert.equal(await atBen.textContent(), "ann:hello ben, <i>not markup</i>");
    await type(ben, "hi ann 🚢");
    const atAnn = ann.locator("#log li", { hasText: "hi ann" });
    await atAnn.waitFor();
    assert.equal(await atAnn.textContent(), "ben:hi ann 🚢");
    // Text is shown as text, never parsed as HTML.
    assert.equal(await ben.locator("#log i").count(), 0);

    const typed = ["ann:hello ben, <i>not markup</i>", "ben:hi ann 🚢"];
    const say = async (page: Page, name: string, text: string): Promise<void> => {
      typed.push(`${name}:${text}`);
      await type(page, text);
    };
    for (let n = 0; n < 10; n++) {
      await say(ann, "ann", `before ${n}`);
      await say(ben, "ben", `before ${n}`);
    }
    // Process one dies at once; until the balancer notices, Ann's page cannot reconnect.
    one.child.kill("SIGKILL");
    await withTimeout(one.exited, 5000, "process one to die");
    await ann.locator("#status", { hasText: "reconnecting" }).waitFor();
    for (let n = 0; n < 5; n++) {
      await say(ann, "ann", `while reconnecting ${n}`);
      await say(ben, "ben", `while ann is away ${n}`);
    }
    assert.ok((await ann.locator("#outbox li").count()) > 0, "what Ann typed while reconnecting was not kept for later");
    balancer.retarget(two.port);
    await ann.locator("#status", { hasText: "in room" }).waitFor({ timeout: 10_000 });
    for (let n = 0; n < 10; n++) {
      await say(ann, "ann", `after ${n}`);
      await say(ben, "ben", `after ${n}`);
    }

    for (const page of [ann, ben]) {
      await page.waitForFunction(`document.querySelectorAll("#log li[data-offset]").length >= ${typed.length}`, undefined, { timeout: 10_000 });
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for duplicates to show up
    const logs = [await shownMessages(ann), await shownMessages(ben)];
    for (const [i, log] of logs.entries()) {
      const counts = countDeliveries(
        typed,
        log.map((m) => m.text),
      );
      console.log(
        `fault: chat process killed under a browser, page ${i === 0 ? "ann (moved)" : "ben"}: ` +
          `sent ${counts.sent}, delivered ${counts.delivered}, duplicated ${counts.duplicated}, lost ${counts.lost}`,
      );
      assert.deepEqual(counts, { sent: typed.length, delivered: typed.length, duplicated: 0, lost: 0 });
      assert.equal(await (i === 0 ? ann : ben).locator("#outbox li").count(), 0, "a typed message is still waiting");
    }
    assert.deepEqual(logs[0], logs[1], "the pages show the room in different orders");
    // Each page's own messages in the order typed.
    for (const name of ["ann", "ben"]) {
      assert.deepEqual(
        logs[0]!.map((m) => m.text).filter((text) => text.startsWith(`${name}:`)),
        typed.filter((text) => text.startsWith(`${name}:`)),
      );
    }
  },
);
