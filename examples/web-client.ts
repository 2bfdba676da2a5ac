// The browser's WebSocket, in Node: the same events in the same order as Chromium.
// Run it:  npx tsx examples/web-client.ts ws://127.0.0.1:8085/
import { WebSocket } from "hawser/web";

const socket = new WebSocket(process.argv[2] ?? "ws://127.0.0.1:8085/");
socket.binaryType = "arraybuffer";
socket.addEventListener("open", () => socket.send("echo me"));
socket.addEventListener("message", (event) => {
  console.log("message:", event.data);
  if (event.data === "echo me") socket.close(1000, "done");
});
socket.addEventListener("close", (event) => console.log(`close: ${event.code} clean=${event.wasClean}`));
