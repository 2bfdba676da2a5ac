import { randomBytes } from "node:crypto";
import {
  CloseCode,
  genericMain,
  HttpError,
  type Cgi,
  type Handler,
  type HandlerOptions,
  type HawserServer,
  type PubSub,
  type PubSubAdapter,
  type PubSubMessage,
  type WebSocket,
} from "../index.js";
import { CHAT_PAGE } from "./chat-page.js";

/** Topics are "chat/" + room, so a room never meets another application's topic. */
const TOPIC_PREFIX = "chat/";
const MAX_ROOM_LENGTH = 64;
const MAX_NAME_LENGTH = 32;
const MAX_ID_LENGTH = 64;
const MAX_OFFSET_LENGTH = 64;

/** What every client in the room receives for one message, as JSON text. */
export interface ChatMessage {
  from: string;
  /** The sender's text, unchanged. */
  text: string;
  /** The sender's id for the message, when it gave one (see `chatHandler`). */
  id?: string;
  /** The message's place in the room: reconnect with ?since=OFFSET to get what came after it. */
  offset: string;
}

/**
 * What a client receives once its subscription is in place (after the replay, with `since`):
 * from here on it gets every message live. `truncated`: the room's history no longer reached
 * back to `since`, so messages in between are missing.
 */
export interface ChatCaughtUp {
  caughtUp: true;
  truncated: boolean;
  /** Every message after this offset comes to this client: resume from it if none arrives before a drop. */
  offset?: string;
}

/** A stored message is {"from","text"[,"id"]} JSON; each client gets it with its offset added. */
function withOffset(message: PubSubMessage): string {
  const json = message.data.toString();
  return `${json.slice(0, -1)},"offset":${JSON.stringify(message.offset ?? "")}}`;
}

/**
 * `hawser chat`: the page at "/", and the chat at "/chat?room=R&name=N[&since=OFFSET]"
 * (WebSocket). Every text message a client sends goes, as {"from", "text", "offset"} JSON
 * with the text unchanged, to every client of the room (the sender too, so each sees the room
 * in one order and learns its messages' offsets) on every process sharing the adapter's
 * Redis. A client may send {"text": T, "id": I} instead of plain text: the room gets T, with
 * "id": I, so the client recognises its own messages (after a reconnect, say). With `since`,
 * the room's messages after that offset come first; then, in any case, {"caughtUp": true,
 * "truncated": ..., "offset": ...}, after which messages arrive live (a client that has seen
 * no message yet resumes from that offset). Binary messages are refused with 1003 (RFC 6455 section 7.4.1); a
 * publish Redis cannot take now (its outage queue is full) closes with 1013, try again later.
 */
export function chatHandler(pubsub: () => PubSub): Handler {
  return async (cgi: Cgi) => {
    if (cgi.pathInfo === "/chat") {
      if (!cgi.websocketRequested()) throw new HttpError(426, "The chat speaks WebSocket: open / in a browser.");
      await joinRoom(cgi, pubsub());
      return;
    }
    if (cgi.pathInfo !== "/" && cgi.pathInfo !== "/index.html") throw new HttpError(404, "Not found: the chat is at /.");
    cgi.header("Content-Type", "text/html; charset=utf-8");
    cgi.header("Cache-Control", "no-cache");
    cgi.write(CHAT_PAGE, true);
  };
}

async function joinRoom(cgi: Cgi, pubsub: PubSub): Promise<void> {
  const room = (cgi.query.get("room") ?? "").trim().slice(0, MAX_ROOM_LENGTH) || "lobby";
  const name = (cgi.query.get("name") ?? "").trim().slice(0, MAX_NAME_LENGTH) || `guest-${randomBytes(2).toString("hex")}`;
  const since = cgi.query.get("since") || undefined;
  if (since !== undefined && since.length > MAX_OFFSET_LENGTH) throw new HttpError(400, "since= takes an offset from an earlier message.");
  const topic = TOPIC_PREFIX + room;
  // Hold the topic until the adapter reads it, before the handshake completes: once a client's
  // socket is open, it gets every message sent after, from every process.
  const release = await pubsub.listen(topic, () => undefined);
  let ws: WebSocket;
  let subscribed: ReturnType<WebSocket["subscribe"]>;
  try {
    ws = cgi.acceptWebsocket();
    subscribed = ws.subscribe(topic, { format: withOffset, ...(since !== undefined ? { since } : {}) });
  } finally {
    release();
  }
  ws.ontextmessage = (text) => {
    pubsub.publishConfirmed(topic, JSON.stringify(chatMessage(name, text))).catch((error: Error) => {
      // Not published (Redis away too long): the client still has the message and may resend it.
      if (ws.readyState === ws.OPEN) ws.close(CloseCode.tryAgainLater, "the chat cannot take messages now");
      console.warn(`hawser chat: a message to room '${room}' was refused: ${error.message}`);
    });
  };
  ws.onbinarymessage = () => {
    ws.close(CloseCode.unsupportedData, "the chat takes text messages only");
  };
  const { truncated, offset } = await subscribed;
  const caughtUp: ChatCaughtUp = offset === undefined ? { caughtUp: true, truncated } : { caughtUp: true, truncated, offset };
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(caughtUp));
}

/** The stored form of a message: plain text, or the {"text", "id"} a client may send instead. */
function chatMessage(from: string, text: string): Omit<ChatMessage, "offset"> {
  if (text.startsWith("{")) {
    try {
      const envelope = JSON.parse(text) as { text?: unknown; id?: unknown };
      if (typeof envelope.text === "string" && (envelope.id === undefined || (typeof envelope.id === "string" && envelope.id.length <= MAX_ID_LENGTH))) {
        return envelope.id === undefined ? { from, text: envelope.text } : { from, text: envelope.text, id: envelope.id };
      }
    } catch {
      // Not an envelope: the text as it is.
    }
  }
  return { from, text };
}

/** Where the chat's rooms are shared: nowhere (one process), a Redis, or a Redis Cluster. */
export interface ChatRedis {
  url?: string;
  clusterNodes?: string[];
}

/**
 * Runs the chat on the command line's --port/--host, with durable rooms on Redis Streams when
 * `redis` is given (the adapter, and the `redis` package, are loaded only then).
 */
export async function runChat(args: readonly string[], redis: ChatRedis | undefined, options: Omit<HandlerOptions, "http2"> = {}): Promise<HawserServer> {
  let adapter: PubSubAdapter | undefined;
  if (redis !== undefined) {
    const { RedisStreamsAdapter } = await import("../adapters/redis.js");
    const streams = new RedisStreamsAdapter(redis.clusterNodes ? { clusterNodes: redis.clusterNodes } : { url: redis.url ?? "redis://127.0.0.1:6379" });
    streams.on("error", (error) => console.warn(`hawser chat: Redis: ${error.message}`));
    adapter = streams;
  }
  let server: HawserServer | null = null;
  server = await genericMain(
    chatHandler(() => server!.pubsub),
    { maxMessageBytes: 64 * 1024, ...options, ...(adapter ? { pubsubAdapter: adapter } : {}) },
    args,
  );
  const where = redis?.clusterNodes
    ? `the Redis Cluster at ${redis.clusterNodes.map(redact).join(", ")}`
    : redis?.url !== undefined
      ? `Redis at ${redact(redis.url)}`
      : null;
  console.log(
    where !== null
      ? `hawser chat: open ${server.url.replace(/^ws/, "http")} in a browser; rooms are shared through ${where}`
      : `hawser chat: open ${server.url.replace(/^ws/, "http")} in a browser; rooms are shared within this process (add --redis URL to share them between processes)`,
  );
  return server;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
