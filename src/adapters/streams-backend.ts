// The Redis Streams adapter's connections, on one Redis server or a Redis Cluster, behind
// one small interface: commands routed by key, subscriptions to topic channels, and the
// connection events the adapter acts on. Both are node-redis ("redis" on npm) clients.
import { Buffer } from "node:buffer";
import type { RedisModule } from "./redis-load.js";

export type RedisArgument = string | Buffer;
export type ChannelListener = (message: Buffer) => void;

/** What a backend tells the adapter. */
export interface BackendEvents {
  /** Commands go through (at start, or again after an outage). */
  up(): void;
  /** Redis is unreachable; the backend keeps reconnecting. */
  down(error: Error): void;
  /** Subscriptions are in place again (node-redis renews them before this): time to catch up. */
  subscriptionsBack(): void;
  /** Anything else worth reporting that did not interrupt service. */
  error(error: Error): void;
}

export interface StreamsBackend {
  readonly cluster: boolean;
  /** Where Redis is, without passwords, for log lines. */
  readonly description: string;
  start(): void;
  /** Sends a command to every master (one server, or each master of the cluster). */
  commandEverywhere(args: readonly RedisArgument[]): Promise<void>;
  /** Sends a command to the node that holds `key`; string replies come as Buffers. */
  command(key: string, args: readonly RedisArgument[], readonly: boolean): Promise<unknown>;
  /** Subscribes to a channel (SUBSCRIBE, or SSUBSCRIBE on a cluster); waits for Redis while it is away. */
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  unsubscribe(channel: string, listener: ChannelListener): void;
  close(graceful: boolean): Promise<void>;
}

/** The node-redis client members used here. */
interface Client {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: readonly RedisArgument[], options: object): Promise<unknown>;
  subscribe(channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready" | "reconnecting", listener: () => void): unknown;
}

