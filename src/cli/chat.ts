import { randomBytes } from "node:crypto";
import { CloseCode } from "../protocol/close.js";
import type { Cgi } from "../server/cgi.js";
import type { Handler, HandlerOptions } from "../server/handler.js";
import { HttpError } from "../server/http-error.js";
import { genericMain } from "../server/main.js";
import type { PubSub } from "../server/pubsub.js";
import type { PubSubAdapter } from "../server/pubsub-adapter.js";
import type { HawserServer } from "../server/serve.js";
import type { WebSocket } from "../websocket/websocket.js";
import { CHAT_PAGE } from "./chat-page.js";

/** Topics are "chat/" + room, so a room never meets another application's topic. */
const TOPIC_PREFIX = "chat/";
const MAX_ROOM_LENGTH = 64;
const MAX_NAME_LENGTH = 32;

/** What every other client in the room receives for one message, as JSON text. */
export interface ChatMessage {
  from: string;
  /** The sender's text, unchanged. */
  text: string;
}

/**
 * `hawser chat`: the page at "/", and the chat at "/chat?room=R&name=N" (WebSocket). Every
 * text message a client sends goes, as {"from", "text"} JSON with the text unchanged, to
 * every other client of the room on any process sharing the adapter's Redis, in the order
 * sent. Binary messages are refused with 1003 (RFC 6455 section 7.4.1).
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
  const topic = TOPIC_PREFIX + room;
  // Hold the topic until Redis confirms it, before the handshake completes: once a client's
  // socket is open, it gets every message sent after, from every process.
  const release = await pubsub.listen(topic, () => undefined);
  let ws: WebSocket;
  try {
    ws = cgi.acceptWebsocket();
    ws.subscribe(topic);
  } finally {
    release();
  }
  ws.ontextmessage = (text) => {
    const message: ChatMessage = { from: name, text };
    ws.publish(topic, JSON.stringify(message));
  };
  ws.onbinarymessage = () => {
    ws.close(CloseCode.unsupportedData, "the chat takes text messages only");
  };
}

/**
 * Runs the chat on the command line's --port/--host, relaying through Redis when `redisUrl`
 * is given (the Redis adapter, and the `redis` package, are loaded only then).
 */
export async function runChat(args: readonly string[], redisUrl: string | undefined, options: Omit<HandlerOptions, "http2"> = {}): Promise<HawserServer> {
  let adapter: PubSubAdapter | undefined;
  if (redisUrl !== undefined) {
    const { RedisAdapter } = await import("../adapters/redis.js");
    adapter = new RedisAdapter({ url: redisUrl });
  }
  let server: HawserServer | null = null;
  server = await genericMain(
    chatHandler(() => server!.pubsub),
    { maxMessageBytes: 64 * 1024, ...options, ...(adapter ? { pubsubAdapter: adapter } : {}) },
    args,
  );
  console.log(
    redisUrl !== undefined
      ? `hawser chat: open ${server.url.replace(/^ws/, "http")} in a browser; rooms are shared through Redis at ${redisUrl.replace(/\/\/[^@/]*@/, "//***@")}`
      : `hawser chat: open ${server.url.replace(/^ws/, "http")} in a browser; rooms are shared within this process (add --redis URL to share them between processes)`,
  );
  return server;
}
