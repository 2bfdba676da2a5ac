// permessage-deflate (RFC 7692) for the drivers: header parsing, offer/response rules,
// and a per-message codec on node:zlib.
import zlib from 'node:zlib';
import type { DeflateParams } from './types.js';

export interface Negotiated {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export interface ExtensionElement {
  name: string;
  params: [string, string | true][];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parse a Sec-WebSocket-Extensions value (RFC 6455 9.1); throws on a syntax error. */
export function parseExtensions(header: string): ExtensionElement[] {
  const out: ExtensionElement[] = [];
  let i = 0;
  const n = header.length;
  const ws = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string => {
    ws();
    const start = i;
    while (i < n && !' \t,;="'.includes(header[i] as string)) i++;
    const t = header.slice(start, i);
    if (!TOKEN.test(t)) throw new Error(`bad token at ${start} in "${header}"`);
    ws();
    return t;
  };
  for (;;) {
    const el: ExtensionElement = { name: token().toLowerCase(), params: [] };
    while (header[i] === ';') {
      i++;
      const key = token().toLowerCase();
      let value: string | true = true;
      if (header[i] === '=') {
        i++;
        ws();
        if (header[i] === '"') {
          // RFC 6455 9.1: a quoted value must itself be a valid token once unquoted.
          const end = header.indexOf('"', i + 1);
          if (end < 0) throw new Error('unterminated quoted string');
          value = header.slice(i + 1, end);
          if (!TOKEN.test(value)) throw new Error(`quoted value "${value}" is not a token`);
          i = end + 1;
          ws();
        } else value = token();
      }
      el.params.push([key, value]);
    }
    out.push(el);
    if (i >= n) return out;
    if (header[i] !== ',') throw new Error(`unexpected "${header[i]}" at ${i}`);
    i++;
  }
}

export function formatOffer(p: DeflateParams): string {
  const parts = ['permessage-deflate'];
  if (p.serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (p.clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (p.serverMaxWindowBits !== undefined) parts.push(`server_max_window_bits=${p.serverMaxWindowBits}`);
  if (p.clientMaxWindowBits === true) parts.push('client_max_window_bits');
  else if (p.clientMaxWindowBits !== undefined) parts.push(`client_max_window_bits=${p.clientMaxWindowBits}`);
  return parts.join('; ');
}

/** RFC 7692 7.1.2: window bits are a decimal 8..15 without leading zeroes. */
function windowBits(v: string | true, name: string): number {
  if (v === true || !/^(8|9|1[0-5])$/.test(v)) throw new Error(`${name} has invalid value ${v === true ? '(none)' : v}`);
  return Number(v);
}

interface Params {
  snct: boolean;
  cnct: boolean;
  smwb?: number;
  cmwb?: number | true;
}

/** Check one element's parameters: known names, no duplicates, valid values (RFC 7692 7.1). */
function readParams(el: ExtensionElement, isResponse: boolean): Params {
  const seen = new Set<string>();
  const p: Params = { snct: false, cnct: false };
  for (const [k, v] of el.params) {
    if (seen.has(k)) throw new Error(`duplicate parameter ${k} (RFC 7692 7)`);
    seen.add(k);
    if (k === 'server_no_context_takeover' || k === 'client_no_context_takeover') {
      if (v !== true) throw new Error(`${k} must not have a value (RFC 7692 7.1.1)`);
      if (k === 'server_no_context_takeover') p.snct = true;
      else p.cnct = true;
    } else if (k === 'server_max_window_bits') p.smwb = windowBits(v, k);
    else if (k === 'client_max_window_bits') {
      // Only an offer may carry it without a value (RFC 7692 7.1.2.2).
      p.cmwb = v === true && !isResponse ? true : windowBits(v, k);
    } else throw new Error(`unknown parameter ${k} (RFC 7692 7)`);
  }
  return p;
}

/** Judge a server's response to our single offer; returns the agreement or a problem. */
export function checkResponse(offer: DeflateParams, header: string | undefined): { negotiated: Negotiated | null; problem?: string } {
  if (header === undefined || header.trim() === '') return { negotiated: null };
  try {
    const els = parseExtensions(header);
    if (els.length !== 1) throw new Error(`${els.length} extensions in the response to one offer`);
    const el = els[0] as ExtensionElement;
    if (el.name !== 'permessage-deflate') throw new Error(`extension ${el.name} was not offered (RFC 6455 9.1)`);
    const r = readParams(el, true);
    if (offer.serverNoContextTakeover && !r.snct) throw new Error('offer had server_no_context_takeover, response lacks it (RFC 7692 7.1.1.1)');
    if (offer.serverMaxWindowBits !== undefined && (r.smwb === undefined || r.smwb > offer.serverMaxWindowBits)) {
      throw new Error(`offer had server_max_window_bits=${offer.serverMaxWindowBits}, response has ${r.smwb ?? 'none'} (RFC 7692 7.1.2.1)`);
    }
    if (r.cmwb !== undefined) {
      if (offer.clientMaxWindowBits === undefined) throw new Error('client_max_window_bits in response but not offered (RFC 7692 7.1.2.2)');
      if (typeof offer.clientMaxWindowBits === 'number' && (r.cmwb as number) > offer.clientMaxWindowBits) {
        throw new Error(`client_max_window_bits=${String(r.cmwb)} exceeds the offered ${offer.clientMaxWindowBits} (RFC 7692 7.1.2.2)`);
      }
    }
    return {
      negotiated: {
        serverNoContextTakeover: r.snct,
        clientNoContextTakeover: r.cnct,
        serverMaxWindowBits: r.smwb ?? 15,
        clientMaxWindowBits: typeof r.cmwb === 'number' ? r.cmwb : typeof offer.clientMaxWindowBits === 'number' ? offer.clientMaxWindowBits : 15,
      },
    };
  } catch (e) {
    return { negotiated: null, problem: `invalid Sec-WebSocket-Extensions "${header}": ${(e as Error).message}` };
  }
}

/** As the server testing a client: accept the client's first valid permessage-deflate offer,
 *  shaped by the case's wishes while keeping every rule of RFC 7692 7.1. */
export function respondToOffer(
  header: string | undefined,
  want: DeflateParams,
): { header: string; negotiated: Negotiated; note?: string } | { declined: string } {
  if (!header) return { declined: 'client offered no extensions' };
  let els: ExtensionElement[];
  try {
    els = parseExtensions(header);
  } catch (e) {
    return { declined: `unparsable offer "${header}": ${(e as Error).message}` };
  }
  const problems: string[] = [];
  for (const el of els) {
    if (el.name !== 'permessage-deflate') continue;
    let o: Params;
    try {
      o = readParams(el, false);
    } catch (e) {
      problems.push((e as Error).message);
      continue;
    }
    const snct = Boolean(want.serverNoContextTakeover) || o.snct;
    const cnct = Boolean(want.clientNoContextTakeover);
    let smwb = typeof want.serverMaxWindowBits === 'number' ? want.serverMaxWindowBits : undefined;
    if (o.smwb !== undefined) smwb = Math.min(smwb ?? 15, o.smwb);
    let cmwb: number | undefined;
    let note: string | undefined;
    if (typeof want.clientMaxWindowBits === 'number') {
      if (o.cmwb === undefined) note = 'client did not offer client_max_window_bits, so the response cannot limit it';
      else cmwb = typeof o.cmwb === 'number' ? Math.min(o.cmwb, want.clientMaxWindowBits) : want.clientMaxWindowBits;
    }
    const parts = ['permessage-deflate'];
    if (snct) parts.push('server_no_context_takeover');
    if (cnct) parts.push('client_no_context_takeover');
    if (smwb !== undefined) parts.push(`server_max_window_bits=${smwb}`);
    if (cmwb !== undefined) parts.push(`client_max_window_bits=${cmwb}`);
    const negotiated: Negotiated = {
      serverNoContextTakeover: snct,
      clientNoContextTakeover: cnct,
      serverMaxWindowBits: smwb ?? 15,
      clientMaxWindowBits: cmwb ?? (typeof o.cmwb === 'number' ? o.cmwb : 15),
    };
    return note ? { header: parts.join('; '), negotiated, note } : { header: parts.join('; '), negotiated };
  }
  return { declined: problems.length ? `invalid permessage-deflate offer: ${problems.join('; ')}` : `no permessage-deflate in offer "${header}"` };
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Per-message codec. We compress every message on its own (always allowed, RFC 7692 7.2.1);
 *  we decompress the peer's messages with exactly its negotiated window, and with the previous
 *  messages as dictionary only when it may keep context, so a peer that breaks either rule
 *  produces "invalid distance too far back". */
export class PmdCodec {
  private history: Buffer = Buffer.alloc(0);
  private readonly outBits: number;
  private readonly inBits: number;
  private readonly inTakeover: boolean;

  constructor(
    readonly negotiated: Negotiated,
    role: 'client' | 'server',
  ) {
    const n = negotiated;
    this.outBits = role === 'client' ? n.clientMaxWindowBits : n.serverMaxWindowBits;
    this.inBits = role === 'client' ? n.serverMaxWindowBits : n.clientMaxWindowBits;
    this.inTakeover = !(role === 'client' ? n.serverNoContextTakeover : n.clientNoContextTakeover);
  }

  /** null when zlib cannot honour the window (8 bits: zlib silently uses 9), so send uncompressed. */
  compress(data: Buffer): Buffer | null {
    if (this.outBits < 9) return null;
    const c = zlib.deflateRawSync(data, { windowBits: this.outBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    // RFC 7692 7.2.1: remove the 4 octets 0x00 0x00 0xff 0xff of the final empty block.
    return c.subarray(c.length - 4).equals(TAIL) ? c.subarray(0, c.length - 4) : c;
  }

  /** Throws with zlib's message when the payload is not valid for the negotiated rules. */
  decompress(data: Buffer): Buffer {
    const opts: zlib.ZlibOptions = { windowBits: Math.max(this.inBits, 8), finishFlush: zlib.constants.Z_SYNC_FLUSH };
    // zlib checks a back-reference against its window only when the reference leaves the
    // current output buffer; tiny output chunks make that (nearly) always the case, so a
    // distance beyond 2^bits (+64) is caught. Window 15 is the maximum: nothing to verify.
    if (this.inBits < 15) opts.chunkSize = 64;
    if (this.inTakeover && this.history.length) opts.dictionary = this.history;
    const out = zlib.inflateRawSync(Buffer.concat([data, TAIL]), opts);
    if (this.inTakeover) {
      const keep = 1 << this.inBits;
      this.history = out.length >= keep ? Buffer.from(out.subarray(out.length - keep)) : Buffer.concat([this.history, out]).subarray(-keep);
    }
    return out;
  }
}
