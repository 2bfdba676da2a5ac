import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import { WebSocketOpcode } from "../protocol/opcodes.js";
import type { Cgi } from "../server/cgi.js";
import type { Handler, HandlerOptions } from "../server/handler.js";
import { HttpError } from "../server/http-error.js";
import { genericMain } from "../server/main.js";
import type { HawserServer } from "../server/serve.js";
import { DEMO_PAGE } from "./demo-page.js";

/** The one room of the demo's chat (a pub/sub topic). */
export const DEMO_CHAT_TOPIC = "demo/chat";
const MAX_NAME_LENGTH = 32;
const MAX_CHAT_TEXT = 4000;

/**
 * `hawser demo`: the page at "/", an echo at "/echo" and a chat room at "/chat?name=N", all
 * in memory. Chat messages go to everyone in the room, the sender included, as
 * {"from", "text"} JSON, through the server's topics (`subscribe` / `publish`).
 */
export const demoHandler: Handler = async (cgi: Cgi) => {
  switch (cgi.pathInfo) {
    case "/":
    case "/index.html":
      cgi.header("Content-Type", "text/html; charset=utf-8");
      cgi.header("Cache-Control", "no-cache");
      cgi.write(DEMO_PAGE, true);
      return;
    case "/echo":
      if (!cgi.websocketRequested()) throw new HttpError(426, "/echo speaks WebSocket: open / in a browser.");
      await echo(cgi);
      return;
    case "/chat":
      if (!cgi.websocketRequested()) throw new HttpError(426, "/chat speaks WebSocket: open / in a browser.");
      await chat(cgi);
      return;
    default:
      throw new HttpError(404, "Not found: the demo is at /.");
  }
};

async function echo(cgi: Cgi): Promise<void> {
  const socket = cgi.acceptWebsocket();
  for await (const message of socket) socket.send(message.opcode === WebSocketOpcode.text ? message.textData : message.data);
}

async function chat(cgi: Cgi): Promise<void> {
  const name = (cgi.query.get("name") ?? "").trim().slice(0, MAX_NAME_LENGTH) || "guest";
  const socket = cgi.acceptWebsocket();
  await socket.subscribe(DEMO_CHAT_TOPIC);
  const say = (from: string, text: string): void => {
    const line = JSON.stringify({ from, text });
    socket.publish(DEMO_CHAT_TOPIC, line);
    socket.send(line);
  };
  say("*", `${name} joined`);
  for await (const message of socket) {
    if (message.opcode !== WebSocketOpcode.text) {
      socket.close(1003, "the chat takes text messages");
      break;
    }
    say(name, message.textData.slice(0, MAX_CHAT_TEXT));
  }
  // Closed: the others still hear about it (publish needs no open socket of ours).
  socket.publish(DEMO_CHAT_TOPIC, JSON.stringify({ from: "*", text: `${name} left` }));
}

/** Runs the demo on the command line's port (8085 by default), and says where to point a browser. */
export async function runDemo(args: readonly string[], options: HandlerOptions): Promise<HawserServer<HttpServer | Http2SecureServer>> {
  return genericMain(demoHandler, options, args);
}
