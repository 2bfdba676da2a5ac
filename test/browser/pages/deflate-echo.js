// Runs in Chromium: opens a WebSocket, sends each planned message and waits for its echo,
// and reports what the browser saw. Payloads are made here from a seed, so the test does not
// ship megabytes into the page; their SHA-256 lets the server check what it received.

/** A small deterministic generator (a 32-bit LCG): the same seed gives the same payload. */
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 8;
  };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * "text": JSON-like records (compresses well); "binary": runs of repeated bytes (compresses
 * well); "noise": random base64 characters (compresses only to about 3/4, so a second copy
 * compressed with the first still in the window shows up as a much shorter frame).
 */
export function makePayload(kind, size, seed) {
  const next = generator(seed);
  if (kind === "binary") {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size;) {
      const value = next() & 0xff;
      const run = 1 + (next() % 12);
      for (let k = 0; k < run && i < size; k++) bytes[i++] = value;
    }
    return bytes;
  }
  let text = "";
  if (kind === "noise") {
    while (text.length < size) text += ALPHABET[next() % 64];
    return text;
  }
  while (text.length < size) text += `{"id":${next() % 1000},"name":"user${next() % 50}","ok":true},`;
  return text.slice(0, size);
}

async function sha256(data) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function equal(sent, received) {
  if (typeof sent === "string") return sent === received;
  if (!(received instanceof ArrayBuffer) || received.byteLength !== sent.length) return false;
  const bytes = new Uint8Array(received);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== sent[i]) return false;
  return true;
}

/**
 * @param {string} url the echo endpoint
 * @param {Array<{ kind: "text" | "binary" | "noise", size: number, seed: number }>} plan
 */
export async function deflateEcho(url, plan) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const inbox = [];
  let wake = null;
  let closed = null;
  ws.onmessage = (event) => {
    inbox.push(event.data);
    wake?.();
  };
  ws.onclose = (event) => {
    closed = { code: event.code, reason: event.reason, wasClean: event.wasClean };
    wake?.();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`could not connect to ${url}`));
  });
  const extensions = ws.extensions;
  const results = [];
  for (const { kind, size, seed } of plan) {
    const payload = makePayload(kind, size, seed);
    ws.send(payload);
    while (inbox.length === 0 && !closed) await new Promise((resolve) => (wake = resolve));
    const echo = inbox.shift();
    results.push({ kind, size, sha256: await sha256(payload), echoed: echo !== undefined && equal(payload, echo) });
  }
  ws.close(1000, "done");
  while (!closed) await new Promise((resolve) => (wake = resolve));
  return { extensions, results, close: closed };
}
