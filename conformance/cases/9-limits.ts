// Category 9: limits and performance. Like Autobahn, these are INFORMATIONAL: the time is
// recorded, a limit the peer enforces (close 1009, RFC 6455 7.4.1) is recorded, and only a
// wrong echo fails.
import { text as asciiText, binary as randomBytes, sizeName, KiB, MiB } from '../lib/payload.js';
import { mk, send, text, binary, expectText, expectBinary } from './helpers.js';
import type { Case, FrameSpec, Step } from '../lib/types.js';

const info = { informational: true, timeoutMs: 30000 };

function split(opcode: number, p: Buffer, size: number): FrameSpec[] {
  const out: FrameSpec[] = [];
  for (let i = 0; i < p.length; i += size) out.push({ opcode: i ? 0 : opcode, fin: i + size >= p.length, payload: p.subarray(i, i + size) });
  return out;
}

export function limitCases(): Case[] {
  const cases: Case[] = [];
  const kinds = [
    { name: 'text', gen: asciiText, frame: text, expect: expectText, op: 1 as const },
    { name: 'binary', gen: randomBytes, frame: binary, expect: expectBinary, op: 2 as const },
  ];
  kinds.forEach((k, ki) => {
    [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB].forEach((size, i) => {
      cases.push(
        mk(
          `9.${1 + ki}.${i + 1}`,
          `${k.name} message of ${sizeName(size)} in one frame`,
          () => {
            const p = k.gen(size, 90 + i);
            return [send([k.frame(p)]), k.expect(p)];
          },
          { ...info, exclusive: size >= 4 * MiB },
        ),
      );
    });
    [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB].forEach((frag, i) => {
      cases.push(
        mk(
          `9.${3 + ki}.${i + 1}`,
          `${k.name} message of 4 MiB in fragments of ${sizeName(frag)}`,
          () => {
            const p = k.gen(4 * MiB, 30 + i);
            return [send(split(k.op, p, frag)), k.expect(p)];
          },
          { ...info, exclusive: true },
        ),
      );
    });
    [64, 128, 256, 512, 1024, 2048].forEach((chop, i) => {
      cases.push(
        mk(
          `9.${5 + ki}.${i + 1}`,
          `${k.name} message of 1 MiB written in ${chop}-byte pieces`,
          () => {
            const p = k.gen(MiB, 50 + i);
            return [send([k.frame(p)], { chop }), k.expect(p)];
          },
          info,
        ),
      );
    });
    [0, 16, 64, 256, 1024, 4096].forEach((size, i) => {
      cases.push(
        mk(
          `9.${7 + ki}.${i + 1}`,
          `1000 ${k.name} messages of ${sizeName(size)}`,
          () => {
            const ps = Array.from({ length: 1000 }, (_, j) => k.gen(size, j + 1));
            const steps: Step[] = [send(ps.map((p) => k.frame(p)))];
            return [...steps, { op: 'expectMessages', messages: ps.map((payload) => ({ opcode: k.op, payload })) }];
          },
          info,
        ),
      );
    });
  });
  return cases;
}
