// Echo (and broadcast) server on the `ws` npm package: ws-api-server.mjs on ws's WebSocketServer.
// Usage: node bench/servers/ws-echo.mjs --port N [--host H] [--deflate]
import { createRequire } from "node:module";
import path from "node:path";
import { WebSocketServer } from "ws";
import { serverArguments, startWsApiServer } from "./ws-api-server.mjs";

startWsApiServer(WebSocketServer, "ws", serverArguments(), nativeHelpers);

// Proof that ws runs with its native helpers, read from ws's own modules (same require cache):
// masking comes from bufferutil; UTF-8 checks from Node's buffer.isUtf8 (ws prefers it over
// utf-8-validate when Node has it, as Node 20 does).
function nativeHelpers() {
  const require = createRequire(import.meta.url);
  const wsDir = path.dirname(require.resolve("ws"));
  const bufferUtil = require(path.join(wsDir, "lib", "buffer-util.js"));
  const bufferutil = String(bufferUtil.unmask).includes("bufferUtil.unmask") ? "native" : "js-fallback";
  const utf8 = typeof require("node:buffer").isUtf8 === "function" ? "buffer.isUtf8" : "utf-8-validate or js";
  return { bufferutil, utf8 };
}
