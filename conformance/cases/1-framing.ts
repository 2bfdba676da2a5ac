// Category 1: framing. Text and binary messages of every length encoding (RFC 6455 5.2:
// 7-bit up to 125, 16-bit up to 65535, 64-bit beyond), written whole and chopped.
import { binary as randomBytes, text as asciiText, sizeName, MiB } from '../lib/payload.js';
import { mk, send, text, binary, ping, expectText, expectBinary, expectFail } from './helpers.js';
import type { Case } from '../lib/types.js';

const SIZES = [0, 1, 16, 125, 126, 127, 128, 1000, 16384, 65535, 65536];

export function framingCases(): Case[] {
  const cases: Case[] = [];
  for (const [sub, kind] of [
    [1, 'text'],
    [2, 'binary'],
  ] as const) {
    let n = 1;
    for (const size of SIZES) {
      for (const chopped of [false, true]) {
        // Small frames go byte by byte; big ones in 997-byte pieces, as Autobahn 1.1.8 does.
        const chop = size <= 128 ? 1 : 997;
        const payload = () => (kind === 'text' ? asciiText(size, size) : randomBytes(size, size));
        const frame = kind === 'text' ? text : binary;
        const expect = kind === 'text' ? expectText : expectBinary;
        cases.push(
          mk(`1.${sub}.${n++}`, `${kind} message of ${sizeName(size)}${chopped ? `, chopped into ${chop}-byte writes` : ''}`, () => {
            const p = payload();
            return [send([frame(p)], chopped ? { chop } : {}), expect(p)];
          }),
        );
      }
    }
    cases.push(
      mk(
        `1.${sub}.${n++}`,
        `${kind} message of 16 MiB (slow tier)`,
        () => {
          const p = kind === 'text' ? asciiText(16 * MiB) : randomBytes(16 * MiB);
          return [send([(kind === 'text' ? text : binary)(p)]), (kind === 'text' ? expectText : expectBinary)(p)];
        },
        { slow: true, exclusive: true, timeoutMs: 30000 },
      ),
    );
  }
  // RFC 6455 5.1: a server MUST close on an unmasked client frame; a client MUST close on a
  // masked server frame. The driver inverts its own masking.
  cases.push(
    mk('1.3.1', 'text frame with the wrong masking for its direction', () => [send([text('Hello', { invertMask: true })]), expectFail()]),
    mk('1.3.2', 'ping with the wrong masking for its direction', () => [send([ping('Hello', { invertMask: true })]), expectFail()]),
    mk('1.3.3', 'valid text, then binary with the wrong masking', () => [
      send([text('Hello'), binary(randomBytes(16), { invertMask: true })]),
      expectText('Hello'),
      expectFail(),
    ]),
  );
  return cases;
}
