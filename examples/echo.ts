// The seed's websocketEcho, carried over to TypeScript as closely as it goes.
// Run it:  npx tsx examples/echo.ts --port 8085
// Like the original it only accepts pages from http://arsdnet.net; a client that is not a
// browser can send that Origin header itself (see test/server/example-echo.test.ts), or use
// `npx hawser echo`, which checks the origin only when given --origin.
import { genericMain, WebSocketOpcode, type Cgi } from "hawser";

async function websocketEcho(cgi: Cgi): Promise<void> {
  if (cgi.websocketRequested()) {
    if (cgi.origin !== "http://arsdnet.net") throw new Error("bad origin");
    const websocket = cgi.acceptWebsocket();

    websocket.send("hello");
    websocket.send(" world!");

    let msg = await websocket.recv();
    while (msg.opcode !== WebSocketOpcode.close) {
      if (msg.opcode === WebSocketOpcode.text) {
        websocket.send(msg.textData);
      } else if (msg.opcode === WebSocketOpcode.binary) {
        websocket.send(msg.data);
      }

      msg = await websocket.recv();
    }

    websocket.close();
  } else {
    cgi.write("You are loading the websocket endpoint in a browser instead of a websocket client. Use a websocket client on this url instead.\n", true);
  }
}

// hawser refuses other sites' pages by default; this lets the seed's origin through to the handler.
await genericMain(websocketEcho, { allowedOrigins: ["http://arsdnet.net"] });
