// permessage-deflate compression and decompression for one connection (RFC 7692 §7.2),
// on node:zlib streams. Negotiation is in ./deflate-negotiation.ts.
//
// - Each direction has its own zlib stream, created on first use and kept while
//   context takeover applies. With *_no_context_takeover (RFC 7692 §7.1.1) it is
//   reset between messages while more are queued, and freed when the connection
//   goes idle: a deflate context holds ~300 KiB, an inflate context ~40 KiB.
// - Calls are queued per direction, so messages come out in call order although
//   zlib runs on the thread pool; every zlib job also holds a slot of a shared
//   ZlibLimiter.
// - decompress() counts output as zlib produces it and stops the stream as soon
//   as the message exceeds its limit, so a bomb costs at most the limit plus one
//   zlib chunk (16 KiB) of memory.
// - A whole message of at most 16 KiB compressed is inflated at once on the
//   calling thread (decompressSync): a thread-pool round trip costs far more than
//   inflating a small message, about 60 against 7 microseconds of CPU on one core.
//   That needs no zlib stream kept between messages: the inflater of each message
//   is primed with the last window of inflated output (RFC 7692 section 7.2.2's
//   LZ77 window), which is the only state context takeover carries over (how it is primed
//   depends on the runtime's node:zlib: see window-priming.ts).

import zlib from "node:zlib";
import { resolveDeflateOptions, type PerMessageDeflateOptions, type ResolvedDeflateOptions, type RoleDeflateParams } from "./deflate-negotiation.js";
import { defaultZlibLimiter, type ZlibLimiter } from "./zlib-limiter.js";
import { SlidingWindow } from "./sliding-window.js";
import { DeflateClosedError, DeflateError, ZlibChannel } from "./zlib-channel.js";
import { runtimeWindowPriming, storedBlock, type WindowPriming } from "./window-priming.js";

export { DeflateClosedError, DeflateError } from "./zlib-channel.js";

/** RFC 7692 §7.2.1: a sync flush ends with this empty stored block, which the sender drops. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** RFC 7692 §7.2.3.6: an empty stored block header; the receiver's appended TAIL completes it. */
const EMPTY_MESSAGE = Buffer.from([0x00]);
/** Senders that use BFINAL end a message with one such block; a flood of them is an attack. */
const MAX_FINAL_BLOCKS_PER_MESSAGE = 16;
/** Whole messages up to this compressed size are inflated synchronously... */
const SYNC_INFLATE_MAX_INPUT = 16 * 1024;
/**
 * ... as long as they inflate to at most this: zlib stops there (well under a millisecond of
 * work), and a larger message goes to the thread pool instead, so a small bomb cannot hold the
 * event loop for long.
 */
const SYNC_INFLATE_MAX_OUTPUT = 256 * 1024;

/**
 * Compression state of one connection. Create it after negotiation with
 * `forRole(params, role)`; call close() when the connection closes.
 */
export class PerMessageDeflate {
  readonly #params: RoleDeflateParams;
  readonly #options: ResolvedDeflateOptions;
  readonly #limiter: ZlibLimiter;
  readonly #abort = new AbortController();
  #deflater: ZlibChannel | undefined;
  #inflater: ZlibChannel | undefined;
  #compressQueue: Promise<unknown> = Promise.resolve();
  #decompressQueue: Promise<unknown> = Promise.resolve();
  /** Calls queued or running per direction. */
  #compressPending = 0;
  #decompressPending = 0;
  /** Bytes inflated so far for the message being received. */
  #messageBytes = 0;
  /** After a 1007/1009 the inflate context is lost; every later decompress() repeats the error. */
  #decompressError: DeflateError | undefined;
  /**
   * The last LZ77 window of inflated output (at most 2^windowBits bytes), to prime the
   * inflater of the next message or of the rest of a message after a BFINAL block. Empty
   * between messages without context takeover.
   */
  #window: SlidingWindow | undefined;
  /** BFINAL blocks seen in the message being received. */
  #finalBlocks = 0;
  #closed = false;

  readonly #priming: WindowPriming;

