// UTF-8 test vectors in the classes of Markus Kuhn's decoder stress test, which Autobahn's 6.x
// cases follow. Validity is per RFC 3629: no overlong forms (3), no surrogates U+D800-U+DFFF,
// nothing above U+10FFFF; noncharacters such as U+FFFE are valid UTF-8.

/** Encode a code point in `len` bytes, overlong or out of range if asked to. */
export function enc(cp: number, len: number): number[] {
  if (len === 1) return [cp];
  const bytes: number[] = [];
  let v = cp;
  for (let i = len - 1; i > 0; i--) {
    bytes.unshift(0x80 | (v & 0x3f));
    v = Math.floor(v / 64);
  }
  bytes.unshift(((0xff << (8 - len)) & 0xff) | v);
  return bytes;
}

export interface Vector {
  name: string;
  bytes: number[];
  valid: boolean;
}
export interface Group {
  sub: number;
  title: string;
  vectors: Vector[];
}

const V = (name: string, bytes: number[], valid: boolean): Vector => ({ name, bytes, valid });
const hex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, '0')).join(' ');
const cp = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];

const KOSME = utf8('κόσμε');
const truncated = [
  [0xc0],
  [0xe0, 0x80],
  [0xf0, 0x80, 0x80],
  [0xf8, 0x80, 0x80, 0x80],
  [0xfc, 0x80, 0x80, 0x80, 0x80],
  [0xdf],
  [0xef, 0xbf],
  [0xf7, 0xbf, 0xbf],
  [0xfb, 0xbf, 0xbf, 0xbf],
  [0xfd, 0xbf, 0xbf, 0xbf, 0xbf],
];
const SURR_HI = [0xd800, 0xdb7f, 0xdb80, 0xdbff];
const SURR_LO = [0xdc00, 0xdfff];

