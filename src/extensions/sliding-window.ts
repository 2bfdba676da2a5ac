/**
 * The last `size` bytes of a byte stream (the LZ77 window of inflated output, RFC 7692
 * section 7.2.2), appended to in place. Reading it is a view, not a copy; the buffer has
 * some slack, so the kept bytes move to its front only once per slack's worth of input.
 */
export class SlidingWindow {
  #buffer: Buffer | undefined;
  #end = 0;

  constructor(readonly size: number) {}

  /** The window's bytes (a view, valid until the next append), or undefined while empty. */
  get bytes(): Buffer | undefined {
    if (this.#end === 0) return undefined;
    return this.#buffer!.subarray(Math.max(0, this.#end - this.size), this.#end);
  }

  append(data: Uint8Array): void {
    const length = data.length;
    if (length === 0) return;
    const buffer = (this.#buffer ??= Buffer.allocUnsafe(this.size + Math.max(4096, this.size >> 2)));
    if (length >= this.size) {
      buffer.set(data.subarray(length - this.size), 0);
      this.#end = this.size;
      return;
    }
    if (this.#end + length > buffer.length) {
      const keepFrom = this.#end - (this.size - length);
      buffer.copyWithin(0, keepFrom, this.#end);
      this.#end -= keepFrom;
    }
    buffer.set(data, this.#end);
    this.#end += length;
  }
}
