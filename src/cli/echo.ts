import type { Cgi } from "../server/cgi.js";
import type { Handler } from "../server/handler.js";

/** What a browser loading the endpoint is told (the seed's wording). */
export const BROWSER_HINT = "You are loading the websocket endpoint in a browser instead of a websocket client. Use a websocket client on this url instead.\n";

/**
 * The seed's `websocketEcho`: greets with "hello" and " world!", then echoes every message
 * until the peer closes. Which pages may connect is the server's `allowedOrigins` to decide
 * (`hawser echo --origin URL`), before this handler runs.
 */
export function echoHandler(): Handler {
  return async (cgi: Cgi) => {
    if (cgi.websocketRequested()) {
      const websocket = cgi.acceptWebsocket();

      websocket.send("hello");
      websocket.send(" world!");
      // The seed loops on recv() (as examples/echo.ts does); the event face is the faster one for
      // a server under load: the echo is written in the same batch as the read that brought the
      // message, and the message is garbage as soon as its echo is out. Forwarding the bytes as
      // received skips decoding text only to encode it again. The peer's close is answered by
      // the library either way.
      websocket.onmessage = (event) => {
        websocket.send(event.rawData, { binary: event.isBinary });
      };
    } else {
      cgi.write(BROWSER_HINT, true);
    }
  };
}

/**
 * A plain echo for conformance runs (the Autobahn|Testsuite's fuzzingclient): no greeting,
 * every text and binary message echoed as it came, on any path.
 */
export const autobahnEchoHandler: Handler = (cgi: Cgi) => {
  if (!cgi.websocketRequested()) {
    cgi.write("hawser Autobahn echo server: connect a WebSocket client.\n", true);
    return;
  }
  const websocket = cgi.acceptWebsocket();
  websocket.onmessage = (event) => {
    websocket.send(event.rawData, { binary: event.isBinary });
  };
};