  constructor(
    params: RoleDeflateParams,
    options: PerMessageDeflateOptions | ResolvedDeflateOptions = {},
    limiter: ZlibLimiter = defaultZlibLimiter,
    /** How inflaters get the window; the runtime's way by default (tests force the other). */
    priming: WindowPriming = runtimeWindowPriming(),
  ) {
    this.#params = params;
    this.#options = resolveDeflateOptions(options);
    this.#limiter = limiter;
    this.#priming = priming;
  }

  /** Messages shorter than this are better sent uncompressed (option thresholdBytes). */
  get thresholdBytes(): number {
    return this.#options.thresholdBytes;
  }

  /** Whether a whole message of this many bytes should be compressed (at or above the threshold). */
  shouldCompress(messageBytes: number): boolean {
    return messageBytes >= this.#options.thresholdBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Compresses one message, or one fragment of it (`fin` false for all but the
   * last): the result is the payload to send with RSV1 set on the first frame.
   * Do not modify `data` until the promise settles.
   */
  compress(data: Uint8Array, fin = true): Promise<Buffer> {
    return this.#enqueue("compress", () => this.#compress(data, fin));
  }

  /**
   * Decompresses one frame payload of a compressed message (`fin` on the last).
   * Rejects with DeflateError 1009 as soon as the message's inflated size passes
   * `maxMessageBytes` (counted over all its fragments), 1007 on corrupt data.
   */
  decompress(data: Uint8Array, fin: boolean, maxMessageBytes: number): Promise<Buffer> {
    if (!(maxMessageBytes >= 0)) {
      throw new RangeError(`maxMessageBytes must be a number >= 0 (Infinity for no limit), got ${String(maxMessageBytes)}`);
    }
    return this.#enqueue("decompress", () => this.#decompress(data, fin, maxMessageBytes));
  }

