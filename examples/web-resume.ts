// The same client as resume-client.ts, written against the WHATWG WebSocket (hawser/web, or a
// browser's): a WHATWG WebSocket never reconnects, so the code does, as a page would.
// Run it:  npx tsx examples/web-resume.ts [ws://127.0.0.1:8091/]
import { WebSocket } from "hawser/web";

const url = process.argv[2] ?? "ws://127.0.0.1:8091/";
let lastOffset: string | undefined;
let retries = 0;

function open(): void {
  const socket = new WebSocket(lastOffset ? `${url}?since=${encodeURIComponent(lastOffset)}` : url);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { offset?: string; text?: string; caughtUp?: string };
    if (message.caughtUp !== undefined) {
      retries = 0; // connected and caught up: the next drop starts the backoff afresh
      lastOffset ??= message.caughtUp;
    }
    if (message.offset === undefined) return;
    lastOffset = message.offset;
    console.log(message.text);
  });
  socket.addEventListener("close", () => {
    // Exponential backoff with full jitter: a random wait below a ceiling that doubles.
    const ceiling = Math.min(5000, 250 * 2 ** retries++);
    setTimeout(open, Math.random() * ceiling);
  });
}

open();
