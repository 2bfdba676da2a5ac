// Raw TCP echo on node:net: the ceiling a Node WebSocket server could reach on this machine.
// Usage: node bench/servers/raw-echo.mjs --port N [--host H]
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "9001" }, host: { type: "string", default: "127.0.0.1" } },
});

const server = net.createServer({ noDelay: true }, (socket) => {
  // pipe() pauses reading while the write side is full, as a WebSocket server must too.
  socket.pipe(socket);
  socket.on("error", () => socket.destroy());
});
server.listen(Number(values.port), values.host, () => {
  console.log(JSON.stringify({ ready: true, server: "raw", port: server.address().port }));
});
