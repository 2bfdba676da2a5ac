import type { CodecError, MessageCodec } from "../protocol/codec.js";
import { parseExtensionOffers } from "../protocol/extension-header.js";
import { DeflateClosedError, PerMessageDeflate } from "./deflate.js";
import {
  acceptServerResponse,
  forRole,
  negotiateServer,
  resolveDeflateOptions,
  type DeflateParams,
  type PerMessageDeflateOptions,
  type ResolvedDeflateOptions,
  type Role,
} from "./deflate-negotiation.js";
import type { ZlibLimiter } from "./zlib-limiter.js";

/** permessage-deflate as the transport sees it: whole messages in, whole messages out. */
export class DeflateCodec implements MessageCodec {
  private readonly deflate: PerMessageDeflate;

  constructor(
    params: DeflateParams,
    role: Role,
    options: ResolvedDeflateOptions,
    readonly extensionHeader: string,
    limiter?: ZlibLimiter,
  ) {
    this.deflate = new PerMessageDeflate(forRole(params, role), options, limiter);
  }

  get threshold(): number {
    return this.deflate.thresholdBytes;
  }

  compress(data: Buffer): Promise<Buffer> {
    return this.deflate.compress(data, true);
  }

  compressFragment(data: Buffer, fin: boolean): Promise<Buffer> {
    return this.deflate.compress(data, fin);
  }

  decompress(data: Buffer, maxBytes: number): Promise<Buffer> {
    return this.deflate.decompress(data, true, maxBytes).catch((error: unknown) => {
      // After close() the connection is gone; there is nobody to send a close code to.
      if (error instanceof DeflateClosedError) (error as CodecError).closeCode = undefined;
      throw error;
    });
  }

  decompressSync(data: Buffer, maxBytes: number): Buffer | undefined {
    return this.deflate.decompressSync(data, maxBytes);
  }

  close(): void {
    this.deflate.close();
  }
}

export type ServerNegotiation = { header: string; codec: MessageCodec } | { error: string } | null;

/**
 * A server's negotiator: from a client's Sec-WebSocket-Extensions value to the answer and the
 * codec (RFC 7692 section 7), or null when no offer is acceptable (no compression), or an error
 * for a header that does not parse (the handshake is refused with 400).
 */
export function serverDeflateNegotiator(options: PerMessageDeflateOptions, limiter?: ZlibLimiter): (offer: string) => ServerNegotiation {
  const resolved = resolveDeflateOptions(options);
  return (offerHeader) => {
    const offers = parseExtensionOffers(offerHeader);
    if ("error" in offers) return { error: `Malformed Sec-WebSocket-Extensions: ${offers.error}` };
    const agreed = negotiateServer(offers, resolved);
    if (!agreed) return null;
    return { header: agreed.response, codec: new DeflateCodec(agreed.params, "server", resolved, agreed.response, limiter) };
  };
}

/**
 * A client's check of the server's answer: the codec to use, null for no compression, or an
 * error when the server answered with something that was not offered (the connection fails).
 */
export function clientDeflateFromResponse(
  responseHeader: string,
  options: PerMessageDeflateOptions | false,
  limiter?: ZlibLimiter,
): MessageCodec | null | { error: string } {
  if (responseHeader.trim() === "") return null;
  const offers = parseExtensionOffers(responseHeader);
  if ("error" in offers) return { error: `Malformed Sec-WebSocket-Extensions in the server's answer: ${offers.error}` };
  if (options === false) return { error: `The server answered with extensions that were not offered: ${responseHeader}` };
  const resolved = resolveDeflateOptions(options);
  const params = acceptServerResponse(offers, resolved);
  if (params === null) return null;
  if ("error" in params) return params;
  return new DeflateCodec(params, "client", resolved, responseHeader.trim(), limiter);
}
