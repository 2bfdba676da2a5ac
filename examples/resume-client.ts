// A client of examples/resume.ts that never misses a message: hawser's Node client reconnects
// by itself (backoff with full jitter), each time with ?since= the last offset it saw.
// Run it:  npx tsx examples/resume-client.ts [ws://127.0.0.1:8091/]
import { ClientWebSocket } from "hawser";

const url = process.argv[2] ?? "ws://127.0.0.1:8091/";
let lastOffset: string | undefined;

const socket = new ClientWebSocket(url, {
  reconnect: {
    maxDelayMs: 5000,
    maxAttempts: Infinity,
    url: () => (lastOffset ? `${url}?since=${encodeURIComponent(lastOffset)}` : url),
  },
});
socket.ontextmessage = (text) => {
  const message = JSON.parse(text) as { offset?: string; text?: string; caughtUp?: string };
  if (message.caughtUp !== undefined) lastOffset ??= message.caughtUp;
  if (message.offset === undefined) return;
  lastOffset = message.offset;
  console.log(message.text);
};
socket.onreconnecting = ({ attempt, delayMs }) => console.error(`reconnecting: attempt ${attempt} in ${delayMs} ms`);
await socket.connect();
