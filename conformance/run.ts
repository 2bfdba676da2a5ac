// `npm run conformance`: both directions against hawser (or any peer given by command).
//  1. starts the server under test (`--server-cmd`, given `--port N`) and runs the fuzzing
//     client against it;
//  2. starts the fuzzing server and runs the client under test (`--client-cmd`, given
//     `--url ws://127.0.0.1:N --agent NAME`), which speaks the fuzzingserver protocol.
// Prints per-category counts, then exactly two summary lines (`server: ...`, `client: ...`),
// writes a JSON report to conformance/results/, and exits non-zero on any FAILED or if a side
// could not run.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { selectCases } from './cases/index.js';
import { testServer } from './fuzzing-client.js';
import { RESULTS_DIR, startFuzzingServer } from './fuzzing-server.js';
import { categoryTable, count, problemLines, resultLine, summaryLine, writeJson } from './lib/report.js';
import type { Case, CaseResult } from './lib/types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opt } = parseArgs({
  options: {
    'server-cmd': { type: 'string', default: 'tsx conformance/autobahn-server.ts' },
    'client-cmd': { type: 'string', default: 'tsx conformance/autobahn-client.ts' },
    agent: { type: 'string', default: 'hawser' },
    only: { type: 'string' },
    cases: { type: 'string' },
    exclude: { type: 'string' },
    slow: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '4' },
    timeout: { type: 'string', default: '3000' },
    'client-timeout': { type: 'string', default: '600' },
    verbose: { type: 'boolean', default: false },
    'show-non-strict': { type: 'boolean', default: false },
  },
});

interface Child {
  proc: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/** Start a command in its own process group, so it and its children can be stopped together. */
function start(cmd: string, label: string): Child {
  const proc = spawn(cmd, {
    cwd: ROOT,
    shell: true,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
  });
  const output: string[] = [];
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 40) output.shift();
      if (opt.verbose) console.log(`  [${label}] ${line}`);
    }
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, output, exited };
}

async function stop(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null || c.proc.pid === undefined) return;
  const group = -c.proc.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 3000);
  await c.exited;
  clearTimeout(t);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number, child: Child): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.proc.exitCode !== null) return false;
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const notRun = (cases: Case[], reason: string): CaseResult[] =>
  cases.map((c) => ({ id: c.id, description: c.description, verdict: 'FAILED', reason, durationMs: 0 }));

async function serverSide(cases: Case[]): Promise<{ results: CaseResult[]; error?: string }> {
  const port = await freePort();
  const cmd = `${opt['server-cmd']} --port ${port}`;
  console.log(`== server under test: ${cmd}`);
  const child = start(cmd, 'server');
  try {
    if (!(await waitForPort(port, 20000, child))) {
      const error = `server under test did not listen on port ${port} within 20 s${child.proc.exitCode !== null ? ` (exited with ${child.proc.exitCode})` : ''}`;
      console.log(`  ${error}\n${child.output.map((l) => `  | ${l}`).join('\n')}`);
      return { results: notRun(cases, `not run: ${error}`), error };
    }
    const results = await testServer({
      url: `ws://127.0.0.1:${port}`,
      cases,
      concurrency: Number(opt.concurrency),
      timeoutMs: Number(opt.timeout),
      onResult: (r) => {
        if (opt.verbose) console.log(`  ${resultLine(r)}`);
      },
    });
    return { results };
  } finally {
    await stop(child);
  }
}

async function clientSide(cases: Case[]): Promise<{ results: CaseResult[]; error?: string }> {
  const agent = opt.agent as string;
  const srv = await startFuzzingServer({
    port: 0,
    cases,
    timeoutMs: Number(opt.timeout),
    resultsDir: RESULTS_DIR,
    onResult: (_a, r) => {
      if (opt.verbose) console.log(`  ${resultLine(r)}`);
    },
  });
  const cmd = `${opt['client-cmd']} --url ws://127.0.0.1:${srv.port} --agent ${agent}`;
  console.log(`== client under test: ${cmd}`);
  const child = start(cmd, 'client');
  let error: string | undefined;
  try {
    const limit = Number(opt['client-timeout']) * 1000;
    const code = await Promise.race([child.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), limit).unref())]);
    if (code === 'timeout') error = `client under test did not finish within ${limit / 1000} s`;
    else if (code !== 0) error = `client under test exited with ${code}`;
  } finally {
    await stop(child);
    await srv.close();
  }
  const got = srv.results.get(agent) ?? new Map<string, CaseResult>();
  if (error) console.log(`  ${error}\n${child.output.map((l) => `  | ${l}`).join('\n')}`);
  if (got.size === 0) return { results: notRun(cases, `not run: ${error ?? 'the client ran no case'}`), error: error ?? 'the client ran no case' };
  const results = cases.map((c) => got.get(c.id) ?? (notRun([c], `not run by the client${error ? ` (${error})` : ''}`)[0] as CaseResult));
  return error ? { results, error } : { results };
}

async function main(): Promise<void> {
  const cases = selectCases(opt.cases, opt.slow ?? false, opt.exclude);
  const sides = opt.only ? [opt.only] : ['server', 'client'];
  const report: Record<string, unknown> = { startedAt: new Date().toISOString(), cases: cases.length, slow: opt.slow };
  const summaries: string[] = [];
  let bad = false;
  for (const side of ['server', 'client']) {
    if (!sides.includes(side)) continue;
    const started = Date.now();
    const { results, error } = side === 'server' ? await serverSide(cases) : await clientSide(cases);
    const shown: CaseResult['verdict'][] = opt['show-non-strict'] ? ['FAILED', 'NON-STRICT'] : ['FAILED'];
    for (const l of problemLines(side, results, shown)) console.log(l);
    for (const l of categoryTable(side, results)) console.log(l);
    console.log(`  ${side} side took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    report[side] = {
      command: side === 'server' ? opt['server-cmd'] : opt['client-cmd'],
      error,
      counts: count(results),
      durationMs: Date.now() - started,
      results,
    };
    summaries.push(summaryLine(side, results));
    if (error || results.some((r) => r.verdict === 'FAILED')) bad = true;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeJson(path.join(RESULTS_DIR, `run-${stamp}.json`), report);
  writeJson(path.join(RESULTS_DIR, 'latest.json'), report);
  for (const s of summaries) console.log(s);
  process.exit(bad ? 1 : 0);
}

void main();
