// Fuzzing server: tests a WebSocket CLIENT. Speaks the Autobahn fuzzingserver URL protocol:
//   GET /getCaseCount             WebSocket; sends the number of cases as text, then closes
//   GET /getCaseInfo?case=N       WebSocket (or plain HTTP): {"id","description"} as JSON
//   GET /runCase?case=N&agent=A   WebSocket; runs case N (1-based) from the server side
//   GET /updateReports?agent=A    WebSocket; closes at once and writes A's results
// Server frames are unmasked; every client frame must be masked (RFC 6455 5.1).
//
//   tsx conformance/fuzzing-server.ts --port 9001 [--cases 1.*,6.4.*] [--slow] [--verbose]
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkClientRequest, serverResponse } from './lib/handshake.js';
import { PmdCodec, respondToOffer } from './lib/deflate.js';
import { Session } from './lib/session.js';
import { Engine, caseDeadline, withDeadline, type Judgement } from './lib/engine.js';
import { OP, closePayload } from './lib/frame.js';
import { selectCases } from './cases/index.js';
import { categoryTable, problemLines, resultLine, sortResults, summaryLine, writeJson } from './lib/report.js';
import type { Case, CaseResult } from './lib/types.js';

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

export interface FuzzingServerOptions {
  port?: number;
  host?: string;
  cases: Case[];
  timeoutMs?: number;
  /** Where /updateReports writes `client-<agent>.json`; omit to keep results in memory only. */
  resultsDir?: string;
  onResult?: (agent: string, r: CaseResult) => void;
  onReport?: (agent: string, results: CaseResult[]) => void;
}

export interface FuzzingServer {
  port: number;
  /** agent -> case id -> result */
  results: Map<string, Map<string, CaseResult>>;
  close(): Promise<void>;
}

/** Say a short text (or nothing) and close with 1000, as the fuzzingserver does. */
async function sayAndClose(socket: net.Socket, head: Buffer, text: string | null): Promise<void> {
  const s = new Session(socket, 'server', null, head);
  const frames = text === null ? [] : [{ opcode: OP.TEXT, payload: text }];
  await s.send([...frames, { opcode: OP.CLOSE, payload: closePayload(1000) }]);
  for (let ev = await s.next(3000); ev.type !== 'close' && ev.type !== 'eof' && ev.type !== 'timeout' && ev.type !== 'violation'; ev = await s.next(3000)) {
    // Ignore anything the client says before its close.
  }
  socket.end();
  if (!(await s.waitClosed(2000))) s.destroy();
}