/** The node-redis cluster client members used here. */
interface Cluster {
  readonly masters: readonly object[];
  nodeClient(node: object): Promise<Client>;
  connect(): Promise<unknown>;
  sendCommand(firstKey: string, isReadonly: boolean, args: readonly RedisArgument[], options: object): Promise<unknown>;
  sSubscribe(channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>;
  sUnsubscribe(channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
  on(event: "error" | "node-error", listener: (error: Error) => void): unknown;
  on(event: "node-ready", listener: () => void): unknown;
}

export interface BackendOptions {
  urls: readonly string[];
  cluster: boolean;
  /** node-redis's reconnect delay for the nth retry. */
  reconnectDelay: (retries: number) => number;
}

export function createBackend(redis: RedisModule, options: BackendOptions, events: BackendEvents): StreamsBackend {
  return options.cluster ? new ClusterBackend(redis, options, events) : new StandaloneBackend(redis, options, events);
}

/** Replies with Buffers for bulk strings: payloads are bytes, not UTF-8 text. */
function bufferReplies(redis: RedisModule): object {
  return { typeMapping: { [redis.RESP_TYPES.BLOB_STRING]: Buffer } };
}

/** One connection for commands, one for subscriptions (RESP2 cannot mix them). */
class StandaloneBackend implements StreamsBackend {
  readonly cluster = false;
  readonly description: string;
  private readonly commands: Client;
  private readonly subscriber: Client;
  private readonly replies: object;
  private up = false;
  private lost = false;
  private subscriberLost = false;
  private closed = false;

  constructor(
    redis: RedisModule,
    options: BackendOptions,
    private readonly events: BackendEvents,
  ) {
    const url = options.urls[0] ?? "redis://127.0.0.1:6379";
    this.description = redactUrl(url);
    this.replies = bufferReplies(redis);
    const socket = { reconnectStrategy: options.reconnectDelay };
    // A command that cannot go now fails at once: the adapter queues and retries itself.
    this.commands = redis.createClient({ url, disableOfflineQueue: true, socket }) as unknown as Client;
    // SUBSCRIBEs made while Redis is away wait for it; node-redis renews them on reconnect.
    this.subscriber = redis.createClient({ url, socket }) as unknown as Client;
    for (const client of [this.commands, this.subscriber]) {
      client.on("error", (error) => this.onError(client, error));
      client.on("ready", () => this.onReady(client));
    }
    this.subscriber.on("reconnecting", () => this.onSubscriberLost());
  }

  start(): void {
    // connect() settles only once connected (or closed); failures arrive as "error" events.
    void this.commands.connect().catch(() => undefined);
    void this.subscriber.connect().catch(() => undefined);
  }

  command(_key: string, args: readonly RedisArgument[]): Promise<unknown> {
    return this.commands.sendCommand(args, this.replies);
  }

  async commandEverywhere(args: readonly RedisArgument[]): Promise<void> {
    await this.commands.sendCommand(args, this.replies);
  }

  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    return this.subscriber.subscribe(channel, listener, true);
  }

  unsubscribe(channel: string, listener: ChannelListener): void {
    if (!this.closed) this.subscriber.unsubscribe(channel, listener, true).catch(() => undefined);
  }

  async close(graceful: boolean): Promise<void> {
    this.closed = true;
    for (const client of [this.commands, this.subscriber]) {
      // close() waits for replies, which a lost Redis never sends.
      if (graceful && client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    }
  }

  private onError(client: Client, error: Error): void {
    if (this.closed) return;
    if (client.isReady) {
      this.events.error(error);
      return;
    }
    if (client === this.subscriber) this.onSubscriberLost();
    if (this.lost) return;
    this.lost = true;
    this.up = false;
    this.events.down(error);
  }

  private onSubscriberLost(): void {
    if (!this.closed) this.subscriberLost = true;
  }

  private onReady(client: Client): void {
    if (this.closed) return;
    if (client === this.subscriber && this.subscriberLost) {
      this.subscriberLost = false;
      this.events.subscriptionsBack();
    }
    if (this.up || !this.commands.isReady || !this.subscriber.isReady) return;
    this.up = true;
    this.lost = false;
    this.events.up();
  }
}

/**
 * A Redis Cluster through node-redis's cluster client: commands go to the master of the key's
 * slot, and subscriptions are sharded (SSUBSCRIBE, Redis 7): a topic's channel has the name
 * of its stream, so both live on the same node and the publish script may SPUBLISH to it.
 */
class ClusterBackend implements StreamsBackend {
  readonly cluster = true;
  readonly description: string;
  private readonly client: Cluster;
  private readonly replies: object;
  private up = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private attempts = 0;

  constructor(
    redis: RedisModule,
    private readonly options: BackendOptions,
    private readonly events: BackendEvents,
  ) {
    if (options.urls.length === 0) throw new TypeError("A Redis Cluster needs at least one node's URL.");
    this.description = `the Redis Cluster at ${options.urls.map(redactUrl).join(", ")}`;
    this.replies = bufferReplies(redis);
    const first = new URL(options.urls[0]!);
    const defaults: Record<string, unknown> = { socket: { reconnectStrategy: options.reconnectDelay, tls: first.protocol === "rediss:" } };
    // The nodes the cluster client discovers take credentials from here, not from rootNodes.
    if (first.username) defaults.username = decodeURIComponent(first.username);
    if (first.password) defaults.password = decodeURIComponent(first.password);
    this.client = redis.createCluster({
      rootNodes: options.urls.map((url) => ({ url })),
      defaults,
    } as Parameters<RedisModule["createCluster"]>[0]) as unknown as Cluster;
    this.client.on("error", (error) => this.onError(error));
    this.client.on("node-error", (error) => this.onError(error));
    this.client.on("node-ready", () => {
      if (this.closed || !this.up) return;
      this.events.subscriptionsBack();
    });
  }

  start(): void {
    this.client.connect().then(
      () => {
        if (this.closed) return;
        this.attempts = 0;
        this.up = true;
        this.events.up();
      },
      (error: Error) => {
        if (this.closed) return;
        this.events.down(error);
        // The cluster client gives up when no root node answers: try again later.
        this.retry = setTimeout(() => {
          this.retry = null;
          this.start();
        }, this.options.reconnectDelay(this.attempts++));
      },
    );
  }

  command(key: string, args: readonly RedisArgument[], readonly: boolean): Promise<unknown> {
    return this.client.sendCommand(key, readonly, args, this.replies);
  }

  async commandEverywhere(args: readonly RedisArgument[]): Promise<void> {
    await Promise.all(this.client.masters.map(async (master) => (await this.client.nodeClient(master)).sendCommand(args, this.replies)));
  }

  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    return this.client.sSubscribe(channel, listener, true);
  }

  unsubscribe(channel: string, listener: ChannelListener): void {
    if (!this.closed) this.client.sUnsubscribe(channel, listener, true).catch(() => undefined);
  }

  async close(graceful: boolean): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (graceful && this.up) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }

  private onError(error: Error): void {
    if (this.closed) return;
    // One node lost is not the whole cluster: report it; commands to it fail and are retried,
    // and its topics catch up when it is back ("node-ready").
    this.events.error(error);
  }
}

/** The URL without its password, for log lines. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}
