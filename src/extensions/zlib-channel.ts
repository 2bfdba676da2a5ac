// One node:zlib stream driven a message at a time, and the errors permessage-deflate reports.
import type zlib from "node:zlib";

/** A failure the peer caused (or zlib hit); close the connection with `closeCode`. */
export class DeflateError extends Error {
  constructor(
    /** 1007: corrupt compressed data; 1009: message too big once inflated; 1011: zlib failed compressing. */
    readonly closeCode: 1007 | 1009 | 1011,
    message: string,
    /** For 1009: bytes of the message inflated when decompression was stopped. */
    readonly inflatedBytes?: number,
  ) {
    super(message);
    this.name = "DeflateError";
  }
}

/** The operation could not run because close() was called; nothing to report to the peer. */
export class DeflateClosedError extends Error {
  constructor() {
    super("permessage-deflate context is closed (the connection is closing)");
    this.name = "DeflateClosedError";
  }
}

interface Sink {
  chunks: Buffer[];
  length: number;
  limit: number;
  done: boolean;
  resolve: (out: Buffer) => void;
  reject: (err: Error) => void;
}

/** One zlib stream plus the single operation currently reading its output. */
export class ZlibChannel {
  #sink: Sink | undefined;
  /** Input bytes handed to zlib since creation (compare with stream.bytesWritten). */
  written = 0;
  /** Input written ahead of the next run's, and how much of the output it makes (see prime()). */
  #primer: Uint8Array | undefined;
  #dropOutput = 0;

  constructor(
    readonly stream: zlib.DeflateRaw | zlib.InflateRaw,
    private readonly errorCode: 1007 | 1011,
  ) {
    // Listeners stay for the stream's whole life, so a late 'error' is never uncaught.
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    stream.on("error", (err: Error) => {
      this.#fail(new DeflateError(this.errorCode, `${errorCode === 1007 ? "invalid compressed data" : "compression failed"}: ${err.message}`));
    });
  }

  /**
   * Has the next run() write `input` first and drop the first `outputBytes` of its output: an
   * inflater primed with a stored block of its window (see window-priming.ts).
   */
  prime(input: Uint8Array, outputBytes: number): void {
    this.#primer = input;
    this.#dropOutput = outputBytes;
  }

  /** Writes the inputs (each with the stream's Z_SYNC_FLUSH) and resolves with all the output. */
  run(inputs: readonly Uint8Array[], limit: number): Promise<Buffer> {
    const all = this.#primer ? [this.#primer, ...inputs] : inputs;
    this.#primer = undefined;
    return new Promise<Buffer>((resolve, reject) => {
      const sink: Sink = { chunks: [], length: 0, limit, done: false, resolve, reject };
      this.#sink = sink;
      all.forEach((input, i) => {
        this.written += input.length;
        const last = i === all.length - 1;
        this.stream.write(input, (err) => {
          if (err) this.#fail(new DeflateError(this.errorCode, `zlib write failed: ${err.message}`));
          else if (last) this.#finish(sink);
        });
      });
    });
  }

  /** Rejects the running operation, if any, and frees the zlib stream. */
  destroy(reason?: Error): void {
    if (reason) this.#fail(reason);
    this.#sink = undefined;
    this.stream.destroy();
  }

  #onData(data: Buffer): void {
    const sink = this.#sink;
    if (!sink || sink.done) return;
    let chunk = data;
    if (this.#dropOutput > 0) {
      const dropped = Math.min(this.#dropOutput, chunk.length);
      this.#dropOutput -= dropped;
      chunk = chunk.subarray(dropped);
      if (chunk.length === 0) return;
    }
    sink.length += chunk.length;
    if (sink.length > sink.limit) {
      // Stop zlib now: a destroyed stream does not run its next chunk.
      this.destroy(new DeflateError(1009, "message exceeds the maximum message size once decompressed", sink.length)); // reworded by the caller
      return;
    }
    sink.chunks.push(chunk);
  }

  #finish(sink: Sink): void {
    if (sink.done) return;
    sink.done = true;
    if (this.#sink === sink) this.#sink = undefined;
    sink.resolve(sink.chunks.length === 1 ? sink.chunks[0]! : Buffer.concat(sink.chunks, sink.length));
  }

  #fail(err: Error): void {
    const sink = this.#sink;
    if (!sink || sink.done) return;
    sink.done = true;
    this.#sink = undefined;
    sink.reject(err);
  }
}
