import { clientDeflateFromResponse } from "../extensions/deflate-codec.js";
import { buildClientOffer } from "../extensions/deflate-negotiation.js";
import type { MessageCodec } from "../protocol/codec.js";
import type { ResolvedClientConfig } from "./config.js";

/** What the client offers in Sec-WebSocket-Extensions, and how it reads the server's answer. */
export interface ClientExtensions {
  /** The Sec-WebSocket-Extensions offer; "" sends none. */
  readonly offer: string;
  /**
   * Checks the server's Sec-WebSocket-Extensions answer ("" when absent). Returns the codec to
   * use (null for none), or throws an Error saying what was wrong: RFC 6455 section 4.1 says
   * the client fails the connection when the server names an extension it did not offer.
   */
  accept(answer: string): MessageCodec | null;
}

/** The extensions for one connection attempt: permessage-deflate unless turned off. */
export function clientExtensions(config: ResolvedClientConfig): ClientExtensions {
  const deflate = config.perMessageDeflate;
  return {
    offer: deflate === false ? "" : buildClientOffer(deflate),
    accept(answer: string): MessageCodec | null {
      const result = clientDeflateFromResponse(answer, deflate);
      if (result !== null && "error" in result) throw new Error(result.error);
      return result;
    },
  };
}
