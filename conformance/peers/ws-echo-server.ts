// Trusted peer: ws's WebSocketServer echoing every message (text as text, binary as binary),
// with permessage-deflate on. Validates the fuzzing client against a mature server.
//   tsx conformance/peers/ws-echo-server.ts --port 9001
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { port: { type: 'string', default: '9001' } } });
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port), perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  ws.on('error', () => {
    /* ws closes the connection itself; nothing to add */
  });
});
wss.on('listening', () => console.log(`ws echo server on ws://127.0.0.1:${values.port}`));
