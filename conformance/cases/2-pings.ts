// Category 2: pings and pongs (RFC 6455 5.5.2, 5.5.3). Control payloads are at most 125 bytes
// (5.5) and are binary: a ping whose payload is not UTF-8 must still be answered.
import { binary as randomBytes } from '../lib/payload.js';
import { mk, send, ping, pong, text, expectPong, expectText, expectFail } from './helpers.js';
import type { Case } from '../lib/types.js';

const fill = (n: number) => Buffer.alloc(n, 0x2a);

export function pingCases(): Case[] {
  const cases: Case[] = [
    mk('2.1', 'ping without payload', () => [send([ping()]), expectPong()]),
    mk('2.2', 'ping with a small text payload', () => [send([ping('Hello, world!')]), expectPong('Hello, world!')]),
    mk('2.3', 'ping with a small binary payload', () => [
      send([ping(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]))]),
      expectPong(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])),
    ]),
    mk('2.4', 'ping with a 125-byte payload', () => [send([ping(fill(125))]), expectPong(fill(125))]),
    mk('2.5', 'ping with a 126-byte payload fails (RFC 6455 5.5)', () => [send([ping(fill(126)), ping('after')]), expectFail()]),
    mk('2.6', 'ping with a 125-byte payload, chopped into 1-byte writes', () => [send([ping(fill(125))], { chop: 1 }), expectPong(fill(125))]),
    mk('2.7', 'unsolicited pong without payload is ignored', () => [send([pong()])]),
    mk('2.8', 'unsolicited pong with payload is ignored', () => [send([pong('unsolicited pong payload')])]),
    mk('2.9', 'unsolicited pong, then ping: only the ping is answered', () => [send([pong('unsolicited'), ping('solicited')]), expectPong('solicited')]),
    mk('2.10', '10 pings in one write, answered in order', () => {
      const p = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
      return [send(p.map((x) => ping(x))), { op: 'expectPongs', payloads: p }];
    }),
    mk('2.11', '10 pings chopped into 1-byte writes, answered in order', () => {
      const p = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
      return [
        send(
          p.map((x) => ping(x)),
          { chop: 1 },
        ),
        { op: 'expectPongs', payloads: p },
      ];
    }),
    mk('2.12', 'pong with a 126-byte payload fails (RFC 6455 5.5)', () => [send([pong(fill(126)), ping('after')]), expectFail()]),
    mk('2.13', 'ping whose payload is invalid UTF-8 is answered as is (control payloads are binary)', () => [
      send([ping(Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xff]))]),
      expectPong(Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xff])),
    ]),
    mk('2.14', 'ping, text, ping: pongs and echo in order', () => [
      send([ping('one'), text('middle'), ping('two')]),
      expectPong('one'),
      expectText('middle'),
      expectPong('two'),
    ]),
    mk('2.15', '10 pings, each written separately, answered in order', () => {
      const p = Array.from({ length: 10 }, (_, i) => `separate-${i}`);
      return [
        send(
          p.map((x) => ping(x)),
          { frameDelayMs: 2 },
        ),
        { op: 'expectPongs', payloads: p },
      ];
    }),
  ];
  // A sweep of payload lengths 0..125 with binary content.
  [1, 2, 3, 4, 8, 16, 32, 64, 100, 124].forEach((n, i) => {
    cases.push(mk(`2.16.${i + 1}`, `ping with a ${n}-byte binary payload`, () => [send([ping(randomBytes(n, n))]), expectPong(randomBytes(n, n))]));
  });
  return cases;
}
