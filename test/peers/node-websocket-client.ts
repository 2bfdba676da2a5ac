// A test peer: Node's own global WebSocket (undici's), in a child process so that it runs on
// every Node line: Node 20 has it only behind --experimental-websocket, which the parent passes
// (see test/helpers/node-websocket.ts). Driven by the tests; it prints one JSON report on stdout
// and the tests make the assertions.
//
//   node [--experimental-websocket] --import tsx node-websocket-client.ts SCENARIO ARGS...
//
// Scenarios:
//   event-log URLS_JSON      the shared event-log scenario (test/browser/pages/event-log-scenario.js)
//   messages URL SIZE...     after the echo server's greeting, text and binary of each size, one
//                            at a time, each echo compared by length and SHA-256; then close 1000
//                            (when the connection ends first, the report says which message)
//   hold URL MS              after the greeting, stays idle for MS (the server's keepalive pings
//                            it), then one echo and close 1000
//   close URL CODE REASON    after the greeting, one echo, then the client closes with CODE REASON
//   server-close URL         everything that arrives until the server closes
import { eventLogScenario, type ScenarioUrls } from "../browser/pages/event-log-scenario.js";
import { randomPayload, randomText, sha256 } from "../helpers/payloads.js";

/** What the peer saw of the closing handshake. */
export interface NodeWebSocketClose {
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface NodeWebSocketEcho {
  label: string;
  sentKind: "text" | "binary";
  sentLength: number;
  sentSha256: string;
  receivedKind: "text" | "binary";
  receivedLength: number;
  receivedSha256: string;
}

export interface NodeWebSocketReport {
  nodeVersion: string;
  undiciVersion: string;
  /** event-log: the scenario's log. */
  log?: unknown[][];
  extensions?: string;
  /** The first two messages of the echo server ("hello", " world!"). */
  greeting?: string[];
  results?: NodeWebSocketEcho[];
  /** messages: the message whose echo never came, because the connection closed first. */
  unanswered?: string;
  /** close, hold: the echo of the message sent before closing. */
  echo?: string;
  /** server-close: every message, as text or "binary N". */
  messages?: string[];
  /** Error events seen (there should be none in these scenarios). */
  errors?: number;
  close?: NodeWebSocketClose;
  /**
   * TCP sockets the peer still holds when the scenario is over (after LINGER_MS): every
   * connection has had its close event by then, so each one is a connection undici never closed.
   */
  lingeringSockets?: number;
}

const NodeWebSocket = globalThis.WebSocket;
/** undici 6 (Node 20 and 22) never fires `close` after a failed connection (nodejs/undici#3546). */
const CLOSE_AFTER_ERROR_MS = 2000;
/** How long the sockets of closed connections get to go away before the report counts them. */
const LINGER_MS = 2000;

/** A connected socket with an inbox, recording from the first moment. */
class Peer {
  readonly #inbox: Array<string | ArrayBuffer> = [];
  readonly #waiters: Array<(message: string | ArrayBuffer) => void> = [];
  readonly closed: Promise<NodeWebSocketClose>;
  errors = 0;

  constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      const data = event.data as string | ArrayBuffer;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(data);
      else this.#inbox.push(data);
    });
    ws.addEventListener("error", () => this.errors++);
    this.closed = new Promise((resolve) =>
      ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean })),
    );
  }

  static async connect(url: string): Promise<Peer> {
    const peer = new Peer(new NodeWebSocket(url));
    await new Promise<void>((resolve, reject) => {
      peer.ws.addEventListener("open", () => resolve());
      void peer.closed.then((close) => reject(new Error(`the connection to ${url} closed before it opened: ${JSON.stringify(close)}`)));
    });
    return peer;
  }

  /** The next message; rejects when the connection closes first. */
  next(): Promise<string | ArrayBuffer> {
    const queued = this.#inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      void this.closed.then((close) => reject(new Error(`closed while waiting for a message: ${JSON.stringify(close)}`)));
    });
  }

  async nextText(): Promise<string> {
    const message = await this.next();
    if (typeof message !== "string") throw new Error(`expected a text message, got ${message.byteLength} binary bytes`);
    return message;
  }
}

