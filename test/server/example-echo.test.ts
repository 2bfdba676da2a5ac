// examples/echo.ts, the seed's websocketEcho as written in the README, run as its own program
// (through tsx, importing the built package by its name "hawser").
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { assertBuilt, startProgram, type RunningProgram } from "../helpers/cli.js";
import { httpRequest } from "../helpers/http.js";
import { withTimeout } from "../helpers/wait.js";
import { WsPeer } from "../helpers/ws-peer.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/echo.ts", import.meta.url));

describe("examples/echo.ts", () => {
  let echo: RunningProgram;
  before(async () => {
    assertBuilt();
    echo = await startProgram(EXAMPLE, ["--port", "0", "--host", "127.0.0.1"], ["--import", "tsx"]);
  });
  after(() => echo?.stop());

  test("from the origin the seed allows: hello, world, then echoes", async () => {
    const peer = await WsPeer.connect(echo.url + "/", { origin: "http://arsdnet.net" });
    try {
      assert.equal((await peer.next()).text, "hello");
      assert.equal((await peer.next()).text, " world!");
      await peer.send("seed ✓");
      assert.deepEqual(await peer.next(), { isBinary: false, data: Buffer.from("seed ✓"), text: "seed ✓" });
      await peer.send(Buffer.from([0, 255, 1]), { binary: true });
      const binary = await peer.next();
      assert.equal(binary.isBinary, true);
      assert.deepEqual([...binary.data], [0, 255, 1]);
    } finally {
      assert.equal((await peer.close(4000, "bye")).code, 4000);
    }
  });

  test("another site's page is refused by the server's origin policy (403) before the handler runs", async () => {
    await assert.rejects(WsPeer.connect(echo.url + "/", { origin: "http://elsewhere.test" }), { status: 403 });
    assert.doesNotMatch(echo.output(), /bad origin/, "the handler never saw it");
  });

  test('no Origin (a program) passes the policy, and the handler\'s own check throws "bad origin": 500; the example goes on serving', async () => {
    await assert.rejects(WsPeer.connect(echo.url + "/"), { status: 500 });
    assert.match(echo.output(), /bad origin/, "the failure is logged");
    const peer = await WsPeer.connect(echo.url + "/", { origin: "http://arsdnet.net" });
    assert.equal((await peer.next()).text, "hello");
    await peer.close();
  });

  test("a plain GET gets the browser hint", async () => {
    const response = await httpRequest(echo.httpUrl + "/");
    assert.equal(response.status, 200);
    assert.equal(
      response.body,
      "You are loading the websocket endpoint in a browser instead of a websocket client. Use a websocket client on this url instead.\n",
    );
  });

  test("SIGTERM closes its sockets with 1001 and exits 0", async () => {
    const peer = await WsPeer.connect(echo.url + "/", { origin: "http://arsdnet.net" });
    assert.equal((await peer.next()).text, "hello");
    echo.child.kill("SIGTERM");
    assert.equal((await withTimeout(peer.closed, 5000, "the 1001 close")).code, 1001);
    assert.equal(await withTimeout(echo.exited, 5000, "the exit"), 0);
  });
});
