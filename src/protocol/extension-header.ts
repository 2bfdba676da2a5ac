// Sec-WebSocket-Extensions and comma-separated token lists (pure, no I/O).
//
// Grammar (RFC 6455 §9.1, with RFC 7230 §3.2.6 tokens / quoted-strings and the
// §7 list rule: optional whitespace around separators, empty list elements ignored):
//
//   Sec-WebSocket-Extensions = 1#extension
//   extension       = extension-token *( ";" extension-param )
//   extension-param = token [ "=" ( token / quoted-string ) ]
//
// RFC 6455 §9.1: a quoted-string value must, once unescaped, be a token.
//
// Everything here is a single left-to-right scan (no regular expressions), so
// the cost is linear in the input length whatever the input looks like.

/** One element of a Sec-WebSocket-Extensions list: an offer (client) or an acceptance (server). */
export interface ExtensionOffer {
  /** Extension token as written (case preserved; "permessage-deflate" is compared exactly). */
  name: string;
  /**
   * Parameters in the order written. A parameter without a value maps to `true`;
   * a quoted value is unquoted. When a name repeats, the first value is kept here
   * and the name is listed in `duplicateParams`.
   */
  params: Map<string, string | true>;
  /** Parameter names that occurred more than once (each listed once). RFC 7692 §7 declines such offers. */
  duplicateParams: string[];
}

export interface HeaderParseError {
  error: string;
}

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** True when `s` is a non-empty RFC 7230 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

function isWhitespace(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Scanner over one header line. All methods advance `pos`; none looks back. */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.pos); // NaN at the end, which matches nothing
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && isWhitespace(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Reads a token; returns "" when there is none at the current position. */
  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isTchar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Reads a quoted-string starting at a DQUOTE; returns its unescaped content or an error. */
  quotedString(): string | HeaderParseError {
    const open = this.pos;
    this.pos++; // opening DQUOTE
    let out = "";
    let runStart = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === DQUOTE) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === BACKSLASH) {
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        const next = this.text.charCodeAt(this.pos + 1);
        if (!(next === HTAB || (next >= 0x20 && next !== 0x7f && next <= 0xff))) {
          return { error: `invalid escape in quoted-string at offset ${this.pos}` };
        }
        out += this.text.slice(runStart, this.pos);
        runStart = this.pos + 1; // keep the escaped character, drop the backslash
        this.pos += 2;
        continue;
      }
      // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
      if (!(c === HTAB || (c >= 0x20 && c !== 0x7f && c <= 0xff))) {
        return { error: `invalid character in quoted-string at offset ${this.pos}` };
      }
      this.pos++;
    }
    return { error: `unterminated quoted-string starting at offset ${open}` };
  }
}

function describe(s: Scanner): string {
  return s.done ? "end of header" : `'${s.text[s.pos]}' at offset ${s.pos}`;
}

/** Parses one extension (name and parameters); stops before "," or at the end. */
function parseExtension(s: Scanner): ExtensionOffer | HeaderParseError {
  const name = s.token();
  if (name === "") return { error: `expected an extension name, found ${describe(s)}` };
  const params = new Map<string, string | true>();
  const duplicates = new Set<string>(); // a Set: an array's includes() would make this quadratic
  s.skipWhitespace();
  while (s.peek() === SEMICOLON) {
    s.pos++;
    s.skipWhitespace();
    const paramName = s.token();
    if (paramName === "") return { error: `expected a parameter name after ';', found ${describe(s)}` };
    s.skipWhitespace();
    let value: string | true = true;
    if (s.peek() === EQUALS) {
      s.pos++;
      s.skipWhitespace();
      if (s.peek() === DQUOTE) {
        const quoted = s.quotedString();
        if (typeof quoted !== "string") return quoted;
        // RFC 6455 §9.1: the unescaped quoted-string must itself be a token.
        if (!isToken(quoted)) {
          return { error: `quoted value of parameter '${paramName}' is not a token after unquoting` };
        }
        value = quoted;
      } else {
        value = s.token();
        if (value === "") return { error: `expected a value for parameter '${paramName}', found ${describe(s)}` };
      }
      s.skipWhitespace();
    }
    if (params.has(paramName)) duplicates.add(paramName);
    else params.set(paramName, value);
  }
  return { name, params, duplicateParams: [...duplicates] };
}

