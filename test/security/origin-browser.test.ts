// Cross-site WebSocket hijacking, tried from headless Chromium against `hawser echo` with its
// default origin policy: a page of another origin (another port; or the same port reached as
// localhost instead of 127.0.0.1) is refused with 403, a page of the server's own origin gets in.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { chromiumPeer, launchChromium } from "../helpers/chromium.js";
import { assertBuilt, CLI, startProgram, type RunningProgram } from "../helpers/cli.js";

const chromium = chromiumPeer();

interface Attempt {
  opened: boolean;
  firstMessage: string | null;
  closeCode: number;
  /** What Chromium reported about the handshake (its DevTools socket error), if anything. */
  socketError: string | null;
}

/** From `page`, opens a WebSocket to `url` and reports how it went. */
async function tryWebSocket(page: Page, url: string): Promise<Attempt> {
  const socketErrors: string[] = [];
  const onSocket = (ws: { url(): string; on(event: "socketerror", listener: (error: string) => void): void }): void => {
    if (ws.url() === url) ws.on("socketerror", (error) => socketErrors.push(error));
  };
  page.on("websocket", onSocket);
  try {
    const result = await page.evaluate(
      (target) =>
        new Promise<Omit<Attempt, "socketError">>((resolve) => {
          const ws = new WebSocket(target);
          let opened = false;
          let firstMessage: string | null = null;
          ws.onopen = () => (opened = true);
          ws.onmessage = (event) => {
            firstMessage ??= String(event.data);
            ws.close(1000);
          };
          ws.onclose = (event) => resolve({ opened, firstMessage, closeCode: event.code });
        }),
      url,
    );
    return { ...result, socketError: socketErrors[0] ?? null };
  } finally {
    page.off("websocket", onSocket);
  }
}

describe("a browser page and hawser echo's default origin policy", { skip: chromium.skip, timeout: 60_000 }, () => {
  let browser: Browser;
  let victim: RunningProgram;
  let elsewhere: RunningProgram;

  before(async () => {
    chromium.assertAvailable();
    assertBuilt();
    [victim, elsewhere] = await Promise.all([
      startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"]),
      startProgram(CLI, ["echo", "--port", "0", "--host", "127.0.0.1"]),
    ]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await Promise.all([victim?.stop(), elsewhere?.stop()]);
  });

  test("a page of another origin (another port) is refused with 403", async () => {
    const page = await browser.newPage();
    await page.goto(`${elsewhere.httpUrl}/`);
    const attempt = await tryWebSocket(page, `${victim.url}/`);
    assert.equal(attempt.opened, false);
    assert.equal(attempt.firstMessage, null);
    assert.equal(attempt.closeCode, 1006);
    assert.match(attempt.socketError ?? "", /403/, "Chromium saw the server's 403");
    await page.close();
  });

  test("the same port reached by another name is another origin: http://localhost:P cannot reach ws://127.0.0.1:P", async () => {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${victim.port}/`);
    const attempt = await tryWebSocket(page, `${victim.url}/`);
    assert.equal(attempt.opened, false);
    assert.match(attempt.socketError ?? "", /403/);
    await page.close();
  });

  test("a page of the server's own origin gets in, under either name it was loaded by", async () => {
    const page = await browser.newPage();
    await page.goto(`${victim.httpUrl}/`);
    const attempt = await tryWebSocket(page, `${victim.url}/`);
    assert.deepEqual(attempt, { opened: true, firstMessage: "hello", closeCode: 1000, socketError: null });
    await page.goto(`http://localhost:${victim.port}/`);
    const asLocalhost = await tryWebSocket(page, `ws://localhost:${victim.port}/`);
    assert.equal(asLocalhost.firstMessage, "hello");
    await page.close();
  });
});
