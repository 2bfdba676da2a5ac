// Category 5: fragmentation (RFC 6455 5.4). Control frames MUST NOT be fragmented but MAY be
// injected between fragments; a continuation with nothing to continue, or a new data frame
// inside a fragmented message, is a protocol error (1002).
import { text as asciiText, binary as randomBytes } from '../lib/payload.js';
import { mk, send, text, binary, cont, ping, pong, closeFrame, expectText, expectBinary, expectPong, expectFail, WRITES } from './helpers.js';
import type { Case, FrameSpec } from '../lib/types.js';
import { closePayload } from '../lib/frame.js';

/** Split a payload into fragments of `size` bytes: first frame `opcode`, then continuations. */
function fragments(opcode: number, payload: Buffer, size: number): FrameSpec[] {
  const out: FrameSpec[] = [];
  for (let i = 0; i < payload.length || i === 0; i += size) {
    out.push({ opcode: i === 0 ? opcode : 0, fin: i + size >= payload.length, payload: payload.subarray(i, i + size) });
  }
  return out;
}

export function fragmentationCases(): Case[] {
  const cases: Case[] = [
    mk('5.1', 'ping fragmented into 2 frames', () => [send([ping('frag', { fin: false }), cont('ment')]), expectFail()]),
    mk('5.2', 'pong fragmented into 2 frames', () => [send([pong('frag', { fin: false }), cont('ment'), ping('after')]), expectFail()]),
    mk('5.3', 'close fragmented into 2 frames', () => [send([closeFrame(closePayload(1000), { fin: false }), cont('ment')]), expectFail()]),
  ];
  const two = [text('fragment1', { fin: false }), cont('fragment2')];
  WRITES.forEach((m, i) => cases.push(mk(`5.4.${i + 1}`, `text in 2 fragments, ${m.name}`, () => [send(two, m.w), expectText('fragment1fragment2')])));
  WRITES.forEach((m, i) =>
    cases.push(
      mk(`5.5.${i + 1}`, `text in 2 fragments with a ping between, ${m.name}`, () => [
        send([text('fragment1', { fin: false }), ping('between'), cont('fragment2')], m.w),
        expectPong('between'),
        expectText('fragment1fragment2'),
      ]),
    ),
  );
  WRITES.forEach((m, i) =>
    cases.push(
      mk(`5.6.${i + 1}`, `text in 2 fragments with an unsolicited pong between, ${m.name}`, () => [
        send([text('fragment1', { fin: false }), pong('between'), cont('fragment2')], m.w),
        expectText('fragment1fragment2'),
      ]),
    ),
  );
  WRITES.forEach((m, i) =>
    cases.push(
      mk(`5.7.${i + 1}`, `continuation (FIN set) with nothing to continue, then text; ${m.name}`, () => [
        send([cont('fragment1'), text('never echoed')], m.w),
        expectFail(),
      ]),
    ),
  );
  WRITES.forEach((m, i) =>
    cases.push(
      mk(`5.8.${i + 1}`, `continuation (FIN clear) with nothing to continue, then text; ${m.name}`, () => [
        send([cont('fragment1', { fin: false }), text('never echoed')], m.w),
        expectFail(),
      ]),
    ),
  );
  cases.push(
    mk('5.9', 'text in 2 fragments, then a continuation with nothing to continue', () => [
      send([text('fragment1', { fin: false }), cont('fragment2'), cont('stray', { fin: false }), text('never echoed')]),
      expectText('fragment1fragment2'),
      expectFail(),
    ]),
    mk('5.10', 'nested start: text (FIN clear), then text (FIN set)', () => [send([text('fragment1', { fin: false }), text('fragment2')]), expectFail()]),
    mk('5.11', 'nested start: text (FIN clear), then binary (FIN clear), then continuation', () => [
      send([text('fragment1', { fin: false }), binary('fragment2', { fin: false }), cont('fragment3')]),
      expectFail(),
    ]),
    mk('5.12', 'binary (FIN clear), then unfragmented binary', () => [send([binary('fragment1', { fin: false }), binary('whole')]), expectFail()]),
    mk('5.13', 'text in 2 fragments with a fragmented ping between', () => [
      send([text('fragment1', { fin: false }), ping('p1', { fin: false }), cont('p2'), cont('fragment2')]),
      expectFail(),
    ]),
    mk('5.14', 'text in 5 fragments with a ping after each, written frame by frame', () => {
      const frames: FrameSpec[] = [];
      for (let i = 0; i < 5; i++) {
        frames.push({ opcode: i === 0 ? 1 : 0, fin: i === 4, payload: `fragment${i + 1}` }, ping(`ping${i + 1}`));
      }
      return [
        send(frames, { frameDelayMs: 10 }),
        expectPong('ping1'),
        expectPong('ping2'),
        expectPong('ping3'),
        expectPong('ping4'),
        expectText('fragment1fragment2fragment3fragment4fragment5'),
        expectPong('ping5'),
      ];
    }),
    mk('5.15', 'text of 10 one-byte fragments', () => [send(fragments(1, Buffer.from('0123456789'), 1)), expectText('0123456789')]),
    mk('5.16', 'binary of 10 one-byte fragments', () => [send(fragments(2, randomBytes(10, 5), 1)), expectBinary(randomBytes(10, 5))]),
    mk('5.17', 'text of 1000 one-byte fragments', () => [send(fragments(1, asciiText(1000, 3), 1)), expectText(asciiText(1000, 3))]),
    mk('5.18', 'text of 100 three-byte fragments, chopped into 1-byte writes', () => [
      send(fragments(1, asciiText(300, 4), 3), { chop: 1 }),
      expectText(asciiText(300, 4)),
    ]),
    mk('5.19', 'text with empty first, middle and last fragments', () => [
      send([text('', { fin: false }), cont('', { fin: false }), cont('middle', { fin: false }), cont('', { fin: false }), cont('')]),
      expectText('middle'),
    ]),
    mk('5.20', 'binary in 2 fragments', () => [
      send([binary(Buffer.from([1, 2, 3]), { fin: false }), cont(Buffer.from([4, 5, 6]))]),
      expectBinary(Buffer.from([1, 2, 3, 4, 5, 6])),
    ]),
    mk('5.21', 'binary of 64 KiB in 16 fragments, with pings between', () => {
      const p = randomBytes(65536, 9);
      const frames = fragments(2, p, 4096).flatMap((f, i) => [f, ping(`p${i}`)]);
      const steps = [send(frames)];
      for (let i = 0; i < 15; i++) steps.push(expectPong(`p${i}`));
      return [...steps, expectBinary(p), expectPong('p15')];
    }),
    mk('5.22', 'two fragmented messages back to back', () => [
      send([text('a', { fin: false }), cont('b'), binary('c', { fin: false }), cont('d')]),
      expectText('ab'),
      expectBinary('cd'),
    ]),
    mk('5.23', 'text fragment, then close: the unfinished message is dropped', () => [
      send([text('fragment1', { fin: false })]),
      { op: 'close', code: 1000, after: [cont('fragment2')] },
    ]),
  );
  return cases;
}
