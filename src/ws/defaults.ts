// `ws` 8's defaults, which the face keeps: programs written for `ws` rely on them.

/** Largest message accepted (100 MiB). */
export const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;
/** Accepted and shown on `_receiver` as `ws` has them (hawser bounds a message by its bytes). */
export const DEFAULT_MAX_BUFFERED_CHUNKS = 1024 * 1024;
export const DEFAULT_MAX_FRAGMENTS = 128 * 1024;
/** How long a closing handshake may take before the connection is cut (30 s). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
