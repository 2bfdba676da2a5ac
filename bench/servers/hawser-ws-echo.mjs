// Echo (and broadcast) server on hawser's ws-compatible face: ws-api-server.mjs, the same code
// as ws-echo.mjs runs on ws, on hawser/ws's WebSocketServer (the built package: npm run build).
// Usage: node bench/servers/hawser-ws-echo.mjs --port N [--host H] [--deflate]
import { WebSocketServer } from "hawser/ws";
import { serverArguments, startWsApiServer } from "./ws-api-server.mjs";

startWsApiServer(WebSocketServer, "hawser-ws", serverArguments());
