// The chat page in a real browser (Debian's chromium, driven by playwright-core): two pages,
// each on its own `hawser chat --redis` process, talk to each other.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { chromiumPeer, launchChromium } from "../helpers/chromium.js";
import { startProgram } from "../helpers/cli.js";
import { SHARED_REDIS_URL, sharedRedis } from "./redis-helpers.js";

const browser = chromiumPeer();
const shared = sharedRedis();

test("browsers on two chat processes talk to each other", { skip: browser.skip || shared.skip }, async () => {
  browser.assertAvailable();
  shared.assertAvailable();
  const args = ["chat", "--port", "0", "--host", "127.0.0.1", "--redis", SHARED_REDIS_URL];
  const [one, two] = await Promise.all([startProgram("src/cli.ts", args, ["--import", "tsx"]), startProgram("src/cli.ts", args, ["--import", "tsx"])]);
  const instance = await launchChromium();
  try {
    const room = `browser-${randomBytes(4).toString("hex")}`;
    const ann = await instance.newPage();
    const ben = await instance.newPage();
    await ann.goto(`${one.httpUrl}/?room=${room}&name=ann`);
    await ben.goto(`${two.httpUrl}/?room=${room}&name=ben`);
    for (const page of [ann, ben]) await page.locator("#status", { hasText: "in room" }).waitFor();

    await ann.fill("#text", "hello ben, <i>not markup</i>");
    await ann.press("#text", "Enter");
    const atBen = ben.locator("#log li", { hasText: "hello ben" });
    await atBen.waitFor();
    assert.equal(await atBen.textContent(), "ann:hello ben, <i>not markup</i>");
    await ben.fill("#text", "hi ann 🚢");
    await ben.press("#text", "Enter");
    const atAnn = ann.locator("#log li", { hasText: "hi ann" });
    await atAnn.waitFor();
    assert.equal(await atAnn.textContent(), "ben:hi ann 🚢");
    // Text is shown as text, never parsed as HTML.
    assert.equal(await ben.locator("#log i").count(), 0);
  } finally {
    await instance.close();
    await Promise.all([one.stop(), two.stop()]);
  }
});
