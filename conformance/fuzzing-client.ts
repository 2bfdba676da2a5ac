// Fuzzing client: tests a WebSocket SERVER. For each case it opens a raw TCP connection, does
// the opening handshake itself (offering permessage-deflate when the case wants it), runs the
// case as the client (masking every frame, RFC 6455 5.3) and judges the server.
//
//   tsx conformance/fuzzing-client.ts --url ws://127.0.0.1:9001 [--cases 1.*,6.4.*] [--exclude 9.*]
//       [--slow] [--json out.json] [--concurrency 4] [--timeout 3000] [--verbose]
import type net from 'node:net';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { clientHandshake } from './lib/handshake.js';
import { checkResponse, formatOffer, PmdCodec } from './lib/deflate.js';
import { Session } from './lib/session.js';
import { Engine, caseDeadline, withDeadline, type Judgement } from './lib/engine.js';
import { selectCases } from './cases/index.js';
import { categoryTable, problemLines, resultLine, sortResults, summaryLine, writeJson } from './lib/report.js';
import type { Case, CaseResult } from './lib/types.js';

export interface ServerTestOptions {
  url: string;
  cases: Case[];
  concurrency?: number;
  timeoutMs?: number;
  onResult?: (r: CaseResult) => void;
}

async function judge(c: Case, url: URL, timeoutMs: number, sockets: Set<net.Socket>): Promise<Judgement> {
  const offer = c.deflate ? formatOffer(c.deflate) : undefined;
  let hs;
  try {
    hs = await clientHandshake(url, `${url.pathname.replace(/\/$/, '')}/conformance/${c.id}`, offer, Math.max(timeoutMs, 5000));
  } catch (e) {
    return { verdict: 'FAILED', reason: `handshake: ${(e as Error).message}` };
  }
  sockets.add(hs.socket);
  let codec: PmdCodec | null = null;
  let note = '';
  if (c.deflate) {
    const r = checkResponse(c.deflate, hs.extensions);
    if (r.problem || !r.negotiated) {
      hs.socket.destroy();
      return { verdict: 'FAILED', reason: r.problem ?? `permessage-deflate not negotiated (offer "${offer}")` };
    }
    codec = new PmdCodec(r.negotiated, 'client');
    note = `negotiated "${hs.extensions}"`;
  }
  const session = new Session(hs.socket, 'client', codec, hs.head);
  const j = await new Engine(c, session, timeoutMs).run();
  if (note && j.verdict !== 'FAILED') j.reason = j.reason ? `${j.reason}; ${note}` : note;
  return j;
}

/** Run one case with a hard deadline, so one stuck case cannot stall the run. */
export async function runServerCase(c: Case, url: URL, timeoutMs: number): Promise<CaseResult> {
  const started = Date.now();
  const deadline = caseDeadline(c, timeoutMs);
  let j: Judgement;
  const sockets = new Set<net.Socket>();
  try {
    j = await withDeadline(judge(c, url, timeoutMs, sockets), deadline, { verdict: 'FAILED', reason: `case did not finish within ${deadline} ms` });
  } catch (e) {
    j = { verdict: 'FAILED', reason: `driver error: ${(e as Error).stack ?? String(e)}` };
  }
  // Whatever happened, leave no connection behind.
  for (const s of sockets) s.destroy();
  return { id: c.id, description: c.description, verdict: j.verdict, reason: j.reason, durationMs: Date.now() - started };
}

/** Cases run a few at a time; big ("exclusive") ones run alone afterwards. */
export async function testServer(o: ServerTestOptions): Promise<CaseResult[]> {
  const url = new URL(o.url);
  const timeoutMs = o.timeoutMs ?? 3000;
  const results: CaseResult[] = [];
  const done = (r: CaseResult) => {
    results.push(r);
    o.onResult?.(r);
  };
  const shared = o.cases.filter((c) => !c.exclusive);
  let next = 0;
  const worker = async () => {
    while (next < shared.length) done(await runServerCase(shared[next++] as Case, url, timeoutMs));
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
  for (const c of o.cases.filter((x) => x.exclusive)) done(await runServerCase(c, url, timeoutMs));
  return sortResults(results);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:9001' },
      cases: { type: 'string' },
      exclude: { type: 'string' },
      slow: { type: 'boolean', default: false },
      json: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      timeout: { type: 'string', default: '3000' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const cases = selectCases(values.cases, values.slow ?? false, values.exclude);
  const started = Date.now();
  const results = await testServer({
    url: values.url as string,
    cases,
    concurrency: Number(values.concurrency),
    timeoutMs: Number(values.timeout),
    onResult: (r) => {
      if (values.verbose) console.log(resultLine(r));
    },
  });
  for (const l of problemLines('server', results, ['FAILED', 'NON-STRICT'])) console.log(l);
  for (const l of categoryTable('server', results)) console.log(l);
  if (values.json) writeJson(values.json, { side: 'server', url: values.url, durationMs: Date.now() - started, results });
  console.log(summaryLine('server', results));
  process.exit(results.some((r) => r.verdict === 'FAILED') ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