function parseLine(text: string, out: ExtensionOffer[]): HeaderParseError | undefined {
  const s = new Scanner(text);
  for (;;) {
    s.skipWhitespace();
    if (s.done) return undefined;
    if (s.peek() === COMMA) {
      s.pos++; // empty list element (RFC 7230 §7): ignore
      continue;
    }
    const ext = parseExtension(s);
    if ("error" in ext) return ext;
    out.push(ext);
    // parseExtension consumed trailing whitespace; what follows must be "," or the end.
    if (s.done) return undefined;
    if (s.peek() !== COMMA) return { error: `expected ',' or ';', found ${describe(s)}` };
    s.pos++;
  }
}

/**
 * Parses Sec-WebSocket-Extensions header value(s), in order. Several header lines
 * (an array, as node:http gives with `req.headersDistinct`) behave like one
 * comma-joined list, except that a quoted-string cannot span lines; undefined
 * (no header) gives [].
 * Never throws; malformed input returns `{ error }` naming the offset.
 */
export function parseExtensionOffers(headerValues: string | readonly string[] | undefined): ExtensionOffer[] | HeaderParseError {
  const lines = headerValues === undefined ? [] : typeof headerValues === "string" ? [headerValues] : headerValues;
  const out: ExtensionOffer[] = [];
  for (const line of lines) {
    const err = parseLine(line, out);
    if (err) return { error: `malformed Sec-WebSocket-Extensions: ${err.error}` };
  }
  return out;
}

/**
 * Serializes one extension: `name; a; b=1`. Values that are not tokens are written
 * as quoted-strings. Throws (a caller bug) when a name is not a token.
 */
export function formatExtension(name: string, params: ReadonlyMap<string, string | true> | Iterable<readonly [string, string | true]> = []): string {
  if (!isToken(name)) throw new TypeError(`extension name ${JSON.stringify(name)} is not an RFC 7230 token`);
  let out = name;
  for (const [key, value] of params) {
    if (!isToken(key)) throw new TypeError(`extension parameter name ${JSON.stringify(key)} is not an RFC 7230 token`);
    out += "; " + key;
    if (value !== true) out += "=" + (isToken(value) ? value : quote(value));
  }
  return out;
}

function quote(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== HTAB) || c === 0x7f) {
      throw new TypeError(`extension parameter value ${JSON.stringify(value)} cannot be sent in an HTTP header`);
    }
    if (c === DQUOTE || c === BACKSLASH) out += "\\";
    out += value[i];
  }
  return out + '"';
}

/**
 * Splits comma-separated header value(s) (Connection, Upgrade, Sec-WebSocket-Protocol)
 * into trimmed, non-empty elements in order. It does not validate them: use
 * `isToken` where the grammar requires tokens. Linear time.
 */
export function parseTokenList(value: string | readonly string[] | undefined): string[] {
  const lines = value === undefined ? [] : typeof value === "string" ? [value] : value;
  const out: string[] = [];
  for (const line of lines) {
    let start = 0;
    for (let i = 0; i <= line.length; i++) {
      if (i !== line.length && line.charCodeAt(i) !== COMMA) continue;
      let a = start;
      let b = i;
      while (a < b && isWhitespace(line.charCodeAt(a))) a++;
      while (b > a && isWhitespace(line.charCodeAt(b - 1))) b--;
      if (b > a) out.push(line.slice(a, b));
      start = i + 1;
    }
  }
  return out;
}
