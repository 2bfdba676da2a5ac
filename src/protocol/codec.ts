import type { Buffer } from "node:buffer";

/**
 * Per-message compression, as a negotiated extension provides it (RFC 7692). The transport
 * keeps messages in order around these asynchronous calls.
 */
export interface MessageCodec {
  /** Messages shorter than this many bytes are sent uncompressed. */
  readonly threshold: number;
  /** The extension's answer or offer as negotiated, for `socket.extensions`. */
  readonly extensionHeader: string;
  /** Compresses one whole message. */
  compress(data: Buffer): Promise<Buffer>;
  /**
   * Compresses one fragment of a message sent in pieces (`fin` on the last): the fragments
   * share one compression stream, and only the first frame carries the compressed bit
   * (RFC 7692 section 6). Without it, messages can only be compressed whole.
   */
  compressFragment?(data: Buffer, fin: boolean): Promise<Buffer>;
  /**
   * Decompresses one whole message, failing as soon as the output passes `maxBytes`. Rejects
   * with an error carrying `closeCode` (1009 too big, 1007 corrupt data).
   */
  decompress(data: Buffer, maxBytes: number): Promise<Buffer>;
  /**
   * Decompresses one whole message at once when that is cheap and possible now (nothing
   * queued, a small message); undefined when the caller must use `decompress`. Throws what
   * `decompress` would reject with.
   */
  decompressSync?(data: Buffer, maxBytes: number): Buffer | undefined;
  /** Frees the compression contexts; pending calls reject. */
  close(): void;
}

/** An error that says which close code the connection must fail with. */
export interface CodecError extends Error {
  closeCode?: number;
}
