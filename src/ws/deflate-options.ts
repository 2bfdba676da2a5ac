import { DeflateCodec } from "../extensions/deflate-codec.js";
import {
  acceptServerResponse,
  invalidOfferParams,
  negotiateServer,
  PERMESSAGE_DEFLATE,
  resolveDeflateOptions,
  type PerMessageDeflateOptions as HawserDeflateOptions,
} from "../extensions/deflate-negotiation.js";
import type { MessageCodec } from "../protocol/codec.js";
import { parseExtensionOffers } from "../protocol/extension-header.js";
import type { PerMessageDeflateOptions } from "./types.js";

/** What zlib means by level -1 (Z_DEFAULT_COMPRESSION). */
const ZLIB_DEFAULT_LEVEL = 6;

/**
 * `ws`'s permessage-deflate options in hawser's terms. Without `zlibDeflateOptions.level` the
 * level is hawser's default (1: several times faster than zlib's 6, for a slightly larger output).
 */
export function toHawserDeflateOptions(options: PerMessageDeflateOptions, role: "server" | "client"): HawserDeflateOptions {
  const out: HawserDeflateOptions = { thresholdBytes: options.threshold ?? 1024 };
  const level = options.zlibDeflateOptions?.level;
  if (level !== undefined) out.compressionLevel = level === -1 ? ZLIB_DEFAULT_LEVEL : level;
  if (options.serverNoContextTakeover !== undefined) out.serverNoContextTakeover = options.serverNoContextTakeover;
  if (options.clientNoContextTakeover !== undefined) out.clientNoContextTakeover = options.clientNoContextTakeover;
  if (typeof options.serverMaxWindowBits === "number") out.serverMaxWindowBits = options.serverMaxWindowBits;
  const clientBits = options.clientMaxWindowBits;
  // A server takes only a number (the most it allows); a client may offer the parameter bare.
  if (typeof clientBits === "number" || (role === "client" && typeof clientBits === "boolean")) out.clientMaxWindowBits = clientBits;
  if (options.zlibDeflateOptions?.memLevel !== undefined) out.memLevel = options.zlibDeflateOptions.memLevel;
  resolveDeflateOptions(out); // a bad value throws now, naming the option
  return out;
}

export type ServerNegotiation = { header: string; codec: MessageCodec } | { error: string } | null;

/**
 * A server's answer to a client's Sec-WebSocket-Extensions: the accepted permessage-deflate
 * offer and its codec, null to go on without (no acceptable offer; other extensions are
 * ignored), or an error for a header that does not parse or a permessage-deflate offer with
 * invalid parameters (`ws` refuses those handshakes with 400).
 */
export function negotiateAsServer(header: string, options: HawserDeflateOptions): ServerNegotiation {
  const offers = parseExtensionOffers(header);
  if ("error" in offers) return { error: offers.error };
  const deflateOffers = offers.filter((offer) => offer.name === PERMESSAGE_DEFLATE);
  for (const offer of deflateOffers) {
    const invalid = invalidOfferParams(offer);
    if (invalid !== null) return { error: invalid };
  }
  const resolved = resolveDeflateOptions(options);
  const agreed = negotiateServer(deflateOffers, resolved);
  if (agreed === null) return null;
  return { header: agreed.response, codec: new DeflateCodec(agreed.params, "server", resolved, agreed.response) };
}

/**
 * A client's check of the server's Sec-WebSocket-Extensions answer: the codec (null when there
 * is none), or the error the handshake fails with.
 */
export function clientCodec(header: string | undefined, offered: HawserDeflateOptions | false): { codec: MessageCodec | null } | { error: string } {
  if (header === undefined) return { codec: null };
  if (offered === false) return { error: "Server sent a Sec-WebSocket-Extensions header but no extension was requested" };
  const offers = parseExtensionOffers(header);
  if ("error" in offers) return { error: "Invalid Sec-WebSocket-Extensions header" };
  if (offers.length === 0 || offers.some((offer) => offer.name !== PERMESSAGE_DEFLATE)) {
    return { error: "Server indicated an extension that was not requested" };
  }
  const resolved = resolveDeflateOptions(offered);
  const params = acceptServerResponse(offers, resolved);
  if (params === null || "error" in params) return { error: "Invalid Sec-WebSocket-Extensions header" };
  return { codec: new DeflateCodec(params, "client", resolved, header.trim()) };
}
