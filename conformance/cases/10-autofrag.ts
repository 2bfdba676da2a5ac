// Category 10: auto-fragmentation. Whatever fragmentation the peer chooses for its echo
// (RFC 6455 5.4 lets an intermediary or the sender re-fragment), the message must arrive whole.
import { text as asciiText, binary as randomBytes, multibyteText, KiB, MiB } from '../lib/payload.js';
import { mk, send, text, binary, expectText, expectBinary } from './helpers.js';
import type { Case, FrameSpec } from '../lib/types.js';

export function autoFragmentationCases(): Case[] {
  const frags = (p: Buffer, size: number): FrameSpec[] => {
    const out: FrameSpec[] = [];
    for (let i = 0; i < p.length; i += size) out.push({ opcode: i ? 0 : 1, fin: i + size >= p.length, payload: p.subarray(i, i + size) });
    return out;
  };
  return [
    mk('10.1.1', 'text of 64 KiB in one frame, echoed in any fragmentation', () => [
      send([text(asciiText(64 * KiB, 10))]),
      expectText(asciiText(64 * KiB, 10)),
    ]),
    mk('10.1.2', 'text of 64 KiB in 1300-byte fragments', () => [send(frags(asciiText(64 * KiB, 11), 1300)), expectText(asciiText(64 * KiB, 11))]),
    mk('10.1.3', 'text of 256 KiB of 1- to 4-byte characters (a re-fragmenting peer splits them)', () => [
      send([text(multibyteText(256 * KiB))]),
      expectText(multibyteText(256 * KiB)),
    ]),
    mk('10.1.4', 'binary of 1 MiB in one frame', () => [send([binary(randomBytes(MiB, 12))]), expectBinary(randomBytes(MiB, 12))]),
  ];
}
