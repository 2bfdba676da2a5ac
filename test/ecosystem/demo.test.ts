// `hawser demo` in headless Chromium: the echo console echoes what is typed, and a chat
// message typed on one page shows up on another. Leaves a screenshot in test-results/.
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { assertBuilt, CLI, ROOT, startProgram, type RunningProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { chromiumPeer, launchChromium } from "../helpers/chromium.js";

const browser = chromiumPeer();
export const SCREENSHOT = join(ROOT, "test-results", "demo.png");

describe("hawser demo", () => {
  let demo: RunningProgram;
  before(async () => {
    assertBuilt();
    demo = await startProgram(CLI, ["demo", "--port", "0", "--host", "127.0.0.1"]);
  });
  after(() => demo?.stop());

  test("serves the page at /, and refuses plain requests on the WebSocket paths with 426", async () => {
    const page = await httpRequest(`${demo.httpUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers["content-type"] ?? "", /text\/html/);
    assert.match(page.body, /Echo console/);
    assert.equal((await httpRequest(`${demo.httpUrl}/echo`)).status, 426);
    assert.equal((await httpRequest(`${demo.httpUrl}/nowhere`)).status, 404);
  });

  test("in Chromium: the echo answers, and the chat reaches a second page", { skip: browser.skip, timeout: 60_000 }, async () => {
    browser.assertAvailable();
    let instance: Browser | undefined;
    try {
      instance = await launchChromium();
      const ann = await instance.newPage({ viewport: { width: 1000, height: 560 } });
      const ben = await instance.newPage({ viewport: { width: 1000, height: 560 } });
      await ann.goto(`${demo.httpUrl}/?name=ann`);
      await ben.goto(`${demo.httpUrl}/?name=ben`);
      for (const page of [ann, ben]) {
        await page.locator("#echo-state", { hasText: "open" }).waitFor();
        await page.locator("#chat-state", { hasText: "open" }).waitFor();
      }

      await ann.fill("#echo-text", "hello, echo <b>✓</b>");
      await ann.press("#echo-text", "Enter");
      const echoed = ann.locator("#echo-log li.echoed");
      await echoed.waitFor();
      assert.equal(await echoed.textContent(), "echo:hello, echo <b>✓</b>");
      // Shown as text, never parsed as HTML.
      assert.equal(await ann.locator("#echo-log b").count(), 0);

      await ann.fill("#chat-text", "hi ben, it's ann");
      await ann.press("#chat-text", "Enter");
      const atBen = ben.locator("#chat-log li.said", { hasText: "hi ben" });
      await atBen.waitFor();
      assert.equal(await atBen.textContent(), "ann:hi ben, it's ann");
      await ben.fill("#chat-text", "¡hola ann! ✓");
      await ben.press("#chat-text", "Enter");
      const atAnn = ann.locator("#chat-log li.said", { hasText: "hola ann" });
      await atAnn.waitFor();
      assert.equal(await atAnn.textContent(), "ben:¡hola ann! ✓");
      // Ann's own message came back to her from the server too (everyone in the room gets it).
      assert.equal(await ann.locator("#chat-log li.said", { hasText: "hi ben" }).count(), 1);

      mkdirSync(join(ROOT, "test-results"), { recursive: true });
      await ann.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.ok(statSync(SCREENSHOT).size > 1000, "the screenshot was written");
    } finally {
      await instance?.close();
    }
  });
});
