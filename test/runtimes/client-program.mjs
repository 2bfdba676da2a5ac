// A small user program, run by test/runtimes/runtimes.test.ts under Bun and Deno (and Node, as
// the reference): hawser's client and hawser/web's WebSocket against a hawser echo server
// (which greets with "hello", " world!", then echoes). Plain JavaScript, imported by package
// name as a user would, so that every runtime runs it as it is. It prints one JSON report.
//
//   RUNTIME client-program.mjs URL
import process from "node:process";
import { connect, WebSocketOpcode } from "hawser";
import { WebSocket } from "hawser/web";

const url = process.argv[2];
const report = {};

/** What came back for one message, as a comparable summary (kind, length, first and last byte). */
function summary(data) {
  if (typeof data === "string") return ["text", data.length, data.slice(0, 4), data.slice(-4)];
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return ["binary", bytes.length, bytes[0], bytes[bytes.length - 1]];
}

function pattern(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return bytes;
}

// The request-handler face's client: connect(), recv(), send(), close().
{
  const socket = await connect(url, { pingFrequency: 0 });
  report.client = { extensions: socket.extensions, greeting: [(await socket.recv()).textData, (await socket.recv()).textData], echoes: [] };
  // Under and over the 1 KiB compression threshold, and over 256 KiB (inflated off the main thread).
  for (const size of [0, 125, 126, 4096, 65_536, 1_048_576]) {
    for (const message of ["é".repeat(size / 2), pattern(size)]) {
      socket.send(message);
      const echo = await socket.recv();
      const sent = summary(message);
      const got = summary(echo.opcode === WebSocketOpcode.text ? echo.textData : echo.data);
      report.client.echoes.push(JSON.stringify(sent) === JSON.stringify(got) ? "ok" : `sent ${JSON.stringify(sent)}, got ${JSON.stringify(got)}`);
    }
  }
  socket.close(1000, "client done");
  const end = await socket.recv();
  report.client.close = [end.opcode === WebSocketOpcode.close, end.code, end.reason, end.wasClean];
}

// The browser face: hawser/web's WebSocket, events in Chromium's order.
report.web = await new Promise((resolve) => {
  const events = [];
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    events.push(["open", ws.readyState, ws.extensions]);
    ws.send("from web");
    ws.send(pattern(70_000));
  };
  ws.onmessage = (event) => {
    events.push(["message", ...summary(event.data)]);
    if (events.length === 5) ws.close(4000, "web done");
  };
  ws.onerror = () => events.push(["error"]);
  ws.onclose = (event) => {
    events.push(["close", event.code, event.reason, event.wasClean, ws.readyState]);
    resolve(events);
  };
});

process.stdout.write(JSON.stringify(report));
