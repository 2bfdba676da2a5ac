// permessage-deflate between hawser and Debian's python3-websockets, both directions (hawser
// server with a Python client, hawser client with a Python server), through a frame tap: the
// agreed extension as each end and the wire see it, RSV1 on every message from 1 KiB both ways,
// 16 B to 128 KiB text and binary echoed byte for byte, and context takeover on and off.
// The Python peer (test/peers/python_deflate_peer.py) only echoes; hawser drives.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { connect, WebSocketOpcode } from "../../src/index.js";
import type { PerMessageDeflateOptions } from "../../src/extensions/deflate-negotiation.js";
import type { WebSocket } from "../../src/websocket/websocket.js";
import { assertAgreed, assertDeflateWire, DEFAULT_THRESHOLD, deflatePlan, echoPlan, type EchoDriver } from "../helpers/deflate-interop.js";
import { FrameTap } from "../helpers/frame-tap.js";
import { pythonWebsockets, SYSTEM_PYTHON } from "../helpers/peers.js";
import { MiB } from "../helpers/payloads.js";
import { startSocketServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";

const python = pythonWebsockets();
const SCRIPT = fileURLToPath(new URL("../peers/python_deflate_peer.py", import.meta.url));

/** The Python peer as a child process, with its stdout read line by line. */
class PythonPeer {
  readonly lines: string[] = [];
  #stderr = "";
  #waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let partial = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop()!;
      this.lines.push(...lines);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    child.stderr!.on("data", (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static start(args: string[]): PythonPeer {
    return new PythonPeer(spawn(SYSTEM_PYTHON, [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** The first line (from `from` on) that `match` accepts; fails with the peer's stderr. */
  async line<T>(match: (line: string) => T | undefined, what: string, from = 0): Promise<T> {
    const find = (): T | undefined => {
      for (const line of this.lines.slice(from)) {
        const found = match(line);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    return withTimeout(
      (async () => {
        for (;;) {
          const found = find();
          if (found !== undefined) return found;
          if (this.child.exitCode !== null) throw new Error(`python_deflate_peer.py exited (${this.child.exitCode}) before ${what}:\n${this.#stderr}`);
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      15_000,
      `${what} from python_deflate_peer.py (stderr: ${this.#stderr})`,
    );
  }

  /** The first JSON line with `key`, as an object. */
  json(key: string, what: string): Promise<Record<string, unknown>> {
    return this.line((line) => {
      if (!line.startsWith("{")) return undefined;
      const value = JSON.parse(line) as Record<string, unknown>;
      return key in value ? value : undefined;
    }, what);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** The hawser end as an echo driver: send, and take the next message with recv(). */
function driver(socket: WebSocket): EchoDriver {
  return {
    send(data) {
      assert.equal(socket.send(data), true, "send() queued the message");
    },
    async next() {
      const frame = await socket.recv();
      assert.notEqual(frame.opcode, WebSocketOpcode.close, `the connection closed: ${frame.code} ${frame.reason}`);
      return { isBinary: frame.opcode === WebSocketOpcode.binary, data: frame.data };
    },
  };
}

interface Variant {
  name: string;
  /** The no_context_takeover flag for the side that asks for it, or none. */
  noContextTakeover: "server" | "client" | null;
}

const VARIANTS: Variant[] = [
  { name: "context takeover both ways", noContextTakeover: null },
  { name: "server_no_context_takeover (server's choice)", noContextTakeover: "server" },
  { name: "client_no_context_takeover (client's choice)", noContextTakeover: "client" },
];

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("hawser server ↔ python3-websockets client, permessage-deflate", { skip: python.skip }, () => {
  for (const variant of VARIANTS) {
    test(variant.name, async (t) => {
      python.assertAvailable();
      const deflate: PerMessageDeflateOptions = variant.noContextTakeover === "server" ? { serverNoContextTakeover: true } : {};
      const server = await startSocketServer({ pingIntervalMs: 0, maxMessageBytes: 4 * MiB, perMessageDeflate: deflate });
      cleanups.push(() => server.close());
      const tap = await FrameTap.start(server.port);
      cleanups.push(() => tap.close());
      const peer = PythonPeer.start(["client", `${tap.url}/`, ...(variant.noContextTakeover === "client" ? ["--client-no-context-takeover"] : [])]);
      cleanups.push(() => peer.stop());

      const { socket } = await server.nextSocket(15_000);
      const wire = await tap.nextConnection();
      const clientSaw = await peer.json("extensions", "the answer the client received");
      const plan = deflatePlan();
      await echoPlan(driver(socket), plan);
      socket.close(1000, "done");
      const end = await peer.json("closeCode", "the client's close report");
      assert.deepEqual(end, { closeCode: 1000, echoed: plan.length });
      assert.equal(await peer.exited, 0);
      await withTimeout(wire.closed, 5000, "both connections through the tap to close");

      t.diagnostic(`offer ${JSON.stringify(wire.offeredExtensions)}, answer ${JSON.stringify(wire.agreedExtensions)}`);
      assert.match(wire.offeredExtensions, /^permessage-deflate/);
      assertAgreed(wire.agreedExtensions, { serverNoContextTakeover: variant.noContextTakeover === "server" });
      assert.equal(socket.extensions, wire.agreedExtensions, "hawser's socket.extensions is what it sent");
      assert.equal(clientSaw.extensions, wire.agreedExtensions, "python-websockets received the same answer");
      assertDeflateWire(t, wire, plan, {
        clientThreshold: "any",
        serverThreshold: DEFAULT_THRESHOLD,
        clientTakeover: variant.noContextTakeover !== "client",
        serverTakeover: variant.noContextTakeover !== "server",
      });
    });
  }
});

describe("hawser client ↔ python3-websockets server, permessage-deflate", { skip: python.skip }, () => {
  for (const variant of VARIANTS) {
    test(variant.name, async (t) => {
      python.assertAvailable();
      const peer = PythonPeer.start(["server", ...(variant.noContextTakeover === "server" ? ["--server-no-context-takeover"] : [])]);
      cleanups.push(() => peer.stop());
      const port = await peer.line((line) => /^listening on (\d+)$/.exec(line)?.[1], "the listening port");
      const tap = await FrameTap.start(Number(port));
      cleanups.push(() => tap.close());

      const deflate: PerMessageDeflateOptions = variant.noContextTakeover === "client" ? { clientNoContextTakeover: true } : {};
      const client = await connect(`${tap.url}/`, { pingFrequency: 0, maximumMessageSize: 4 * MiB, perMessageDeflate: deflate });
      const wire = await tap.nextConnection();
      const serverSent = await peer.json("extensions", "the answer the server sent");
      const plan = deflatePlan();
      await echoPlan(driver(client), plan);
      client.close(1000, "done");
      const closed = await withTimeout(client.closed, 5000, "the client to close");
      assert.equal(closed.code, 1000);
      assert.equal(closed.wasClean, true);
      assert.deepEqual(await peer.json("closeCode", "the server's close report"), { closeCode: 1000 });
      await withTimeout(wire.closed, 5000, "both connections through the tap to close");

      t.diagnostic(`offer ${JSON.stringify(wire.offeredExtensions)}, answer ${JSON.stringify(wire.agreedExtensions)}`);
      assertAgreed(wire.agreedExtensions, { serverNoContextTakeover: variant.noContextTakeover === "server" });
      assert.equal(serverSent.extensions, wire.agreedExtensions, "python-websockets sent this answer");
      assert.equal(client.extensions, wire.agreedExtensions, "hawser's client.extensions is the answer it received");
      assertDeflateWire(t, wire, plan, {
        clientThreshold: DEFAULT_THRESHOLD,
        serverThreshold: "any",
        clientTakeover: variant.noContextTakeover !== "client",
        serverTakeover: variant.noContextTakeover !== "server",
      });
    });
  }
});
