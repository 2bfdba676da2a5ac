// A `hawser chat` client for the fault tests, on hawser's own Node client with `reconnect`:
// it does what the chat page does. It records every chat message it receives; after a drop it
// reconnects (to the URL `target()` gives, e.g. the other process) with `since` set to the last
// offset it received; what it says waits in an outbox until the room sends it back (matched by
// id), and what the replay after a reconnect did not bring back is sent again.
import { randomBytes } from "node:crypto";
import { ClientWebSocket } from "../../src/client/client-websocket.js";
import { startProgram, type RunningProgram } from "../helpers/cli.js";
import { withTimeout } from "../helpers/wait.js";
import { countDeliveries, type DeliveryCounts } from "./fault-counts.js";

/** `hawser chat` on a free loopback port, with these extra arguments (e.g. --redis URL). */
export function startChat(extra: string[] = []): Promise<RunningProgram> {
  return startProgram("src/cli.ts", ["chat", "--port", "0", "--host", "127.0.0.1", ...extra], ["--import", "tsx"]);
}

/** Two `hawser chat` processes sharing the Redis at `redisUrl`, started side by side. */
export function startTwoChats(redisUrl: string): Promise<[RunningProgram, RunningProgram]> {
  return Promise.all([startChat(["--redis", redisUrl]), startChat(["--redis", redisUrl])]);
}

export interface Received {
  from: string;
  text: string;
  offset: string;
  id?: string;
}

interface Pending {
  id: string;
  text: string;
  /** The connection it was sent (or held for), 0 for none yet. */
  sentOn: number;
}

export class ChatClient {
  readonly received: Received[] = [];
  /** Every text this client said, in order. */
  readonly said: string[] = [];
  readonly events: string[] = [];
  private readonly outbox: Pending[] = [];
  private readonly socket: ClientWebSocket;
  private connection = 1;
  private live = false;
  private caughtUpWaiters: Array<() => void> = [];
  private startOffset: string | undefined;

  private constructor(
    readonly name: string,
    /** Where to connect next: the base URL ("ws://host:port") of a chat process. */
    private readonly target: () => string,
    private readonly room: string,
    /** Where the first connection resumes from (later ones resume from the last offset received). */
    private readonly since: string | undefined,
  ) {
    this.socket = new ClientWebSocket(this.url(), {
      pingFrequency: 0,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 50, url: () => this.url() },
    });
    this.socket.ontextmessage = (text) => this.onText(text);
    this.socket.onreconnecting = (event) => {
      if (event.attempt === 1) this.events.push(`dropped ${event.code}`);
      this.live = false;
    };
    this.socket.onreconnected = () => {
      this.connection++;
      this.events.push(`reconnected to ${this.socket.url}`);
    };
  }

  static async join(name: string, room: string, target: () => string, since?: string): Promise<ChatClient> {
    const client = new ChatClient(name, target, room, since);
    try {
      await withTimeout(client.socket.connect(), 15_000, `${name} to connect`);
      await client.caughtUp();
    } catch (error) {
      client.close(); // or it would go on reconnecting after the test
      throw error;
    }
    return client;
  }

  get lastOffset(): string | undefined {
    return this.received.at(-1)?.offset;
  }

  /** Messages said and not yet seen back from the room. */
  get unconfirmed(): number {
    return this.outbox.length;
  }

  /** Resolves once the current connection has sent its replay and is live. */
  caughtUp(): Promise<void> {
    if (this.live) return Promise.resolve();
    return withTimeout(new Promise((resolve) => this.caughtUpWaiters.push(resolve)), 15_000, `${this.name} to catch up`);
  }

  say(text: string): void {
    const pending: Pending = { id: randomBytes(6).toString("hex"), text, sentOn: 0 };
    this.said.push(text);
    this.outbox.push(pending);
    // Not live: it waits here, behind anything to be sent again after the replay (the client's
    // own held messages would go out first on the next connection, ahead of those).
    if (this.live) this.send(pending);
  }

  /** Closes the connection for good (no more reconnecting). */
  close(): void {
    this.socket.close();
  }

  private url(): string {
    const since = this.lastOffset ?? this.startOffset ?? this.since;
    return `${this.target()}/chat?room=${encodeURIComponent(this.room)}&name=${encodeURIComponent(this.name)}${since ? `&since=${encodeURIComponent(since)}` : ""}`;
  }

  private send(pending: Pending): void {
    pending.sentOn = this.connection;
    this.socket.send(JSON.stringify({ text: pending.text, id: pending.id }));
  }

  private onText(text: string): void {
    const message = JSON.parse(text) as Received & { caughtUp?: boolean; truncated?: boolean };
    if (message.caughtUp) {
      // Nothing received yet: resume from where the room stood when this connection joined it.
      this.startOffset ??= message.offset;
      if (message.truncated) this.events.push("truncated");
      this.live = true;
      // What the replay did not bring back goes (again) now, in the order said.
      for (const pending of this.outbox) if (pending.sentOn !== this.connection) this.send(pending);
      for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
      return;
    }
    this.received.push({ from: message.from, text: message.text, offset: message.offset, ...(message.id ? { id: message.id } : {}) });
    if (message.from === this.name) {
      const index = this.outbox.findIndex((pending) => pending.id === message.id);
      if (index >= 0) this.outbox.splice(index, 1);
    }
  }
}

/** Sent, delivered, duplicated and lost for one receiver, as the closing note reports them. */
export function deliveryCounts(sent: readonly string[], received: readonly Received[]): DeliveryCounts {
  return countDeliveries(
    sent,
    received.map((message) => message.text),
  );
}
