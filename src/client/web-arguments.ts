import { Buffer } from "node:buffer";
import { isToken } from "../protocol/handshake.js";
import { clampUnsignedShort, toUsvString } from "./web-events.js";

/**
 * The WHATWG WebSocket constructor's checks on its arguments (WebSockets Standard, "new
 * WebSocket(url, protocols)"), throwing the DOMExceptions a browser throws.
 */

const PREFIX = "Failed to construct 'WebSocket': ";

/** Steps 1-7: parse, map http(s) to ws(s), refuse other schemes and fragments. */
export function parseWebSocketUrl(input: unknown): URL {
  const text = String(input);
  let url: URL;
  try {
    // Node has no document base URL, so relative URLs cannot be resolved.
    url = new URL(text);
  } catch {
    throw new DOMException(`${PREFIX}The URL '${text}' is invalid.`, "SyntaxError");
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new DOMException(
      `${PREFIX}The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${url.protocol.slice(0, -1)}' is not allowed.`,
      "SyntaxError",
    );
  }
  // URL#hash is "" both for no fragment and for an empty one; the serialization tells them apart.
  if (url.href.includes("#")) {
    throw new DOMException(
      `${PREFIX}The URL contains a fragment identifier ('${url.hash.slice(1)}'). Fragment identifiers are not allowed in WebSocket URLs.`,
      "SyntaxError",
    );
  }
  return url;
}

/**
 * Steps 8-9: `protocols` as WebIDL converts `(DOMString or sequence<DOMString>)`, each a token
 * (RFC 6455 section 4.1), none twice.
 */
export function parseWebSocketProtocols(input: unknown): string[] {
  let list: string[];
  if (input === undefined) list = [];
  else if (typeof input === "string") list = [input];
  else if (typeof input === "object" && input !== null && Symbol.iterator in input) {
    list = Array.from(input as Iterable<unknown>, (item) => String(item));
  } else {
    // WebIDL's DOMString conversion is ToString, objects included: a plain object becomes
    // "[object Object]", no token, so the SyntaxError below, as in browsers.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    list = [String(input)];
  }
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) throw new DOMException(`${PREFIX}The subprotocol '${protocol}' is invalid.`, "SyntaxError");
    if (seen.has(protocol)) throw new DOMException(`${PREFIX}The subprotocol '${protocol}' is duplicated.`, "SyntaxError");
    seen.add(protocol);
  }
  return list;
}

/**
 * `close(code, reason)`'s checks (WebSockets Standard, "close(code, reason)" steps 1-2): the
 * code must be 1000 or 3000-4999 ("InvalidAccessError"), the reason at most 123 bytes of
 * UTF-8 ("SyntaxError"). `argumentCount` is the caller's `arguments.length`.
 */
export function parseCloseArguments(argumentCount: number, code: unknown, reason: unknown): { code: number | undefined; reason: string } {
  // Trailing undefined arguments count as absent; an undefined code before a reason is 0.
  const args = [code, reason];
  let present = Math.min(argumentCount, 2);
  while (present > 0 && args[present - 1] === undefined) present--;
  let closeCode: number | undefined;
  if (present >= 1) {
    closeCode = clampUnsignedShort(code);
    if (closeCode !== 1000 && (closeCode < 3000 || closeCode > 4999)) {
      throw new DOMException(
        `Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${closeCode} is neither.`,
        "InvalidAccessError",
      );
    }
  }
  let closeReason = "";
  if (present >= 2) {
    closeReason = toUsvString(reason);
    const length = Buffer.byteLength(closeReason);
    if (length > 123) {
      throw new DOMException(
        `Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes (it is ${length}).`,
        "SyntaxError",
      );
    }
  }
  return { code: closeCode, reason: closeReason };
}
