// The handler every mount-*.ts example mounts: an echo for logged-in users only.
// Authentication happens in the handler, before acceptWebsocket(): from the "session" cookie
// (what a browser sends) or an "Authorization: Bearer TOKEN" header (what a program sends).
// A request without either is refused with a real HTTP 401, which clients report as such
// (a browser's WebSocket gets a close event with code 1006; `ws` an 'unexpected-response').
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpError, WebSocketOpcode, type Cgi, type HandlerHost, type Handler } from "hawser";

/** Session cookie values to user names; a real app keeps these in its session store. */
export const sessions = new Map<string, string>();
/** API tokens to user names. */
export const apiTokens = new Map<string, string>([["token-for-ben", "ben"]]);

/** Logs `user` in: returns a fresh session id to send as the "session" cookie. */
export function createSession(user: string): string {
  const id = randomBytes(16).toString("hex");
  sessions.set(id, user);
  return id;
}

/** The user a request comes from, or undefined. */
export function userOf(cgi: Cgi): string | undefined {
  const session = cgi.cookies.get("session");
  if (session !== undefined && sessions.has(session)) return sessions.get(session);
  const authorization = cgi.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  return match ? apiTokens.get(match[1]!) : undefined;
}

/** Greets the user by name, then echoes every message until the client closes. */
export const authenticatedEcho: Handler = async (cgi: Cgi) => {
  if (!cgi.websocketRequested()) {
    cgi.write("This is a WebSocket endpoint: connect with a WebSocket client.\n", true);
    return;
  }
  if (cgi.pathInfo !== "/ws") throw new HttpError(404, "The WebSocket is at /ws.");
  const user = userOf(cgi);
  if (user === undefined) {
    // Before acceptWebsocket() the handshake can still be refused with any HTTP status.
    throw new HttpError(401, "Log in first: send the session cookie or an Authorization: Bearer token.", {
      "WWW-Authenticate": 'Bearer realm="echo"',
    });
  }
  const websocket = cgi.acceptWebsocket();
  websocket.send(`hello ${user}`);
  for await (const message of websocket) {
    websocket.send(message.opcode === WebSocketOpcode.text ? message.textData : message.data);
  }
};

/** Closes every WebSocket of `host` (1001 "going away") and waits until they are gone. */
export async function closeWebSockets(host: HandlerHost): Promise<void> {
  const closing = [...host.clients].map((socket) => socket.closed);
  host.closeAll();
  await Promise.all(closing);
}

/** What each example's start() returns. */
export interface RunningExample {
  /** The port listened on (useful with port 0). */
  readonly port: number;
  /** Closes the WebSockets, then the server; resolves when everything is closed. */
  close(): Promise<void>;
}

/** True when `moduleUrl` is the program node was started with (not imported by a test). */
export function isMainModule(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === resolve(process.argv[1]);
}
