// Category 6: UTF-8 in text messages. RFC 6455 8.1: a text payload that is not valid UTF-8
// (RFC 3629) MUST fail the connection, with 1007 (7.4.1). Validity is of the whole message, so
// a character may be split across fragments; an invalid byte can be detected as soon as it
// arrives, and a peer that does so "fails fast" (Autobahn 6.4). Failing only at the end of the
// message is NON-STRICT.
import { text as asciiText } from '../lib/payload.js';
import { mk, send, text, cont, expectText, expectFail } from './helpers.js';
import { GROUPS } from './utf8-vectors.js';
import type { Case, FrameSpec } from '../lib/types.js';

const B = (...parts: (number[] | string | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.isBuffer(p) ? p : Buffer.from(p))));
const FAIL_FAST_MS = 1000;
const expect1007 = () => expectFail([1007]);

function bytewise(payload: Buffer): FrameSpec[] {
  if (payload.length === 0) return [text('')];
  return [...payload].map((b, i) => ({ opcode: i === 0 ? 1 : 0, fin: i === payload.length - 1, payload: Buffer.from([b]) }));
}

export function utf8Cases(): Case[] {
  const hello = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');
  const kosme = Buffer.from('κόσμε', 'utf8');
  const edited = B(kosme, [0xed, 0xa0, 0x80], '-edited');
  const cases: Case[] = [
    mk('6.1.1', 'empty text message', () => [send([text('')]), expectText('')]),
    mk('6.1.2', 'text message of 3 empty fragments', () => [send([text('', { fin: false }), cont('', { fin: false }), cont('')]), expectText('')]),
    mk('6.1.3', 'text message: empty, "middle", empty fragments', () => [
      send([text('', { fin: false }), cont('middle', { fin: false }), cont('')]),
      expectText('middle'),
    ]),
    mk('6.2.1', 'valid multi-byte text in one frame', () => [send([text(hello)]), expectText(hello)]),
    mk('6.2.2', 'valid multi-byte text, one fragment per character', () => {
      const chars = [...'Hello-µ@ßöäüàá-UTF-8!!'];
      return [send(chars.map((c, i) => ({ opcode: i ? 0 : 1, fin: i === chars.length - 1, payload: c }))), expectText(hello)];
    }),
    mk('6.2.3', 'valid multi-byte text, one fragment per byte (characters split across fragments)', () => [send(bytewise(hello)), expectText(hello)]),
    mk('6.2.4', '"κόσμε", one fragment per byte', () => [send(bytewise(kosme)), expectText(kosme)]),
    mk('6.2.5', '4-byte characters, one fragment per byte', () => [send(bytewise(Buffer.from('𝄞𐍈💩', 'utf8'))), expectText('𝄞𐍈💩')]),
    mk('6.2.6', 'valid multi-byte text in one frame, chopped into 1-byte writes', () => [send([text(hello)], { chop: 1 }), expectText(hello)]),
    mk('6.3.1', '"κόσμε" + surrogate U+D800 + "-edited" in one frame', () => [send([text(edited)]), expect1007()]),
    mk('6.3.2', 'same, chopped into 1-byte writes', () => [send([text(edited)], { chop: 1 }), expect1007()]),
    mk('6.3.3', 'same, one fragment per byte', () => [send(bytewise(edited)), expect1007()]),
    mk('6.3.4', 'surrogate split across two fragments (ed | a0 80)', () => [
      send([text(B('ab', [0xed]), { fin: false }), cont(B([0xa0, 0x80], 'cd'))]),
      expect1007(),
    ]),
    mk('6.3.5', '"€" split across two fragments (e2 82 | ac) is valid', () => [
      send([text(B('ab', [0xe2, 0x82]), { fin: false }), cont(B([0xac], 'cd'))]),
      expectText('ab€cd'),
    ]),
    mk('6.3.6', 'message ends inside a character (last fragment ends with e2 82)', () => [
      send([text('ab', { fin: false }), cont(B('cd', [0xe2, 0x82]))]),
      expect1007(),
    ]),
    mk('6.3.7', '1 KiB of valid text, then an invalid byte at the very end', () => [send([text(B(asciiText(1024), [0xff]))]), expect1007()]),
    mk('6.3.8', 'invalid byte at the start of 1 KiB of text', () => [send([text(B([0xff], asciiText(1024)))]), expect1007()]),
  ];
  // 6.4: fail fast. The rest of the message is held back; a peer that fails before it comes is
  // OK, one that fails only once the message is complete is NON-STRICT.
  const ff = (id: string, description: string, frames: FrameSpec[], stopAfter: { frame: number; payloadOffset: number }, chop?: number) =>
    mk(id, description, () => [{ op: 'send', frames, stopAfter, ...(chop ? { chop } : {}) }, expectFail([1007], FAIL_FAST_MS)]);
  const bad4 = [0xf4, 0x90, 0x80, 0x80]; // would be U+110000
  const f641 = [text(kosme, { fin: false }), cont(B(bad4), { fin: false }), cont('-edited')];
  const f642 = [text(B(kosme, [0xf4]), { fin: false }), cont(B([0x90, 0x80, 0x80]), { fin: false }), cont('-edited')];
  const whole = B(kosme, bad4, '-edited');
  const firstBad = [text(B([0xc0, 0xaf], 'abc'), { fin: false }), cont('def')];
  cases.push(
    ff('6.4.1', 'fail fast: valid fragment, then a fragment f4 90 80 80; the final fragment is held back', f641, { frame: 1, payloadOffset: 3 }),
    ff('6.4.2', 'fail fast: fragment ending in f4, next fragment starting 90; the final fragment is held back', f642, { frame: 1, payloadOffset: 2 }),
    ff('6.4.3', 'fail fast inside one frame: written up to the first invalid byte, the rest held back', [text(whole)], {
      frame: 0,
      payloadOffset: kosme.length + 1,
    }),
    ff(
      '6.4.4',
      'fail fast inside one frame, written 1 byte at a time up to the first invalid byte',
      [text(whole)],
      { frame: 0, payloadOffset: kosme.length + 1 },
      1,
    ),
    ff('6.4.5', 'fail fast: invalid bytes in the first fragment; the rest held back', firstBad, { frame: 0, payloadOffset: 4 }),
    ff('6.4.6', 'fail fast: invalid first fragment written 1 byte at a time; the rest held back', firstBad, { frame: 0, payloadOffset: 4 }, 1),
    ff('6.4.7', 'fail fast inside one 64 KiB frame: invalid byte after 1 KiB, the rest held back', [text(B(asciiText(1024), [0xff], asciiText(64511)))], {
      frame: 0,
      payloadOffset: 1024,
    }),
  );
  // 6.5-6.24: each vector as one text frame.
  for (const g of GROUPS) {
    g.vectors.forEach((v, i) => {
      const payload = Buffer.from(v.bytes);
      cases.push(
        mk(`6.${g.sub}.${i + 1}`, `${g.title}: ${v.name} → ${v.valid ? 'echo' : '1007'}`, () => [
          send([text(payload)]),
          v.valid ? expectText(payload) : expect1007(),
        ]),
      );
    });
  }
  return cases;
}
