// A client for the echo server (npx hawser echo): prints the greeting and one echo.
// Run it:  npx tsx examples/client.ts ws://127.0.0.1:8085/
import { connect, WebSocketOpcode } from "hawser";

const url = process.argv[2] ?? "ws://127.0.0.1:8085/";
const socket = await connect(url, { pingFrequency: 5000 });

console.log((await socket.recv()).textData); // "hello"
console.log((await socket.recv()).textData); // " world!"

socket.send("echo me");
console.log((await socket.recv()).textData); // "echo me"

socket.close(1000, "done");
const end = await socket.recv();
console.log(end.opcode === WebSocketOpcode.close ? `closed with ${end.code}` : "unexpected message");
