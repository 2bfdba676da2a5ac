// Category 4: reserved opcodes. 0x3-0x7 are reserved non-control, 0xB-0xF reserved control
// opcodes (RFC 6455 5.2); receiving one with no extension defining it MUST fail the
// connection (RFC 6455 5.2: "If an unknown opcode is received, the receiving endpoint MUST
// _Fail the WebSocket Connection_"), with 1002.
import { mk, send, text, ping, expectText, expectFail } from './helpers.js';
import type { Case } from '../lib/types.js';

const OPCODES = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf];

export function opcodeCases(): Case[] {
  const cases: Case[] = [];
  OPCODES.forEach((opcode, i) => {
    const sub = opcode < 8 ? 1 : 2;
    const n = opcode < 8 ? i * 3 : (i - 5) * 3;
    const name = `reserved ${opcode < 8 ? 'non-control' : 'control'} opcode 0x${opcode.toString(16)}`;
    cases.push(
      mk(`4.${sub}.${n + 1}`, `${name}, empty`, () => [send([{ opcode, payload: '' }, ping('after')]), expectFail()]),
      mk(`4.${sub}.${n + 2}`, `${name} with payload`, () => [send([{ opcode, payload: 'reserved payload' }, ping('after')]), expectFail()]),
      mk(`4.${sub}.${n + 3}`, `valid text, then ${name}, then ping; octet-wise`, () => [
        send([text('Hello'), { opcode, payload: 'reserved payload' }, ping('after')], { chop: 1 }),
        expectText('Hello'),
        expectFail(),
      ]),
    );
  });
  return cases;
}
