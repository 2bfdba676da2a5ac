// permessage-deflate negotiation, RFC 7692 §7 (pure functions, no I/O).
//
// Window bits of 8 (RFC 7692 §7.1.2): zlib's deflater cannot use a 256-byte window;
// asked for 8 it silently uses 9 (node:zlib does this for raw deflate, zlib itself
// since 1.2.9). That is still safe to promise as "8": zlib never emits a match
// distance above MAX_DIST = window - MIN_LOOKAHEAD = 512 - 262 = 250 bytes, so a
// 9-bit zlib stream only references the last 250 bytes and an inflater with a
// 256-byte window decodes it (test/extensions/deflate.test.ts checks both this and
// that a 10-bit stream does NOT decode under 8). So hawser accepts
// server_max_window_bits=8 and client_max_window_bits=8 and answers with 8, as the
// RFC requires ("the same or smaller value"), rather than declining the offer.
// Inflaters are created with the negotiated bits, 8 included (zlib's inflate
// supports 8 for raw streams).

import { formatExtension, type ExtensionOffer } from "../protocol/extension-header.js";

export const PERMESSAGE_DEFLATE = "permessage-deflate";

/**
 * User options for permessage-deflate, the same type on server and client.
 * The window and context options mean "what this endpoint asks for / allows";
 * what actually applies after negotiation is a `DeflateParams`.
 */
export interface PerMessageDeflateOptions {
  /**
   * Server: always answer with server_no_context_takeover (the server resets its
   * compressor after every message; saves the client memory, costs ratio).
   * Client: ask the server not to take over context. Default false.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: always answer with client_no_context_takeover (clients reset their
   * compressor after every message). Client: announce that it will not take over
   * context. Default false.
   */
  clientNoContextTakeover?: boolean;
  /**
   * Largest LZ77 window (base-2 log, 8..15) for messages the server compresses.
   * Server: the most it will use (it uses less if the client asks). Client: asked
   * for with server_max_window_bits. Default 15 / not asked.
   */
  serverMaxWindowBits?: number;
  /**
   * LZ77 window (8..15) for messages the client compresses.
   * Server: a number N asks clients to use at most N; an offer that does not carry
   * client_max_window_bits cannot be limited and is declined when N < 15.
   * Client: `true` (default) offers client_max_window_bits without a value
   * ("I can limit my window if you ask"), a number N also promises at most N,
   * `false` leaves the parameter out.
   */
  clientMaxWindowBits?: number | boolean;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  thresholdBytes?: number;
  /** zlib memLevel, 1..9: memory for the compressor's hash tables (2^(memLevel+9) bytes). Default 8. */
  memLevel?: number;
  /**
   * zlib compression level 0..9. Default 1, not zlib's 6: measured with node:zlib
   * 1.3.1, level 1 compresses JSON at 419 MB/s (ratio 0.155) against 153 MB/s
   * (0.130) for level 6, and English-like text at 140 MB/s (0.356) against
   * 21 MB/s (0.291). A server's scarce resource is CPU per message.
   */
  compressionLevel?: number;
}

/** Options with every default filled in and checked. */
export interface ResolvedDeflateOptions {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | boolean;
  thresholdBytes: number;
  memLevel: number;
  compressionLevel: number;
}

/** What was agreed: the same object on both ends of a connection. */
export interface DeflateParams {
  /** The server resets its compressor after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compressor after each message. */
  clientNoContextTakeover: boolean;
  /** LZ77 window (8..15) the server compresses with at most; the client inflates with it. */
  serverMaxWindowBits: number;
  /** LZ77 window (8..15) the client compresses with at most; the server inflates with it. */
  clientMaxWindowBits: number;
}

/** DeflateParams seen from one endpoint: what applies to what it sends and to what it receives. */
export interface RoleDeflateParams {
  compressNoContextTakeover: boolean;
  compressWindowBits: number;
  decompressNoContextTakeover: boolean;
  decompressWindowBits: number;
}

export type Role = "server" | "client";

