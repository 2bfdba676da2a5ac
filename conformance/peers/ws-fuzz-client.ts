// Trusted peer: a ws client speaking the fuzzingserver protocol. getCaseCount, then runCase
// 1..N echoing every message back as it came (text as text, binary as binary), then
// updateReports. Validates the fuzzing server against a mature client.
//   tsx conformance/peers/ws-fuzz-client.ts --url ws://127.0.0.1:9001 --agent ws
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { url: { type: 'string', default: 'ws://127.0.0.1:9001' }, agent: { type: 'string', default: 'ws' } } });
const base = (values.url as string).replace(/\/$/, '');
const agent = encodeURIComponent(values.agent as string);

/** Open one connection, echo everything, resolve with the first message when it closes. */
function session(path: string, echo: boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(base + path, { perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
    let first: string | undefined;
    ws.on('message', (data, isBinary) => {
      const bytes = data as Buffer; // binaryType "nodebuffer" (ws's default): one Buffer a message
      if (first === undefined) first = bytes.toString('utf8');
      if (echo) ws.send(bytes, { binary: isBinary });
    });
    ws.on('error', () => {
      /* the case result is judged by the server */
    });
    ws.on('close', () => resolve(first));
  });
}

const count = Number(await session('/getCaseCount', false));
console.log(`${count} cases`);
for (let i = 1; i <= count; i++) await session(`/runCase?case=${i}&agent=${agent}`, true);
await session(`/updateReports?agent=${agent}`, false);
console.log('done');
