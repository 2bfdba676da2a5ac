import type { Buffer } from "node:buffer";
import { parseExtensionOffers } from "../protocol/extension-header.js";
import { encodeFrame } from "../protocol/frame.js";
import { COALESCE_BYTES } from "./write-batcher.js";

/**
 * A frame encoded once for many connections is built as one buffer as far as the write
 * batcher would join its pieces: otherwise each subscriber's batcher copies header and
 * payload together again.
 */
const SHARED_FRAME_JOIN_BYTES = COALESCE_BYTES;
import type { WebSocketOpcode } from "../protocol/opcodes.js";
import type { MessageCodec } from "../protocol/codec.js";

type DataOpcode = typeof WebSocketOpcode.text | typeof WebSocketOpcode.binary;

/**
 * What a codec may add to say which connections can share its compressed messages: those
 * whose codecs give the same key. null: none (its messages depend on its own history).
 * Without it, the key comes from the agreed extension header (see `compressionShareKey`).
 */
export interface SharedCompression {
  readonly sharedCompressionKey?: string | null;
}

const shareKeys = new WeakMap<MessageCodec, string | null>();

/**
 * Which connections can take a message compressed by `codec`. With permessage-deflate and
 * `server_no_context_takeover` (RFC 7692 section 7.1.1.1) a compressed message refers to no
 * earlier one, so any peer that agreed to the same `server_max_window_bits` (section
 * 7.1.2.1; a stream using a smaller window decodes too) can inflate it: the key is that
 * window size. With context takeover every connection's stream is its own: null.
 */
export function compressionShareKey(codec: MessageCodec): string | null {
  let key = shareKeys.get(codec);
  if (key === undefined) {
    const declared = (codec as MessageCodec & SharedCompression).sharedCompressionKey;
    key = declared !== undefined ? declared : keyFromHeader(codec.extensionHeader);
    shareKeys.set(codec, key);
  }
  return key;
}

function keyFromHeader(header: string): string | null {
  const offers = parseExtensionOffers(header);
  if ("error" in offers || offers.length !== 1) return null;
  const agreed = offers[0]!;
  if (agreed.name !== "permessage-deflate" || !agreed.params.has("server_no_context_takeover")) return null;
  const bits = agreed.params.get("server_max_window_bits");
  return `permessage-deflate/no-context-takeover/${typeof bits === "string" ? bits : "15"}`;
}

/**
 * One message to be sent to many connections (pub/sub), encoded once. Server frames are not
 * masked (RFC 6455 section 5.1), so the same frame bytes are valid on every connection; the
 * buffers are shared, never modified after creation.
 */
export class PreparedMessage {
  private plainFrames: Buffer[] | null = null;
  private plainBytes = 0;
  /** Compressed frames, one entry per codec parameter set (see `SharedCompression`). */
  private compressed: Map<string, Promise<Buffer[] | null>> | null = null;

  constructor(
    readonly opcode: DataOpcode,
    /** The message payload, uncompressed. */
    readonly payload: Buffer,
  ) {}

  /** The whole message as one unmasked, uncompressed frame (one or two buffers). */
  get frames(): Buffer[] {
    if (this.plainFrames === null) {
      this.plainFrames = encodeFrame(this.opcode, this.payload, true, false, null, SHARED_FRAME_JOIN_BYTES);
      for (const chunk of this.plainFrames) this.plainBytes += chunk.length;
    }
    return this.plainFrames;
  }

  /** Bytes the uncompressed frame takes on the wire. */
  get frameBytes(): number {
    if (this.plainFrames === null) void this.frames;
    return this.plainBytes;
  }

  /**
   * The compressed frame for connections whose codec has `codec`'s parameter set, compressed
   * once by the first of them; null when that codec cannot share (context takeover), in which
   * case the connection compresses the payload itself. The promise resolves to null (never
   * rejects) when that first compression failed, say because its connection closed meanwhile:
   * the connection then compresses for itself rather than fail for another's reason.
   */
  compressedFrames(codec: MessageCodec): Promise<Buffer[] | null> | null {
    const key = compressionShareKey(codec);
    if (key === null) return null;
    this.compressed ??= new Map();
    let frames = this.compressed.get(key);
    if (frames === undefined) {
      // RSV1 on the first (only) frame marks the message compressed (RFC 7692 section 6).
      const cache = this.compressed;
      frames = codec.compress(this.payload).then(
        (data) => encodeFrame(this.opcode, data, true, true, null, SHARED_FRAME_JOIN_BYTES),
        () => {
          cache.delete(key);
          return null;
        },
      );
      cache.set(key, frames);
    }
    return frames;
  }
}