function describeEcho(label: string, sent: string | Uint8Array, received: string | ArrayBuffer): NodeWebSocketEcho {
  const receivedBytes = typeof received === "string" ? Buffer.from(received) : new Uint8Array(received);
  return {
    label,
    sentKind: typeof sent === "string" ? "text" : "binary",
    sentLength: typeof sent === "string" ? Buffer.byteLength(sent) : sent.length,
    sentSha256: sha256(sent),
    receivedKind: typeof received === "string" ? "text" : "binary",
    receivedLength: receivedBytes.length,
    receivedSha256: sha256(receivedBytes),
  };
}

async function greeted(url: string): Promise<{ peer: Peer; greeting: string[] }> {
  const peer = await Peer.connect(url);
  const greeting = [await peer.nextText(), await peer.nextText()];
  return { peer, greeting };
}

async function run(scenario: string | undefined, args: string[]): Promise<Omit<NodeWebSocketReport, "nodeVersion" | "undiciVersion">> {
  switch (scenario) {
    case "event-log":
      return { log: await eventLogScenario(NodeWebSocket, JSON.parse(args[0] ?? "{}") as ScenarioUrls, { closeAfterErrorMs: CLOSE_AFTER_ERROR_MS }) };
    case "messages": {
      const { peer, greeting } = await greeted(args[0] ?? "");
      const results: NodeWebSocketEcho[] = [];
      const messages = args.slice(1).flatMap((size) => [`text ${size}`, `binary ${size}`]);
      for (const label of messages) {
        const size = Number(label.split(" ")[1]);
        const sent = label.startsWith("text") ? randomText(size) : randomPayload(size);
        peer.ws.send(sent);
        const received = await peer.next().catch(() => undefined);
        if (received === undefined) {
          return { extensions: peer.ws.extensions, greeting, results, unanswered: label, errors: peer.errors, close: await peer.closed };
        }
        results.push(describeEcho(label, sent, received));
      }
      peer.ws.close(1000, "done");
      return { extensions: peer.ws.extensions, greeting, results, errors: peer.errors, close: await peer.closed };
    }
    case "hold": {
      const { peer, greeting } = await greeted(args[0] ?? "");
      await new Promise((resolve) => setTimeout(resolve, Number(args[1])));
      peer.ws.send("still here");
      const echo = await peer.nextText();
      peer.ws.close(1000, "done");
      return { greeting, echo, errors: peer.errors, close: await peer.closed };
    }
    case "close": {
      const { peer, greeting } = await greeted(args[0] ?? "");
      peer.ws.send("last words");
      const echo = await peer.nextText();
      peer.ws.close(Number(args[1]), args[2] ?? "");
      return { extensions: peer.ws.extensions, greeting, echo, errors: peer.errors, close: await peer.closed };
    }
    case "server-close": {
      const peer = new Peer(new NodeWebSocket(args[0] ?? ""));
      const messages: string[] = [];
      const close = await new Promise<NodeWebSocketClose>((resolve) => {
        const collect = (): void => {
          peer.next().then(
            (message) => {
              messages.push(typeof message === "string" ? message : `binary ${message.byteLength}`);
              collect();
            },
            () => resolve(peer.closed),
          );
        };
        collect();
      });
      return { messages, errors: peer.errors, close };
    }
    default:
      throw new Error(`unknown scenario ${JSON.stringify(scenario)}: event-log, messages, close or server-close`);
  }
}

/** TCP sockets still open once every connection of the scenario has closed, after waiting up to `ms`. */
async function lingeringSockets(ms: number): Promise<number> {
  const count = (): number => process.getActiveResourcesInfo().filter((resource) => resource === "TCPSocketWrap").length;
  const deadline = Date.now() + ms;
  while (count() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return count();
}

if (typeof NodeWebSocket !== "function") {
  throw new Error(`Node ${process.version} has no global WebSocket: on Node 20 run with --experimental-websocket`);
}
const [scenario, ...args] = process.argv.slice(2);
const report: NodeWebSocketReport = { nodeVersion: process.version, undiciVersion: process.versions.undici ?? "?", ...(await run(scenario, args)) };
report.lingeringSockets = await lingeringSockets(LINGER_MS);
// Exit here rather than when the event loop empties: a socket undici never closes would keep
// this process, and the server's end of that connection, alive for good.
process.stdout.write(JSON.stringify(report), () => process.exit(0));