export function forRole(params: DeflateParams, role: Role): RoleDeflateParams {
  const server = role === "server";
  return {
    compressNoContextTakeover: server ? params.serverNoContextTakeover : params.clientNoContextTakeover,
    compressWindowBits: server ? params.serverMaxWindowBits : params.clientMaxWindowBits,
    decompressNoContextTakeover: server ? params.clientNoContextTakeover : params.serverNoContextTakeover,
    decompressWindowBits: server ? params.clientMaxWindowBits : params.serverMaxWindowBits,
  };
}

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`permessage-deflate option ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Fills in defaults; throws a RangeError naming the option when a value is out of range. */
export function resolveDeflateOptions(options: PerMessageDeflateOptions = {}): ResolvedDeflateOptions {
  const clientBits = options.clientMaxWindowBits ?? true;
  return {
    serverNoContextTakeover: options.serverNoContextTakeover === true,
    clientNoContextTakeover: options.clientNoContextTakeover === true,
    serverMaxWindowBits: options.serverMaxWindowBits === undefined ? undefined : checkInt("serverMaxWindowBits", options.serverMaxWindowBits, 8, 15),
    clientMaxWindowBits: typeof clientBits === "boolean" ? clientBits : checkInt("clientMaxWindowBits", clientBits, 8, 15),
    thresholdBytes: checkInt("thresholdBytes", options.thresholdBytes ?? 1024, 0, Number.MAX_SAFE_INTEGER),
    memLevel: checkInt("memLevel", options.memLevel ?? 8, 1, 9),
    compressionLevel: checkInt("compressionLevel", options.compressionLevel ?? 1, 0, 9),
  };
}

/** RFC 7692 §7.1.2: 1*DIGIT, 8..15, no leading zeroes. */
function parseWindowBits(value: string): number | undefined {
  if (value.length === 1) return value === "8" ? 8 : value === "9" ? 9 : undefined;
  if (value.length === 2 && value[0] === "1" && value[1]! >= "0" && value[1]! <= "5") return 10 + Number(value[1]);
  return undefined;
}

/** The four parameters of one offer or response, or why they are invalid. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: present without a value. */
  clientMaxWindowBits: number | true | undefined;
}

function parseParams(ext: ExtensionOffer): ParsedParams | string {
  if (ext.duplicateParams.length > 0) return `parameter ${ext.duplicateParams[0]} given more than once`;
  const out: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of ext.params) {
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== true) return `${name} must not have a value`;
        if (name === "server_no_context_takeover") out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = value === true ? undefined : parseWindowBits(value);
        if (bits === undefined) return `${name} must be an integer from 8 to 15`;
        out.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        const bits = value === true ? true : parseWindowBits(value);
        if (bits === undefined) return `${name} must be empty or an integer from 8 to 15`;
        out.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${name}`;
    }
  }
  return out;
}

/**
 * Why a permessage-deflate offer's parameters are invalid (unknown, repeated, or a bad value),
 * or null when they are valid. RFC 7692 section 5 has a server decline such an offer; a server
 * may refuse the handshake instead (the `ws` face does, as `ws` does).
 */
export function invalidOfferParams(offer: ExtensionOffer): string | null {
  const parsed = parseParams(offer);
  return typeof parsed === "string" ? parsed : null;
}

function buildHeader(p: {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}): string {
  const params: [string, string | true][] = [];
  if (p.serverNoContextTakeover) params.push(["server_no_context_takeover", true]);
  if (p.clientNoContextTakeover) params.push(["client_no_context_takeover", true]);
  if (p.serverMaxWindowBits !== undefined) params.push(["server_max_window_bits", String(p.serverMaxWindowBits)]);
  if (p.clientMaxWindowBits !== undefined) {
    params.push(["client_max_window_bits", p.clientMaxWindowBits === true ? true : String(p.clientMaxWindowBits)]);
  }
  return formatExtension(PERMESSAGE_DEFLATE, params);
}

/**
 * Server side of RFC 7692 §7: takes the client's offers in order and accepts the
 * first permessage-deflate offer it can honour. Offers with unknown, duplicate or
 * invalid parameters are declined (skipped). Returns the Sec-WebSocket-Extensions
 * element to answer with and the agreed parameters, or null when none is acceptable
 * (the connection then proceeds without compression).
 */
