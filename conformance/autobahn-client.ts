// hawser's client as an Autobahn|Testsuite fuzzing client: it speaks the fuzzingserver's URL
// protocol (also conformance/fuzzing-server.ts's) and echoes every message of every case.
//
//   npm run autobahn:client -- --url ws://HOST:PORT --agent NAME [--cases 1,5-9] [--no-deflate]
//
// 1. /getCaseCount: the server sends the number of cases as a text message, then closes.
// 2. /runCase?case=N&agent=NAME for N = 1..count: every text and binary message is sent back
//    as it came (text as text, binary as binary) until the server closes.
// 3. /updateReports?agent=NAME: the server writes its report and closes.
// Exits 0 once the reports are updated (the verdicts are the server's to give), 1 when the
// server could not be reached or asked, 2 for a usage error.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ClientWebSocket, WebSocketOpcode, type ClientConfig } from '../src/index.js';

export interface AutobahnClientOptions {
  /** The fuzzing server, e.g. ws://127.0.0.1:9001 */
  url: string;
  agent: string;
  /** Case numbers to run (1-based); all when omitted. */
  cases?: number[];
  /** Offer permessage-deflate (default true; categories 12 and 13 need it). */
  deflate?: boolean;
  /** Longest a single case may take before its connection is cut. Default 60 s. */
  caseTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface AutobahnClientResult {
  caseCount: number;
  /** How each case ended, by case number: "1000 clean", "1006", "failed: <reason>". */
  outcomes: Map<number, string>;
}

/** Autobahn's cases go up to 16 MiB messages (section 9). */
const CASE_CONFIG: ClientConfig = {
  maximumMessageSize: 64 * 1024 * 1024,
  pingFrequency: 0,
  handshakeTimeoutMs: 10_000,
};

export async function runAutobahnClient(options: AutobahnClientOptions): Promise<AutobahnClientResult> {
  const base = options.url.replace(/\/+$/, '');
  const agent = encodeURIComponent(options.agent);
  const log = options.log ?? ((line: string) => console.log(line));
  const config: ClientConfig = { ...CASE_CONFIG, perMessageDeflate: options.deflate !== false };

  const caseCount = await getCaseCount(`${base}/getCaseCount`, config);
  log(`${caseCount} cases on ${base}`);
  const wanted = options.cases ?? Array.from({ length: caseCount }, (_, i) => i + 1);
  const outcomes = new Map<number, string>();
  for (const number of wanted) {
    if (number < 1 || number > caseCount) throw new Error(`Case ${number} does not exist: the server has cases 1 to ${caseCount}.`);
    const outcome = await runCase(`${base}/runCase?case=${number}&agent=${agent}`, config, options.caseTimeoutMs ?? 60_000);
    outcomes.set(number, outcome);
    log(`case ${number}/${caseCount}: ${outcome}`);
  }
  const report = new ClientWebSocket(`${base}/updateReports?agent=${agent}`, config);
  report.onerror = () => undefined;
  await report.connect();
  await report.closed;
  log(`reports updated for agent ${options.agent}`);
  return { caseCount, outcomes };
}

async function getCaseCount(url: string, config: ClientConfig): Promise<number> {
  const socket = new ClientWebSocket(url, config);
  socket.onerror = () => undefined;
  await socket.connect();
  const first = await socket.recv();
  if (first.opcode !== WebSocketOpcode.text) {
    throw new Error(`${url} sent no case count (the connection ended with ${first.code}).`);
  }
  const count = Number.parseInt(first.textData, 10);
  if (!Number.isInteger(count) || count < 0) throw new Error(`${url} sent ${JSON.stringify(first.textData)}, not a case count.`);
  if (socket.readyState === socket.OPEN) socket.close();
  await socket.closed;
  return count;
}

/** Echoes every message until the server closes; resolves with how the connection ended. */
async function runCase(url: string, config: ClientConfig, timeoutMs: number): Promise<string> {
  const socket = new ClientWebSocket(url, config);
  let failure = '';
  socket.onerror = (error) => {
    failure ||= error.message;
  };
  socket.onmessage = (event) => {
    socket.send(event.data);
  };
  try {
    await socket.connect();
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
  const timer = setTimeout(() => {
    failure ||= `case still running after ${timeoutMs} ms: cut`;
    socket.terminate();
  }, timeoutMs);
  const event = await socket.closed;
  clearTimeout(timer);
  return `${event.code}${event.wasClean ? ' clean' : ''}${failure ? ` (${failure})` : ''}`;
}

/** "1,5-9" → [1, 5, 6, 7, 8, 9] */
function parseCaseList(text: string): number[] {
  const cases: number[] = [];
  for (const part of text.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!range) throw new Error(`--cases expects numbers and ranges like 1,5-9; got '${part}'.`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let n = from; n <= to; n++) cases.push(n);
  }
  return cases;
}

const USAGE = 'Usage: npm run autobahn:client -- --url ws://HOST:PORT --agent NAME [--cases 1,5-9] [--no-deflate]\n';

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        agent: { type: 'string' },
        cases: { type: 'string' },
        'no-deflate': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`autobahn-client: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.url || !values.agent) {
    process.stderr.write(`autobahn-client: --url and --agent are required.\n${USAGE}`);
    return 2;
  }
  try {
    await runAutobahnClient({
      url: values.url,
      agent: values.agent,
      ...(values.cases ? { cases: parseCaseList(values.cases) } : {}),
      deflate: values['no-deflate'] !== true,
    });
    return 0;
  } catch (error) {
    process.stderr.write(`autobahn-client: ${(error as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main(process.argv.slice(2)));
}
