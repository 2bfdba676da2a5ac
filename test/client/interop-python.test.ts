// Interop: hawser's client against a Debian python3-websockets server
// (test/peers/python_echo_server.py): every frame-length encoding, text and binary, fragmented
// messages, pings both ways, closes both ways with codes and reasons.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { ClientWebSocket, connect, WebSocketOpcode } from "../../src/index.js";
import { INTEROP_SERVER_CLOSES, INTEROP_SIZES, MiB, randomPayload, randomText, sizeLabel } from "../helpers/payloads.js";
import { pythonWebsockets, SYSTEM_PYTHON } from "../helpers/peers.js";
import { waitUntil, withTimeout } from "../helpers/wait.js";

const python = pythonWebsockets();
const SCRIPT = fileURLToPath(new URL("../peers/python_echo_server.py", import.meta.url));
const CONFIG = { maximumMessageSize: 32 * MiB, pingFrequency: 0 };

describe("hawser client ↔ python3-websockets server", { skip: python.skip }, () => {
  let child: ChildProcess;
  let base = "";
  /** What the Python server saw at the end of each connection, by request path. */
  const closes = new Map<string, { code: number; reason: string }>();

  before(async () => {
    python.assertAvailable();
    child = spawn(SYSTEM_PYTHON, [SCRIPT, "0"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        child.stdout!.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const lines = output.split("\n");
          output = lines.pop()!;
          for (const line of lines) {
            const listening = /^listening on (\d+)$/.exec(line);
            if (listening) resolve(Number(listening[1]));
            else if (line.startsWith("{")) {
              const report = JSON.parse(line) as { path: string; code: number; reason: string };
              closes.set(report.path, { code: report.code, reason: report.reason });
            }
          }
        });
        child.once("exit", (code) => reject(new Error(`python_echo_server.py exited (${code}): ${stderr}`)));
      }),
      15_000,
      "the Python server to listen",
    );
    base = `ws://127.0.0.1:${port}`;
  });
  after(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  });

  for (const size of INTEROP_SIZES) {
    test(`text and binary of ${sizeLabel(size)} come back byte for byte`, async () => {
      const client = await connect(`${base}/echo`, CONFIG);
      const text = randomText(size);
      client.send(text);
      const echoedText = await withTimeout(client.recv(), 30_000, "the text echo");
      assert.equal(echoedText.opcode, WebSocketOpcode.text);
      assert.ok(echoedText.data.equals(Buffer.from(text)), "text echo differs");
      const bytes = randomPayload(size);
      client.send(bytes);
      const echoedBytes = await withTimeout(client.recv(), 30_000, "the binary echo");
      assert.equal(echoedBytes.opcode, WebSocketOpcode.binary);
      assert.ok(echoedBytes.data.equals(bytes), "binary echo differs");
      client.close();
      await client.closed;
    });
  }

  test("fragmented text and binary messages are reassembled", async () => {
    const client = await connect(`${base}/fragments`, CONFIG);
    const text = await client.recv();
    assert.equal(text.opcode, WebSocketOpcode.text);
    assert.equal(text.textData, "fragmented ✓");
    const binary = await client.recv();
    assert.equal(binary.opcode, WebSocketOpcode.binary);
    assert.deepEqual([...binary.data], [1, 2, 3]);
    client.close();
    await client.closed;
  });

  test("the server's ping is answered; the client's ping gets the server's pong", async () => {
    const client = new ClientWebSocket(`${base}/ping`, CONFIG);
    const pings: string[] = [];
    client.onping = (data) => pings.push(data.toString());
    await client.connect();
    assert.equal((await withTimeout(client.recv(), 5000, "the server's report")).textData, "pong:from python");
    assert.deepEqual(pings, ["from python"]);
    const pong = new Promise<Buffer>((resolve) => (client.onpong = resolve));
    client.ping("from hawser");
    assert.equal((await withTimeout(pong, 5000, "the pong")).toString(), "from hawser");
    client.close();
    await client.closed;
  });

  test("a client close with a code and reason reaches Python, and the close is clean", async () => {
    const client = await connect(`${base}/echo?close-test`, CONFIG);
    client.close(4321, "client says bye ✓");
    const event = await client.closed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4321, "client says bye ✓", true]);
    await waitUntil(() => closes.has("/echo?close-test"), 5000, "Python's close report");
    assert.deepEqual(closes.get("/echo?close-test"), { code: 4321, reason: "client says bye ✓" });
  });

  for (const [code, reason] of INTEROP_SERVER_CLOSES) {
    test(`a server close ${code} ${JSON.stringify(reason)} is reported with the same code and reason`, async () => {
      const client = await connect(`${base}/close?code=${code}&reason=${encodeURIComponent(reason)}`, CONFIG);
      const event = await withTimeout(client.closed, 5000, "the close");
      assert.deepEqual([event.code, event.reason, event.wasClean], [code, reason, true]);
    });
  }

  test("subprotocol negotiation", async () => {
    const client = await connect(`${base}/echo`, { ...CONFIG, protocol: ["superchat", "chat"] });
    assert.equal(client.protocol, "chat");
    client.close();
    await client.closed;
  });
});