export const GROUPS: Group[] = [
  {
    sub: 5,
    title: 'valid characters of 1-4 bytes',
    vectors: [
      V('U+0024 "$"', utf8('$'), true),
      V('U+00A2 "¢"', utf8('¢'), true),
      V('U+20AC "€"', utf8('€'), true),
      V('U+10348 "𐍈"', utf8('𐍈'), true),
      V('"κόσμε"', KOSME, true),
      V('"Hello-µ@ßöäüàá-UTF-8!!"', utf8('Hello-µ@ßöäüàá-UTF-8!!'), true),
    ],
  },
  {
    sub: 6,
    title: 'prefixes of "κόσμε": valid only when cut at a character boundary',
    vectors: range(1, KOSME.length).map((n) => {
      const p = KOSME.slice(0, n);
      return V(`first ${n} bytes of "κόσμε"`, p, n === KOSME.length || ((KOSME[n] as number) & 0xc0) !== 0x80);
    }),
  },
  {
    sub: 7,
    title: 'first possible sequence of each length',
    vectors: [V('U+0000', [0], true), V('U+0080', enc(0x80, 2), true), V('U+0800', enc(0x800, 3), true), V('U+10000', enc(0x10000, 4), true)],
  },
  {
    sub: 8,
    title: 'first 5- and 6-byte sequences (not UTF-8 since RFC 3629)',
    vectors: [V('U+200000 in 5 bytes', enc(0x200000, 5), false), V('U+4000000 in 6 bytes', enc(0x4000000, 6), false)],
  },
  {
    sub: 9,
    title: 'last possible sequence of each length',
    vectors: [
      V('U+007F', [0x7f], true),
      V('U+07FF', enc(0x7ff, 2), true),
      V('U+FFFF', enc(0xffff, 3), true),
      V('U+10FFFF (last code point)', enc(0x10ffff, 4), true),
      V('U+1FFFFF (last 4-byte form, beyond U+10FFFF)', enc(0x1fffff, 4), false),
    ],
  },
  {
    sub: 10,
    title: 'last 5- and 6-byte sequences',
    vectors: [V('U+3FFFFFF in 5 bytes', enc(0x3ffffff, 5), false), V('U+7FFFFFFF in 6 bytes', enc(0x7fffffff, 6), false)],
  },
  {
    sub: 11,
    title: 'other boundary conditions',
    vectors: [
      V('U+D7FF', enc(0xd7ff, 3), true),
      V('U+E000', enc(0xe000, 3), true),
      V('U+FFFD', enc(0xfffd, 3), true),
      V('U+10FFFF', enc(0x10ffff, 4), true),
      V('U+110000', enc(0x110000, 4), false),
      V('U+13FFFF (f4 bf bf bf)', enc(0x13ffff, 4), false),
    ],
  },
  {
    sub: 12,
    title: 'unexpected continuation bytes',
    vectors: [
      ...range(1, 7).map((n) => {
        const b = range(0, n - 1).map((i) => (i % 2 ? 0xbf : 0x80));
        return V(`${n} continuation byte(s) ${hex(b)}`, b, false);
      }),
      V('all 64 continuation bytes 0x80-0xbf', range(0x80, 0xbf), false),
      V('continuation byte 0x80 between ASCII', [0x61, 0x80, 0x62], false),
    ],
  },
  {
    sub: 13,
    title: 'lonely start bytes, each followed by a space',
    vectors: [
      V(
        '0xc0-0xdf',
        range(0xc0, 0xdf).flatMap((b) => [b, 0x20]),
        false,
      ),
      V(
        '0xe0-0xef',
        range(0xe0, 0xef).flatMap((b) => [b, 0x20]),
        false,
      ),
      V(
        '0xf0-0xf7',
        range(0xf0, 0xf7).flatMap((b) => [b, 0x20]),
        false,
      ),
      V(
        '0xf8-0xfb',
        range(0xf8, 0xfb).flatMap((b) => [b, 0x20]),
        false,
      ),
      V('0xfc-0xfd', [0xfc, 0x20, 0xfd, 0x20], false),
    ],
  },
  {
    sub: 14,
    title: 'sequences with the last continuation byte missing',
    vectors: [
      ...truncated.map((b) => V(hex(b), b, false)),
      V('"€" without its last byte', [0xe2, 0x82], false),
      V('"𝄞" without its last byte', [0xf0, 0x9d, 0x84], false),
      V('lone 0xc2 between ASCII', [0x61, 0xc2, 0x62], false),
      V('"€" truncated at the end of the text', [...utf8('price: 10'), 0xe2, 0x82], false),
    ],
  },
  { sub: 15, title: 'concatenation of incomplete sequences', vectors: [V('all of 6.14.1-10', truncated.flat(), false)] },
  { sub: 16, title: 'impossible bytes', vectors: [V('0xfe', [0xfe], false), V('0xff', [0xff], false), V('fe fe ff ff', [0xfe, 0xfe, 0xff, 0xff], false)] },
  { sub: 17, title: 'overlong "/" (U+002F)', vectors: range(2, 6).map((n) => V(`in ${n} bytes`, enc(0x2f, n), false)) },
  {
    sub: 18,
    title: 'maximum overlong sequences',
    vectors: [
      V('U+007F in 2 bytes', enc(0x7f, 2), false),
      V('U+07FF in 3 bytes', enc(0x7ff, 3), false),
      V('U+FFFF in 4 bytes', enc(0xffff, 4), false),
      V('U+1FFFFF in 5 bytes', enc(0x1fffff, 5), false),
      V('U+3FFFFFF in 6 bytes', enc(0x3ffffff, 6), false),
    ],
  },
  { sub: 19, title: 'overlong NUL', vectors: range(2, 6).map((n) => V(`in ${n} bytes`, enc(0, n), false)) },
  { sub: 20, title: 'single UTF-16 surrogates', vectors: [0xd800, 0xdb7f, 0xdb80, 0xdbff, 0xdc00, 0xdf80, 0xdfff].map((c) => V(cp(c), enc(c, 3), false)) },
  {
    sub: 21,
    title: 'paired UTF-16 surrogates',
    vectors: SURR_HI.flatMap((h) => SURR_LO.map((l) => V(`${cp(h)} ${cp(l)}`, [...enc(h, 3), ...enc(l, 3)], false))),
  },
  {
    sub: 22,
    title: 'noncharacters (valid UTF-8)',
    vectors: [
      ...[0xfffe, 0xffff, 0xfdd0, 0xfdef].map((c) => V(cp(c), enc(c, 3), true)),
      ...range(1, 16).flatMap((p) => [p * 0x10000 + 0xfffe, p * 0x10000 + 0xffff].map((c) => V(cp(c), enc(c, 4), true))),
    ],
  },
  {
    sub: 23,
    title: 'other valid text',
    vectors: [
      V('byte order mark U+FEFF at the start', [0xef, 0xbb, 0xbf, ...utf8('text')], true),
      V('U+FFFD replacement character', utf8('a\uFFFDb'), true),
      V('NUL inside text', [0x61, 0x00, 0x62], true),
      V('mixed scripts', utf8('Iñtërnâtiônàlizætiøn ☃ 💩 日本語'), true),
      V('all ASCII 0x00-0x7f', range(0, 0x7f), true),
    ],
  },
  {
    sub: 24,
    title: 'invalid start bytes followed by continuation bytes',
    vectors: [0xc0, 0xc1, ...range(0xf5, 0xff)].map((b) => V(`0x${b.toString(16)} 80 80 80`, [b, 0x80, 0x80, 0x80], false)),
  },
];

/** Self-check against the WHATWG decoder (which implements RFC 3629 strictly). */
export function checkVectors(): string[] {
  const bad: string[] = [];
  for (const g of GROUPS)
    for (const v of g.vectors) {
      let ok = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(v.bytes));
      } catch {
        ok = false;
      }
      if (ok !== v.valid) bad.push(`6.${g.sub} ${v.name}`);
    }
  return bad;
}
