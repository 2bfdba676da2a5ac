// What the per-socket rate limit costs per message: the Sans-I/O core parses the same stream
// of small masked binary frames (cut into 64 KiB reads, as a socket delivers them) with the
// limit off and on (a budget the stream never exhausts, as under normal load, so the cost is
// the spending on every frame, not the pausing). Variants alternate within each round, so a
// disturbed machine shows as spread rather than as one variant's bad luck.
//
//   npx tsx bench/rate-limit.ts [--frames N] [--rounds R] [--size BYTES]
//
// For instruction counts instead of time (steady on a shared machine), run each variant at two
// lengths under valgrind, with V8 compiling on the main thread so that every run tiers up alike:
//   valgrind --tool=callgrind node --no-concurrent-recompilation --import tsx bench/rate-limit.ts \
//     --variant off --rounds 3 --frames 500000      (then --frames 1500000, then --variant on)
// Per variant, (refs at 1.5M − refs at 0.5M) / 4M is the cost of a frame (warm-up plus three
// rounds of one million frames, start-up cancelled); the variants' difference is the limiter's.
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { Connection, type ConnectionEvents } from "../src/protocol/connection.js";
import type { RateLimit } from "../src/protocol/rate-budget.js";

const { values } = parseArgs({
  options: {
    frames: { type: "string", default: "2000000" },
    rounds: { type: "string", default: "9" },
    size: { type: "string", default: "16" },
    variant: { type: "string" },
  },
});
const frames = Number(values.frames);
const rounds = Number(values.rounds);
const size = Number(values.size);

/** One masked binary frame (RFC 6455 section 5.2) with a `size`-byte payload. */
function frame(index: number): Buffer {
  const key = [index & 0xff, 0x5a, 0xa5, (index >> 8) & 0xff];
  const header = Buffer.from([0x82, 0x80 | size, ...key]);
  const payload = Buffer.alloc(size, 0x61).map((byte, i) => byte ^ key[i % 4]!);
  return Buffer.concat([header, payload]);
}

/** The stream as 64 KiB reads, each ending on a frame boundary or not, as a socket cuts it. */
function reads(): Buffer[] {
  const one = Buffer.concat(Array.from({ length: 4096 }, (_, i) => frame(i)));
  const perBlock = 4096;
  const blocks = Math.ceil(frames / perBlock);
  const stream = Buffer.concat(Array.from({ length: blocks }, () => one));
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; at += 65536) out.push(stream.subarray(at, at + 65536));
  return out;
}

const UNREACHED: RateLimit = { messagesPerSecond: Infinity, bytesPerSecond: Infinity, burstMessages: Infinity, burstBytes: Infinity, action: "pause" };

let delivered = 0;
const sink: ConnectionEvents = {
  write: () => undefined,
  message: () => void delivered++,
  ping: () => undefined,
  pong: () => undefined,
  closeReceived: () => undefined,
  closeHandshakeComplete: () => undefined,
  failed: (code, message) => {
    throw new Error(`the benchmark stream failed with ${code}: ${message}`);
  },
};

function run(variant: "off" | "on", chunks: Buffer[]): number {
  const connection = new Connection(
    { role: "server", maxMessageBytes: 1 << 20, ...(variant === "on" ? { rateLimit: UNREACHED, clock: () => performance.now() } : {}) },
    sink,
  );
  delivered = 0;
  const started = process.hrtime.bigint();
  // The payloads are unmasked in place; a second pass masks them again, which parses the same.
  for (const chunk of chunks) connection.receive(chunk);
  const ns = Number(process.hrtime.bigint() - started);
  if (delivered < frames) throw new Error(`only ${delivered} of ${frames} frames were delivered`);
  return ns / delivered;
}

const chunks = reads();
const variants: Array<"off" | "on"> = values.variant === "on" || values.variant === "off" ? [values.variant] : ["off", "on"];
const results: Record<string, number[]> = { off: [], on: [] };
// Warm up both paths before measuring.
for (const variant of variants) run(variant, chunks);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const variant of order) results[variant]!.push(run(variant, chunks));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
for (const variant of variants) {
  const xs = results[variant]!;
  console.log(
    `rate limit ${variant}: ${median(xs).toFixed(1)} ns/frame (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}) over ${rounds} rounds of ${frames} ${size}-byte frames`,
  );
}
if (variants.length === 2) {
  // Other work on the machine only ever adds time: the fastest rounds are the least disturbed.
  const pairs = results.on!.map((on, i) => on - results.off![i]!);
  console.log(
    `on - off: ${(Math.min(...results.on!) - Math.min(...results.off!)).toFixed(2)} ns/frame between the fastest rounds, ${median(pairs).toFixed(2)} the median of paired rounds`,
  );
}
