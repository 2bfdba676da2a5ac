// Category 3: reserved bits. RSV1-3 MUST be 0 unless an extension defines them; a receiver
// seeing a non-zero value MUST _Fail the WebSocket Connection_ (RFC 6455 5.2) with 1002.
// No deflate is negotiated here, so RSV1 is reserved too. The frame must not be echoed.
import { mk, send, text, binary, ping, pong, closeFrame, cont, expectText, expectFail, WRITES } from './helpers.js';
import type { Case, FrameSpec } from '../lib/types.js';
import { closePayload } from '../lib/frame.js';

const RSV_NAMES: Record<number, string> = { 1: 'RSV3', 2: 'RSV2', 3: 'RSV2+RSV3', 4: 'RSV1', 5: 'RSV1+RSV3', 6: 'RSV1+RSV2', 7: 'RSV1+RSV2+RSV3' };

const KINDS: { name: string; frame: (rsv: number) => FrameSpec[] }[] = [
  { name: 'text', frame: (rsv) => [text('Hello', { rsv })] },
  { name: 'binary', frame: (rsv) => [binary(Buffer.from([0, 1, 2, 0xff]), { rsv })] },
  { name: 'ping', frame: (rsv) => [ping('Hello', { rsv })] },
  { name: 'pong', frame: (rsv) => [pong('Hello', { rsv })] },
  { name: 'close', frame: (rsv) => [closeFrame(closePayload(1000), { rsv })] },
];

export function reservedBitCases(): Case[] {
  const cases: Case[] = [];
  KINDS.forEach((k, ki) => {
    for (let rsv = 1; rsv <= 7; rsv++) {
      // A trailing ping shows whether the peer went on as if nothing happened.
      const tail = k.name === 'close' ? [] : [ping('after')];
      cases.push(mk(`3.${ki + 1}.${rsv}`, `${k.name} frame with ${RSV_NAMES[rsv]} set`, () => [send([...k.frame(rsv), ...tail]), expectFail()]));
    }
  });
  // Autobahn 3.2-3.4 shape: a valid message first, then the bad frame, then a ping.
  WRITES.forEach((m, i) => {
    cases.push(
      mk(`3.6.${i + 1}`, `valid text, text with RSV2, ping; ${m.name}`, () => [
        send([text('Hello'), text('Hello', { rsv: 2 }), ping('after')], m.w),
        expectText('Hello'),
        expectFail(),
      ]),
    );
  });
  cases.push(
    mk('3.7.1', 'fragmented text whose continuation frame has RSV1 set', () => [
      send([text('Hel', { fin: false }), cont('lo', { rsv: 4 }), ping('after')]),
      expectFail(),
    ]),
    mk('3.7.2', 'fragmented text whose continuation frame has RSV3 set', () => [
      send([text('Hel', { fin: false }), cont('lo', { rsv: 1 }), ping('after')]),
      expectFail(),
    ]),
    mk('3.7.3', 'valid binary, then binary with RSV1+RSV2+RSV3, then a valid text', () => [
      send([binary('ok'), binary('bad', { rsv: 7 }), text('never echoed')]),
      { op: 'expectMessage', opcode: 2, payload: 'ok' },
      expectFail(),
    ]),
  );
  return cases;
}
