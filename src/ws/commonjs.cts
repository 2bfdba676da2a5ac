// The CommonJS entry of hawser/ws: `require("hawser/ws")` is the WebSocket class itself, with
// `.WebSocket`, `.WebSocketServer`, `.Server` and `.createWebSocketStream` on it, as with `ws`.
import face = require("./index.js");
import WebSocket = face.WebSocket;
export = WebSocket;
