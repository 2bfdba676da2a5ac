// Counting and printing results: per-category tables and the one-line summaries.
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORIES, categoryOf, compareIds } from '../cases/index.js';
import { VERDICTS, type CaseResult, type Verdict } from './types.js';

export type Counts = Record<Verdict, number> & { TOTAL: number };

export function count(results: CaseResult[]): Counts {
  const c = { OK: 0, 'NON-STRICT': 0, INFORMATIONAL: 0, FAILED: 0, TOTAL: results.length } as Counts;
  for (const r of results) c[r.verdict]++;
  return c;
}

/** Exactly the format the issue asks for: `side: OK=n NON-STRICT=n INFORMATIONAL=n FAILED=n TOTAL=n`. */
export function summaryLine(side: string, results: CaseResult[]): string {
  const c = count(results);
  return `${side}: ${VERDICTS.map((v) => `${v}=${c[v]}`).join(' ')} TOTAL=${c.TOTAL}`;
}

export function categoryTable(side: string, results: CaseResult[]): string[] {
  const byCat = new Map<string, CaseResult[]>();
  for (const r of results) {
    const k = categoryOf(r.id);
    byCat.set(k, [...(byCat.get(k) ?? []), r]);
  }
  return [...byCat.keys()].sort(compareIds).map((k) => {
    const c = count(byCat.get(k) as CaseResult[]);
    const name = `${k} ${CATEGORIES[k] ?? ''}`.padEnd(22);
    return `  ${side} ${name} ${VERDICTS.map((v) => `${v}=${c[v]}`.padEnd(v.length + 5)).join(' ')} TOTAL=${c.TOTAL}`;
  });
}

/** One line per case with one of `verdicts`, at most `perCategory` per category (the JSON
 *  report has them all). */
export function problemLines(side: string, results: CaseResult[], verdicts: Verdict[] = ['FAILED'], perCategory = 12): string[] {
  const out: string[] = [];
  const shown = new Map<string, number>();
  const hidden = new Map<string, number>();
  for (const r of results.filter((x) => verdicts.includes(x.verdict))) {
    const k = categoryOf(r.id);
    const n = shown.get(k) ?? 0;
    if (n >= perCategory) {
      hidden.set(k, (hidden.get(k) ?? 0) + 1);
      continue;
    }
    shown.set(k, n + 1);
    out.push(`  ${side} ${r.verdict.padEnd(13)} ${r.id.padEnd(9)} ${r.description}: ${r.reason.split('\n')[0]}`);
  }
  for (const [k, n] of hidden) out.push(`  ${side} ... and ${n} more in category ${k} (see the JSON report)`);
  return out;
}

export function resultLine(r: CaseResult): string {
  return `${r.verdict.padEnd(13)} ${r.id.padEnd(9)} ${String(r.durationMs).padStart(6)} ms  ${r.description}${r.reason ? `: ${r.reason}` : ''}`;
}

export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

export function sortResults(results: CaseResult[]): CaseResult[] {
  return [...results].sort((a, b) => compareIds(a.id, b.id));
}
