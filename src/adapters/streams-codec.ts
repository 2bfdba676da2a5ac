// What the Redis Streams adapter writes to Redis and reads back: the publish script, the
// metadata each stream entry carries, the live message pushed on the topic's channel, and
// the parsing of XRANGE / XREVRANGE replies.
import { Buffer } from "node:buffer";

/**
 * Appends one publish and announces it, atomically (Redis runs a script with nothing else in
 * between), so the channel carries the stream's entries in stream order:
 *   KEYS[1]  the topic's stream (its channel has the same name)
 *   ARGV[1]  MAXLEN ~ bound ("" for none)     ARGV[2]  entry metadata (see encodeMeta)
 *   ARGV[3]  payload                          ARGV[4]  max age in ms ("" for none)
 *   ARGV[5]  PUBLISH, or SPUBLISH on a cluster (the channel is in the key's slot)
 * The message pushed is metadata, the previous entry's ID and the new one's (each after a
 * length byte), then the payload: a reader that saw the previous ID knows it missed nothing.
 * Age trimming runs after the XADD, so the newest entry is always kept and "previous" exists.
 */
export const PUBLISH_SCRIPT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = ''
if #last > 0 then prev = last[1][1] end
local id
if ARGV[1] == '' then
  id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[2], 'd', ARGV[3])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[2], 'd', ARGV[3])
end
if ARGV[4] ~= '' then
  local now = redis.call('TIME')
  local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[4])
  if oldest > 0 then redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', oldest)) end
end
redis.call(ARGV[5], KEYS[1], ARGV[2] .. string.char(#prev) .. prev .. string.char(#id) .. id .. ARGV[3])
return id
`;

/** Metadata layout: version, flags, the publishing process's id, its publish sequence number. */
const META_VERSION = 0x51;
const FLAG_BINARY = 0x01;
export const PRODUCER_ID_BYTES = 8;
const SEQ_BYTES = 6;
export const META_BYTES = 2 + PRODUCER_ID_BYTES + SEQ_BYTES;

export interface EntryMeta {
  readonly binary: boolean;
  readonly producer: Buffer;
  readonly seq: number;
}

export function encodeMeta(producer: Buffer, seq: number, binary: boolean): Buffer {
  const meta = Buffer.allocUnsafe(META_BYTES);
  meta[0] = META_VERSION;
  meta[1] = binary ? FLAG_BINARY : 0;
  producer.copy(meta, 2);
  meta.writeUIntBE(seq, 2 + PRODUCER_ID_BYTES, SEQ_BYTES);
  return meta;
}

export function decodeMeta(bytes: Buffer, at = 0): EntryMeta | null {
  if (bytes.length - at < META_BYTES || bytes[at] !== META_VERSION) return null;
  return {
    binary: (bytes[at + 1]! & FLAG_BINARY) !== 0,
    producer: bytes.subarray(at + 2, at + 2 + PRODUCER_ID_BYTES),
    seq: bytes.readUIntBE(at + 2 + PRODUCER_ID_BYTES, SEQ_BYTES),
  };
}

/** The largest publish sequence number the metadata holds; the counter wraps to 1 after it. */
export const MAX_SEQ = 2 ** (8 * SEQ_BYTES) - 1;

/** A message pushed on a topic's channel. */
export interface LiveEntry {
  readonly meta: EntryMeta;
  /** The stream entry before this one ("" when the stream was empty). */
  readonly previous: string;
  readonly id: string;
  readonly payload: Buffer;
}

export function decodeLive(message: Buffer): LiveEntry | null {
  const meta = decodeMeta(message);
  if (meta === null) return null;
  let at = META_BYTES;
  const previousLength = message[at];
  if (previousLength === undefined || message.length < at + 1 + previousLength + 1) return null;
  const previous = message.toString("latin1", at + 1, at + 1 + previousLength);
  at += 1 + previousLength;
  const idLength = message[at]!;
  if (message.length < at + 1 + idLength) return null;
  const id = message.toString("latin1", at + 1, at + 1 + idLength);
  return { meta, previous, id, payload: message.subarray(at + 1 + idLength) };
}

/** One stream entry, as XRANGE gives it. */
export interface StoredEntry {
  readonly id: string;
  /** Null for an entry no hawser process wrote (it is skipped). */
  readonly meta: EntryMeta | null;
  readonly payload: Buffer;
}

/** Parses an XRANGE / XREVRANGE reply (RESP2 arrays; strings as Buffers). */
export function parseEntries(reply: unknown): StoredEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StoredEntry[] = [];
  for (const item of reply as unknown[]) {
    if (!Array.isArray(item) || item.length < 2) continue;
    const id = String(item[0]);
    const fields = item[1] as unknown[];
    let meta: EntryMeta | null = null;
    let payload: Buffer = EMPTY;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = String(fields[i]);
      const value = fields[i + 1];
      if (!Buffer.isBuffer(value)) continue;
      if (name === "m") meta = decodeMeta(value);
      else if (name === "d") payload = value;
    }
    entries.push({ id, meta, payload });
  }
  return entries;
}

/** The value of `name` in an XINFO STREAM reply (RESP2: a flat name/value array; RESP3: a map), as text. */
export function infoField(reply: unknown, name: string): string | undefined {
  let value: unknown;
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) if (String(reply[i]) === name) value = reply[i + 1];
  } else if (reply instanceof Map) value = reply.get(name);
  else if (typeof reply === "object" && reply !== null) value = (reply as Record<string, unknown>)[name];
  return Buffer.isBuffer(value) || typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

const EMPTY = Buffer.alloc(0);
