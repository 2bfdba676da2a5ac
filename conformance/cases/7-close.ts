// Category 7: the closing handshake (RFC 6455 5.5.1, 7). We send close and expect a close back;
// after a close, further frames from us must be ignored. Close payloads: empty, or a 2-byte
// code plus a UTF-8 reason, 125 bytes in all (5.5). A 1-byte payload is malformed (1002).
//
// Which codes are valid to receive: RFC 6455 7.4.1 defines 1000-1003 and 1007-1011, says
// 1004 is reserved and 1005, 1006, 1015 MUST NOT be sent; 7.4.2 reserves 1000-2999 for the
// protocol and registered extensions, 3000-3999 for IANA-registered libraries and 4000-4999
// for private use. The IANA "WebSocket Close Code Number Registry" (RFC 6455 11.7) has since
// added 1012 Service Restart, 1013 Try Again Later and 1014 Bad Gateway. We follow the
// registry: 1012-1014 are valid (ws and python-websockets agree), while Autobahn's older
// tables call them invalid. Unassigned codes 1016-2999, and 0-999 and >= 5000, are invalid.
import { text as asciiText } from '../lib/payload.js';
import { mk, send, text, ping, closeFrame, cont, expectText, expectFail } from './helpers.js';
import { closePayload } from '../lib/frame.js';
import type { Case, Step } from '../lib/types.js';

export const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
export const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

const closeStep = (o: Omit<Extract<Step, { op: 'close' }>, 'op'>): Step => ({ op: 'close', ...o });

export function closeCases(): Case[] {
  const cases: Case[] = [
    mk('7.1.1', 'text message, then close', () => [send([text('Hello')]), expectText('Hello'), closeStep({ code: 1000 })]),
    mk('7.1.2', 'close, then a second close: ignored', () => [closeStep({ code: 1000, after: [closeFrame(closePayload(1000))] })]),
    mk('7.1.3', 'close, then ping: no pong', () => [closeStep({ code: 1000, after: [ping('after close')] })]),
    mk('7.1.4', 'close, then text: not echoed', () => [closeStep({ code: 1000, after: [text('after close')] })]),
    mk('7.1.5', 'first fragment, close, last fragment: nothing echoed', () => [
      send([text('fragment1', { fin: false })]),
      closeStep({ code: 1000, after: [cont('fragment2')] }),
    ]),
    mk('7.1.6', '256 KiB text, then close in the same write: echo (or not), then close', () => {
      const p = asciiText(262144, 6);
      return [
        send([text(p), closeFrame(closePayload(1000))]),
        { op: 'expectMessage', opcode: 1, payload: p, optional: true },
        { op: 'expectClose', echoCodes: [1000] },
      ];
    }),
    mk('7.1.7', 'close chopped into 1-byte writes', () => [closeStep({ code: 1000, reason: 'chopped', chop: 1 })]),
    mk('7.3.1', 'close without payload: answered with no code or 1000', () => [closeStep({})]),
    mk('7.3.2', 'close with a 1-byte payload fails (RFC 6455 5.5.1)', () => [send([closeFrame(Buffer.from([0x03]))]), expectFail()]),
    mk('7.3.3', 'close with code 1000 only', () => [closeStep({ code: 1000 })]),
    mk('7.3.4', 'close with code 1000 and a reason', () => [closeStep({ code: 1000, reason: 'Going away, for a test' })]),
    mk('7.3.5', 'close with code 1000 and a 123-byte reason (the maximum)', () => [closeStep({ code: 1000, reason: asciiText(123) })]),
    mk('7.3.6', 'close with code 1000 and a 124-byte reason (126-byte control frame) fails', () => [
      send([closeFrame(closePayload(1000, asciiText(124)))]),
      expectFail(),
    ]),
    mk('7.3.7', 'close with a multi-byte UTF-8 reason', () => [closeStep({ code: 1000, reason: 'κόσμε – 𝄞 – noncharacter \uFFFE' })]),
    mk('7.5.1', 'close reason with invalid UTF-8 fails with 1007', () => [
      send([closeFrame(Buffer.concat([closePayload(1000), Buffer.from('κόσμε', 'utf8'), Buffer.from([0xed, 0xa0, 0x80])]))]),
      expectFail([1007]),
    ]),
    mk('7.5.2', 'close reason that ends inside a character fails with 1007', () => [
      send([closeFrame(Buffer.concat([closePayload(1000), Buffer.from([0x61, 0xe2, 0x82])]))]),
      expectFail([1007]),
    ]),
  ];
  // RFC 6455 5.5.1: the reply "typically" echoes the code; 1000 is accepted as well.
  VALID_CODES.forEach((code, i) => cases.push(mk(`7.7.${i + 1}`, `close with valid code ${code}: answered`, () => [closeStep({ code })])));
  INVALID_CODES.forEach((code, i) =>
    cases.push(mk(`7.9.${i + 1}`, `close with invalid code ${code} fails with 1002`, () => [send([closeFrame(closePayload(code))]), expectFail()])),
  );
  INVALID_CODES.slice(0, 4).forEach((code, i) =>
    cases.push(
      mk(`7.9.${INVALID_CODES.length + i + 1}`, `close with invalid code ${code} and a reason fails with 1002`, () => [
        send([closeFrame(closePayload(code, 'reason'))]),
        expectFail(),
      ]),
    ),
  );
  return cases;
}