  /**
   * Inflates a whole message at once on this thread when that is possible now: nothing
   * queued, no message in progress, at most SYNC_INFLATE_MAX_INPUT bytes in and
   * SYNC_INFLATE_MAX_OUTPUT out. Returns undefined when the caller must use `decompress()`
   * instead (also for a message that holds a BFINAL block, which that path handles). Throws
   * DeflateError 1009 or 1007 as `decompress` rejects.
   */
  decompressSync(data: Uint8Array, maxMessageBytes: number): Buffer | undefined {
    if (this.#closed || this.#decompressPending > 0 || this.#messageBytes !== 0 || this.#inflater) return undefined;
    if (data.length > SYNC_INFLATE_MAX_INPUT) return undefined;
    if (this.#decompressError) throw this.#decompressError;
    const window = this.#window?.bytes;
    const primer = window && this.#priming === "stored-block" ? storedBlock(window) : undefined;
    /** Output bytes that are the window coming back out of its stored block, not the message. */
    const primed = primer ? window!.length : 0;
    // RFC 7692 §7.2.2: append 00 00 ff ff to the end of the message, then inflate.
    const input = Buffer.concat(primer ? [primer, data, TAIL] : [data, TAIL]);
    const options: zlib.ZlibOptions & { info: true } = {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      windowBits: this.#params.decompressWindowBits,
      info: true,
    };
    // zlib stops allocating past this and throws: a bomb costs at most the limit.
    const outputLimit = Math.min(maxMessageBytes, SYNC_INFLATE_MAX_OUTPUT);
    options.maxOutputLength = Math.max(1, Math.floor(outputLimit)) + primed;
    if (window && !primer) options.dictionary = window;
    // Each call allocates an output chunk of this size; small messages need little.
    options.chunkSize = Math.min(zlib.constants.Z_DEFAULT_CHUNK, Math.max(1024, input.length * 8));
    let result: { buffer: Buffer; engine: zlib.InflateRaw };
    try {
      result = zlib.inflateRawSync(input, options) as unknown as { buffer: Buffer; engine: zlib.InflateRaw };
    } catch (caught) {
      const tooBig = (caught as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
      // Too big to inflate here but perhaps not too big: the thread pool decides.
      if (tooBig && maxMessageBytes > SYNC_INFLATE_MAX_OUTPUT) return undefined;
      this.#decompressError = tooBig
        ? new DeflateError(1009, `message inflates past the maximum message size of ${maxMessageBytes} bytes`, maxMessageBytes + 1)
        : new DeflateError(1007, `invalid compressed data: ${(caught as Error).message}`);
      throw this.#decompressError;
    }
    // Input left over means a block with BFINAL set ended the stream early.
    if (result.engine.bytesWritten !== input.length) return undefined;
    // A copy after a primer: the message must not pin the window's bytes in front of it.
    const out = primed > 0 ? Buffer.from(result.buffer.subarray(primed)) : result.buffer;
    if (out.length > maxMessageBytes) {
      this.#decompressError = new DeflateError(1009, `message inflates past the maximum message size of ${maxMessageBytes} bytes`, out.length);
      throw this.#decompressError;
    }
    if (!this.#params.decompressNoContextTakeover) this.#remember(out);
    return out;
  }

  /** Frees both zlib streams; queued and running operations reject with DeflateClosedError. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#deflater?.destroy(new DeflateClosedError());
    this.#inflater?.destroy(new DeflateClosedError());
    this.#deflater = undefined;
    this.#inflater = undefined;
  }

  #enqueue(direction: "compress" | "decompress", job: () => Promise<Buffer>): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new DeflateClosedError());
    const signal = this.#abort.signal;
    const previous = direction === "compress" ? this.#compressQueue : this.#decompressQueue;
    const result = previous.then(() => {
      if (this.#closed) throw new DeflateClosedError();
      return this.#limiter.run(job, signal).catch((err: unknown) => {
        throw this.#closed ? new DeflateClosedError() : err;
      });
    });
    const settled = result.then(
      () => this.#settled(direction),
      () => this.#settled(direction), // the next job waits for this one, not for its success
    );
    if (direction === "compress") {
      this.#compressQueue = settled;
      this.#compressPending++;
    } else {
      this.#decompressQueue = settled;
      this.#decompressPending++;
    }
    return result;
  }

  #settled(direction: "compress" | "decompress"): void {
    if (direction === "compress") this.#compressPending--;
    else this.#decompressPending--;
  }

  async #compress(data: Uint8Array, fin: boolean): Promise<Buffer> {
    if (this.#closed) throw new DeflateClosedError();
    const channel = (this.#deflater ??= new ZlibChannel(
      zlib.createDeflateRaw({
        flush: zlib.constants.Z_SYNC_FLUSH,
        // zlib cannot compress with 8 bits and uses 9, whose streams still fit an
        // 8-bit window: see the note at the top of deflate-negotiation.ts.
        windowBits: Math.max(9, this.#params.compressWindowBits),
        memLevel: this.#options.memLevel,
        level: this.#options.compressionLevel,
      }),
      1011,
    ));
    let out: Buffer;
    try {
      out = await channel.run([data], Number.POSITIVE_INFINITY);
    } catch (err) {
      if (this.#deflater === channel) this.#deflater = undefined; // context lost; the caller fails the connection
      channel.destroy();
      throw err;
    }
    if (!fin) return out; // keep the flush marker: the message goes on (RFC 7692 §7.2.1 strips at the end only)
    if (this.#params.compressNoContextTakeover && this.#deflater === channel) {
      // §7.1.1: nothing carries over to the next message. Keep the stream (reset)
      // only if more messages are already queued; an idle connection frees it,
      // because a deflate context holds ~300 KiB (windowBits 15, memLevel 8).
      if (this.#compressPending > 1) channel.stream.reset();
      else {
        this.#deflater = undefined;
        channel.destroy();
      }
    }
    if (out.length === 0) return EMPTY_MESSAGE; // zlib writes nothing for an empty flush after a flush
    if (!endsWithTail(out)) throw new DeflateError(1011, "zlib sync flush did not end with 00 00 ff ff");
    return out.subarray(0, out.length - TAIL.length);
  }

  async #decompress(data: Uint8Array, fin: boolean, maxMessageBytes: number): Promise<Buffer> {
    if (this.#closed) throw new DeflateClosedError();
    if (this.#decompressError) throw this.#decompressError;
    const outputs: Buffer[] = [];
    let produced = 0;
    // RFC 7692 §7.2.2: append 00 00 ff ff to the end of the message, then inflate.
    let pending: Uint8Array[] = fin ? [data, TAIL] : [data];
    try {
      for (;;) {
        const channel = (this.#inflater ??= this.#newInflater(this.#window?.bytes));
        const out = await channel.run(pending, maxMessageBytes - this.#messageBytes - produced);
        outputs.push(out);
        produced += out.length;
        const unconsumed = channel.written - channel.stream.bytesWritten;
        this.#remember(out);
        if (unconsumed === 0) break;
        // zlib stopped after a block with BFINAL set. RFC 7692 §7.2.1 lets more
        // blocks follow (octet-aligned) with the same LZ77 window, so continue
        // with a new inflater primed with that window, unless only our TAIL is left.
        // Each restart costs a new zlib stream, so a message may only do it a few times.
        if (++this.#finalBlocks > MAX_FINAL_BLOCKS_PER_MESSAGE) {
          throw new DeflateError(1007, `invalid compressed data: more than ${MAX_FINAL_BLOCKS_PER_MESSAGE} BFINAL blocks in one message`);
        }
        const rest = lastBytes(pending, unconsumed);
        this.#inflater = undefined;
        channel.destroy();
        this.#inflater = this.#newInflater(this.#window?.bytes);
        if (fin && rest.length <= TAIL.length) break;
        pending = [rest];
      }
    } catch (caught) {
      let err = caught;
      if (err instanceof DeflateError && err.closeCode === 1009) {
        const inflated = this.#messageBytes + produced + (err.inflatedBytes ?? 0);
        err = new DeflateError(1009, `message inflates past the maximum message size of ${maxMessageBytes} bytes`, inflated);
      }
      if (err instanceof DeflateError) {
        this.#decompressError = err; // the window is lost: the connection must close
        this.#inflater?.destroy();
        this.#inflater = undefined;
      }
      throw err;
    }
    this.#messageBytes += produced;
    if (fin) {
      this.#messageBytes = 0;
      this.#finalBlocks = 0;
      // Between messages the window is the whole state (see the top of this file): the next
      // message gets an inflater primed with it, or none at all when inflated at once.
      this.#inflater?.destroy();
      this.#inflater = undefined;
      // §7.1.1: without context takeover the next message starts with an empty window.
      if (this.#params.decompressNoContextTakeover) this.#window = undefined;
    }
    if (outputs.length > 1) return Buffer.concat(outputs, produced);
    const out = outputs[0]!;
    // zlib's output is a view into a 16 KiB chunk; a small message the application
    // keeps would pin the whole chunk, so give it its own memory.
    return out.length * 2 < out.buffer.byteLength ? Buffer.from(out) : out;
  }

  /** Adds inflated output to the window that primes the next inflater. */
  #remember(out: Buffer): void {
    (this.#window ??= new SlidingWindow(1 << this.#params.decompressWindowBits)).append(out);
  }

  #newInflater(window?: Buffer): ZlibChannel {
    const options: zlib.ZlibOptions = {
      flush: zlib.constants.Z_SYNC_FLUSH,
      windowBits: this.#params.decompressWindowBits,
    };
    const primed = window !== undefined && window.length > 0;
    if (primed && this.#priming === "dictionary") options.dictionary = window;
    const channel = new ZlibChannel(zlib.createInflateRaw(options), 1007);
    if (primed && this.#priming === "stored-block") channel.prime(storedBlock(window), window.length);
    return channel;
  }
}

/** A copy of the last `n` bytes of the concatenation of `parts` (copies only those bytes). */
function lastBytes(parts: readonly Uint8Array[], n: number): Buffer {
  const picked: Uint8Array[] = [];
  let need = n;
  for (let i = parts.length - 1; i >= 0 && need > 0; i--) {
    const part = parts[i]!;
    picked.push(part.length <= need ? part : part.subarray(part.length - need));
    need -= Math.min(need, part.length);
  }
  return Buffer.concat(picked.reverse()); // always a new buffer: never pins a large one
}

function endsWithTail(buf: Buffer): boolean {
  const n = buf.length;
  return n >= 4 && buf[n - 4] === 0x00 && buf[n - 3] === 0x00 && buf[n - 2] === 0xff && buf[n - 1] === 0xff;
}