export function negotiateServer(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions | ResolvedDeflateOptions = {},
): { response: string; params: DeflateParams } | null {
  const opts = resolveDeflateOptions(options);
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const p = parseParams(offer);
    if (typeof p === "string") continue;

    // §7.1.2.1: answer with the same or a smaller value than offered; without an
    // offer the server may still announce its own limit.
    let serverBits = opts.serverMaxWindowBits ?? 15;
    let announceServerBits: number | undefined = opts.serverMaxWindowBits !== undefined && serverBits < 15 ? serverBits : undefined;
    if (p.serverMaxWindowBits !== undefined) {
      serverBits = Math.min(serverBits, p.serverMaxWindowBits);
      announceServerBits = serverBits; // required: omitting it would decline the parameter
    }

    // §7.1.2.2: the server may only send client_max_window_bits if the offer has it.
    const wantedClientBits = typeof opts.clientMaxWindowBits === "number" ? opts.clientMaxWindowBits : 15;
    const offeredClientBits = p.clientMaxWindowBits === true ? 15 : p.clientMaxWindowBits;
    let clientBits = 15;
    let announceClientBits: number | undefined;
    if (offeredClientBits === undefined) {
      if (wantedClientBits < 15) continue; // cannot limit this client: decline (§7 "configuration not supported")
    } else {
      clientBits = Math.min(wantedClientBits, offeredClientBits);
      if (clientBits < 15) announceClientBits = clientBits;
    }

    // §7.1.1.1 the server may add server_no_context_takeover on its own; §7.1.1.2 it
    // may echo a client's client_no_context_takeover hint (we do: it lets our
    // inflater reset per message) or ask for it itself.
    const params: DeflateParams = {
      serverNoContextTakeover: p.serverNoContextTakeover || opts.serverNoContextTakeover,
      clientNoContextTakeover: p.clientNoContextTakeover || opts.clientNoContextTakeover,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const response = buildHeader({
      serverNoContextTakeover: params.serverNoContextTakeover,
      clientNoContextTakeover: params.clientNoContextTakeover,
      serverMaxWindowBits: announceServerBits,
      clientMaxWindowBits: announceClientBits,
    });
    return { response, params };
  }
  return null;
}

/** Client side: the single offer to send in Sec-WebSocket-Extensions. */
export function buildClientOffer(options: PerMessageDeflateOptions | ResolvedDeflateOptions = {}): string {
  const opts = resolveDeflateOptions(options);
  return buildHeader({
    serverNoContextTakeover: opts.serverNoContextTakeover,
    clientNoContextTakeover: opts.clientNoContextTakeover,
    serverMaxWindowBits: opts.serverMaxWindowBits,
    clientMaxWindowBits: opts.clientMaxWindowBits === false ? undefined : opts.clientMaxWindowBits,
  });
}

/**
 * Client side: checks the server's Sec-WebSocket-Extensions answer against the
 * offer `buildClientOffer(options)` produced (same options). Returns the agreed
 * parameters, null when the server did not accept permessage-deflate, or an error:
 * the client must then _Fail the WebSocket Connection_ (RFC 6455 §9.1, RFC 7692 §7).
 */
export function acceptServerResponse(
  responseOffers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions | ResolvedDeflateOptions = {},
): DeflateParams | null | { error: string } {
  const opts = resolveDeflateOptions(options);
  let accepted: ExtensionOffer | undefined;
  for (const ext of responseOffers) {
    if (ext.name !== PERMESSAGE_DEFLATE) return { error: `server accepted extension ${ext.name}, which was not offered` };
    if (accepted) return { error: "server accepted permessage-deflate more than once" };
    accepted = ext;
  }
  if (!accepted) return null;

  const p = parseParams(accepted);
  if (typeof p === "string") return { error: `invalid permessage-deflate response: ${p}` };

  // §7.1.1.1: our server_no_context_takeover request is accepted only by echoing it.
  if (opts.serverNoContextTakeover && !p.serverNoContextTakeover) {
    return { error: "server ignored the requested server_no_context_takeover" };
  }

  let serverBits = 15;
  if (p.serverMaxWindowBits !== undefined) serverBits = p.serverMaxWindowBits; // §7.1.2.1: allowed unasked
  if (opts.serverMaxWindowBits !== undefined) {
    if (p.serverMaxWindowBits === undefined) return { error: "server ignored the requested server_max_window_bits" };
    if (p.serverMaxWindowBits > opts.serverMaxWindowBits) {
      return { error: `server_max_window_bits=${p.serverMaxWindowBits} exceeds the ${opts.serverMaxWindowBits} requested` };
    }
  }

  // §7.1.2.2: in a response client_max_window_bits must have a value, and may only
  // appear if offered; a value above the one we offered is not "equal or smaller".
  let clientBits = typeof opts.clientMaxWindowBits === "number" ? opts.clientMaxWindowBits : 15;
  if (p.clientMaxWindowBits !== undefined) {
    if (opts.clientMaxWindowBits === false) return { error: "server sent client_max_window_bits, which was not offered" };
    if (p.clientMaxWindowBits === true) return { error: "client_max_window_bits in a response must have a value" };
    if (p.clientMaxWindowBits > clientBits) {
      return { error: `client_max_window_bits=${p.clientMaxWindowBits} exceeds the ${clientBits} offered` };
    }
    clientBits = p.clientMaxWindowBits;
  }

  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    // §7.1.1.2: having offered it, the client keeps its promise even if not echoed.
    clientNoContextTakeover: p.clientNoContextTakeover || opts.clientNoContextTakeover,
    serverMaxWindowBits: serverBits,
    clientMaxWindowBits: clientBits,
  };
}