function reject(socket: net.Socket, status: string, body: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export async function startFuzzingServer(o: FuzzingServerOptions): Promise<FuzzingServer> {
  const timeoutMs = o.timeoutMs ?? 3000;
  const results = new Map<string, Map<string, CaseResult>>();
  const sockets = new Set<net.Socket>();

  const record = (agent: string, r: CaseResult) => {
    if (!results.has(agent)) results.set(agent, new Map());
    results.get(agent)?.set(r.id, r);
    o.onResult?.(agent, r);
  };
  const caseAt = (u: URL) => o.cases[Number(u.searchParams.get('case')) - 1];

  async function runCase(c: Case, agent: string, req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const started = Date.now();
    let codec: PmdCodec | null = null;
    let ext: string | undefined;
    let declined: string | undefined;
    let note: string | undefined;
    if (c.deflate) {
      const r = respondToOffer(req.headers['sec-websocket-extensions'], c.deflate);
      if ('declined' in r) declined = r.declined;
      else {
        ext = r.header;
        codec = new PmdCodec(r.negotiated, 'server');
        note = r.note ? `${r.note}; answered "${r.header}"` : `answered "${r.header}"`;
      }
    }
    socket.write(serverResponse(req.headers['sec-websocket-key'] as string, ext));
    let j: Judgement;
    if (declined !== undefined) {
      await sayAndClose(socket, head, null);
      j = { verdict: 'FAILED', reason: `permessage-deflate not negotiated: ${declined}` };
    } else {
      const session = new Session(socket, 'server', codec, head);
      const deadline = caseDeadline(c, timeoutMs);
      try {
        j = await withDeadline(new Engine(c, session, timeoutMs).run(), deadline, { verdict: 'FAILED', reason: `case did not finish within ${deadline} ms` });
      } catch (e) {
        j = { verdict: 'FAILED', reason: `driver error: ${(e as Error).stack ?? String(e)}` };
      }
      socket.destroy();
      if (note && j.verdict !== 'FAILED') j.reason = j.reason ? `${j.reason}; ${note}` : note;
    }
    record(agent, { id: c.id, description: c.description, verdict: j.verdict, reason: j.reason, durationMs: Date.now() - started });
  }

  function report(agent: string): void {
    const list = sortResults([...(results.get(agent)?.values() ?? [])]);
    if (o.resultsDir) writeJson(path.join(o.resultsDir, `client-${agent.replace(/[^\w.-]/g, '_')}.json`), { side: 'client', agent, results: list });
    o.onReport?.(agent, list);
  }

  const server = http.createServer((req, res) => {
    // Plain HTTP: case info for humans and scripts; anything else needs a WebSocket.
    const u = new URL(req.url ?? '/', 'http://localhost');
    const c = caseAt(u);
    if (u.pathname === '/getCaseInfo' && c) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: c.id, description: c.description }));
    } else if (u.pathname === '/getCaseCount') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(String(o.cases.length));
    } else {
      if (u.pathname === '/runCase' && c) {
        record(u.searchParams.get('agent') ?? 'unknown', {
          id: c.id,
          description: c.description,
          verdict: 'FAILED',
          reason: 'client sent no WebSocket upgrade request (RFC 6455 4.1)',
          durationMs: 0,
        });
      }
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' }).end('WebSocket upgrade required\n');
    }
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {
      /* reported through the session's events */
    });
    socket.setNoDelay(true);
    const u = new URL(req.url ?? '/', 'http://localhost');
    const agent = u.searchParams.get('agent') ?? 'unknown';
    const c = caseAt(u);
    const problem = checkClientRequest(req.method, req.httpVersion, req.headers);
    if (problem) {
      if (u.pathname === '/runCase' && c)
        record(agent, { id: c.id, description: c.description, verdict: 'FAILED', reason: `bad opening handshake: ${problem}`, durationMs: 0 });
      reject(socket, '400 Bad Request', `${problem}\n`);
      return;
    }
    const accept = () => socket.write(serverResponse(req.headers['sec-websocket-key'] as string, undefined));
    switch (u.pathname) {
      case '/runCase':
        if (!c) return reject(socket, '404 Not Found', `no case ${u.searchParams.get('case')}; there are ${o.cases.length}\n`);
        void runCase(c, agent, req, socket, head);
        return;
      case '/getCaseCount':
        accept();
        void sayAndClose(socket, head, String(o.cases.length));
        return;
      case '/getCaseInfo':
        if (!c) return reject(socket, '404 Not Found', `no case ${u.searchParams.get('case')}\n`);
        accept();
        void sayAndClose(socket, head, JSON.stringify({ id: c.id, description: c.description }));
        return;
      case '/updateReports':
        accept();
        void sayAndClose(socket, head, null).then(() => report(agent));
        return;
      default:
        reject(socket, '404 Not Found', 'unknown path\n');
    }
  });

  await new Promise<void>((resolve, rej) => {
    server.once('error', rej);
    server.listen(o.port ?? 9001, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    results,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9001' },
      host: { type: 'string', default: '127.0.0.1' },
      cases: { type: 'string' },
      exclude: { type: 'string' },
      slow: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '3000' },
      'results-dir': { type: 'string', default: RESULTS_DIR },
      verbose: { type: 'boolean', default: false },
    },
  });
  const cases = selectCases(values.cases, values.slow ?? false, values.exclude);
  const srv = await startFuzzingServer({
    port: Number(values.port),
    host: values.host as string,
    cases,
    timeoutMs: Number(values.timeout),
    resultsDir: values['results-dir'] as string,
    onResult: (agent, r) => {
      if (values.verbose) console.log(`[${agent}] ${resultLine(r)}`);
    },
    onReport: (agent, list) => {
      for (const l of problemLines('client', list, ['FAILED', 'NON-STRICT'])) console.log(l);
      for (const l of categoryTable('client', list)) console.log(l);
      console.log(`agent ${agent}: ${list.length} of ${cases.length} cases run`);
      console.log(summaryLine('client', list));
    },
  });
  console.log(`fuzzing server on ws://${values.host}:${srv.port} with ${cases.length} cases`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
