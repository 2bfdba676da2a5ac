// The case table: every category, sorted, filtered by `--cases` patterns and the slow tier.
import type { Case } from '../lib/types.js';
import { framingCases } from './1-framing.js';
import { pingCases } from './2-pings.js';
import { reservedBitCases } from './3-reserved-bits.js';
import { opcodeCases } from './4-opcodes.js';
import { fragmentationCases } from './5-fragmentation.js';
import { utf8Cases } from './6-utf8.js';
import { closeCases } from './7-close.js';
import { limitCases } from './9-limits.js';
import { autoFragmentationCases } from './10-autofrag.js';
import { deflateCases } from './12-deflate.js';
import { deflateParamCases } from './13-deflate-params.js';

export const CATEGORIES: Record<string, string> = {
  1: 'framing',
  2: 'pings/pongs',
  3: 'reserved bits',
  4: 'reserved opcodes',
  5: 'fragmentation',
  6: 'UTF-8',
  7: 'close handling',
  9: 'limits/performance',
  10: 'auto-fragmentation',
  12: 'permessage-deflate',
  13: 'deflate parameters',
};

export function compareIds(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

export function allCases(): Case[] {
  const cases = [
    framingCases(),
    pingCases(),
    reservedBitCases(),
    opcodeCases(),
    fragmentationCases(),
    utf8Cases(),
    closeCases(),
    limitCases(),
    autoFragmentationCases(),
    deflateCases(),
    deflateParamCases(),
  ].flat();
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    seen.add(c.id);
  }
  return cases.sort((a, b) => compareIds(a.id, b.id));
}

/** Patterns are comma-separated ids with `*` as wildcard: "1.*,6.4.*,7.1.1". A bare category
 *  number ("6") means the whole category. */
export function selectCases(patterns: string | undefined, slow: boolean, exclude?: string): Case[] {
  const toRes = (p: string | undefined) =>
    (p ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => new RegExp(`^${s.replace(/\./g, '\\.').replace(/\*/g, '.*')}${s.includes('*') ? '' : '(\\..*)?'}$`));
  const inc = toRes(patterns);
  const exc = toRes(exclude);
  return allCases().filter((c) => (slow || !c.slow) && (inc.length === 0 || inc.some((r) => r.test(c.id))) && !exc.some((r) => r.test(c.id)));
}

export function categoryOf(id: string): string {
  return id.split('.')[0] as string;
}
