/**
 * Masking sixteen bytes at a time with WebAssembly SIMD (v128.xor), for large payloads.
 *
 * JavaScript can XOR at best a 32-bit word at a time (about 11 GB/s here); `ws` reaches
 * native speed through the `bufferutil` addon. A WebAssembly function can only touch its own
 * memory, so each slice of up to 64 KiB is copied into a scratch area, masked there and copied
 * back. Both copies are memcpy on data already in cache, and the round trip measured about
 * 37 GB/s against 11 GB/s for the word loop. The module is small enough to spell out below,
 * one instruction per line, and is compiled once, when this module loads. Where WebAssembly or its
 * SIMD proposal is unavailable (`node --jitless`, for one), `maskSimd` is null and callers use
 * the JavaScript loop.
 */

/** Bytes masked per call into WebAssembly: the scratch area is one 64 KiB page. */
const SLICE = 65536;
/** The loop masks 64 bytes per turn; the scratch page absorbs the overrun past a slice's end. */
const STEP = 64;

// Opcodes used below (WebAssembly core spec 5.4, SIMD proposal 5.4.8).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_STORE = [SIMD, 0x0b];
const I32X4_SPLAT = [SIMD, 0x11];
const V128_XOR = [SIMD, 0x51];
/** memarg: alignment 2^4 = 16 bytes, then the constant offset (< 128, so one LEB128 byte). */
const memarg = (offset: number): number[] => [4, offset];

// Locals of `mask(start, length, key)`: params 0..2, then the splatted key and the end address.
const START = 0;
const LENGTH = 1;
const KEY = 2;
const KEY_VECTOR = 3;
const END_ADDRESS = 4;

/** `mem[start + i] ^= key` for 16-byte vectors, 64 bytes per turn, until start + length. */
const maskBody: number[] = [
  2,
  1,
  V128,
  1,
  I32, // locals: one v128 (KEY_VECTOR), one i32 (END_ADDRESS)
  LOCAL_GET,
  KEY,
  ...I32X4_SPLAT,
  LOCAL_SET,
  KEY_VECTOR,
  LOCAL_GET,
  START,
  LOCAL_GET,
  LENGTH,
  I32_ADD,
  LOCAL_SET,
  END_ADDRESS,
  BLOCK,
  VOID,
  LOOP,
  VOID,
  LOCAL_GET,
  START,
  LOCAL_GET,
  END_ADDRESS,
  I32_GE_U,
  BR_IF,
  1,
  ...[0, 16, 32, 48].flatMap((offset) => [
    LOCAL_GET,
    START, // address for the store
    LOCAL_GET,
    START,
    ...V128_LOAD,
    ...memarg(offset),
    LOCAL_GET,
    KEY_VECTOR,
    ...V128_XOR,
    ...V128_STORE,
    ...memarg(offset),
  ]),
  LOCAL_GET,
  START,
  I32_CONST,
  0xc0,
  0x00,
  I32_ADD,
  LOCAL_SET,
  START, // start += 64 (signed LEB128)
  BR,
  0,
  END, // loop
  END, // block
  END, // function
];

function section(id: number, body: number[]): number[] {
  if (body.length > 127) throw new Error("section too long for a one-byte size");
  return [id, body.length, ...body];
}

const moduleBytes = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // "\0asm", version 1
  ...section(1, [1, 0x60, 3, I32, I32, I32, 0]), // type 0: (i32, i32, i32) -> ()
  ...section(3, [1, 0]), // function 0 has type 0
  ...section(5, [1, 0, 1]), // one memory, at least 1 page
  ...section(7, [2, 1, 0x6d, 0x02, 0, 1, 0x6b, 0x00, 0]), // exports "m" (memory 0) and "k" (func 0)
  ...section(10, [1, maskBody.length, ...maskBody]),
]);

/** Writes `source` XOR the mask into `target` (which may be `source` itself, for in place). */
type MaskFunction = (source: Uint8Array, target: Uint8Array, mask: Uint8Array, offset: number) => void;

/** The little of the WebAssembly JS API used here (this project's `lib` has no DOM typings). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

function compile(): MaskFunction | null {
  let scratch: Uint8Array;
  let maskScratch: (start: number, length: number, key: number) => void;
  try {
    const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    if (api === undefined) return null;
    const instance = new api.Instance(new api.Module(moduleBytes));
    scratch = new Uint8Array((instance.exports["m"] as { buffer: ArrayBuffer }).buffer, 0, SLICE);
    maskScratch = instance.exports["k"] as typeof maskScratch;
  } catch {
    return null;
  }
  return (source, target, mask, offset) => {
    for (let done = 0; done < source.length; done += SLICE) {
      const slice = source.subarray(done, done + SLICE);
      // WebAssembly memory is little-endian: byte j of the word is key byte (offset + j) & 3.
      const r = (offset + done) & 3;
      const key = mask[r]! | (mask[(r + 1) & 3]! << 8) | (mask[(r + 2) & 3]! << 16) | (mask[(r + 3) & 3]! << 24);
      scratch.set(slice);
      maskScratch(0, Math.ceil(slice.length / STEP) * STEP, key);
      target.set(scratch.subarray(0, slice.length), done);
    }
  };
}

/** Masks like `applyMask` (into `target`), or is null where WebAssembly SIMD is unavailable. */
export const maskSimd: MaskFunction | null = compile();
