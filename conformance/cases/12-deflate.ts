// Category 12: permessage-deflate messages (RFC 7692). Offer the common default
// "permessage-deflate; client_max_window_bits", send compressed messages (RSV1 on the first
// frame, 7.2.3.1), and check the echo after inflating it. The peer may echo compressed or not.
import { text as asciiText, binary as randomBytes, repetitive, sizeName, KiB } from '../lib/payload.js';
import { mk, send, text, binary, ping, cont, expectText, expectFail } from './helpers.js';
import type { Case, DeflateParams, Step } from '../lib/types.js';

export const DEFAULT_OFFER: DeflateParams = { clientMaxWindowBits: true };
const SIZES = [16, 64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 128 * KiB];

const msg = (opcode: 1 | 2, payload: Buffer, fragmentSize?: number): Step[] => [
  { op: 'sendMessage', opcode, payload, compress: true, ...(fragmentSize ? { fragmentSize } : {}) },
  { op: 'expectMessage', opcode, payload },
];

export function deflateCases(): Case[] {
  const cases: Case[] = [];
  const d = { deflate: DEFAULT_OFFER };
  SIZES.forEach((size, i) => {
    const t = () => repetitive(size, 100, i);
    cases.push(mk(`12.1.${i + 1}`, `compressed text message of ${sizeName(size)}`, () => msg(1, t()), d));
    cases.push(mk(`12.2.${i + 1}`, `compressed binary message of ${sizeName(size)}`, () => msg(2, randomBytes(size, i)), d));
    cases.push(
      mk(
        `12.3.${i + 1}`,
        `10 compressed text messages of ${sizeName(size)}`,
        () => Array.from({ length: 10 }, (_, j) => msg(1, j % 2 ? asciiText(size, j) : repetitive(size, 64, j))).flat(),
        d,
      ),
    );
    cases.push(
      mk(
        `12.4.${i + 1}`,
        `10 compressed binary messages of ${sizeName(size)}`,
        () => Array.from({ length: 10 }, (_, j) => msg(2, j % 2 ? randomBytes(size, j) : repetitive(size, 32, j))).flat(),
        d,
      ),
    );
    cases.push(
      mk(
        `12.5.${i + 1}`,
        `compressed text message of ${sizeName(size)}, compressed payload in fragments`,
        () => msg(1, repetitive(size, 50, i), Math.max(1, Math.ceil(size / 40))),
        d,
      ),
    );
  });
  cases.push(
    mk('12.6.1', 'uncompressed text message while deflate is negotiated (RFC 7692 6)', () => [send([text('not compressed')]), expectText('not compressed')], d),
    mk(
      '12.6.2',
      'compressed and uncompressed messages alternating',
      () => [
        ...msg(1, repetitive(2000, 30)),
        send([binary(Buffer.from([1, 2, 3]))]),
        { op: 'expectMessage', opcode: 2, payload: Buffer.from([1, 2, 3]) },
        ...msg(1, repetitive(2000, 30)),
      ],
      d,
    ),
    mk('12.6.3', 'empty compressed text message (a single 0x00 byte, RFC 7692 7.2.3.6)', () => msg(1, Buffer.alloc(0)), d),
    // RFC 7692 6.1: RSV1 only on the first frame of a data message.
    mk('12.7.1', 'ping with RSV1 set while deflate is negotiated fails', () => [send([ping('x', { rsv: 4 }), ping('after')]), expectFail()], d),
    mk('12.7.2', 'continuation frame with RSV1 set fails', () => [send([text('a', { fin: false }), cont('b', { rsv: 4 }), ping('after')]), expectFail()], d),
    // RFC 7692 is silent on the code for undecodable data; 1007 (bad data) is common.
    mk(
      '12.7.3',
      'compressed message that is not valid DEFLATE fails',
      () => [send([text(Buffer.from([0xff, 0xff, 0xff, 0xff]), { rsv: 4 }), ping('after')]), expectFail([1007, 1002])],
      d,
    ),
  );
  return cases;
}
