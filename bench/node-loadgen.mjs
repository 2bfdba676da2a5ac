// A load generator in JavaScript, for what the C one (bench/loadgen.c) cannot do: speak
// permessage-deflate (it has no zlib), and measure a WebSocket *client* library as the load.
// Used by bench/deflate.ts and bench/client.ts; run pinned to its own CPU by them.
//
//   node bench/node-loadgen.mjs --port N --client ws|hawser|hawser-ws [--deflate] --connections K
//     --inflight M --size BYTES [--opcode text|binary] [--greeting G] [--warmup S]
//     [--duration S] [--server-pid PID]
//
// Each connection keeps M messages in flight and checks every echo byte for byte, in order.
// The first G messages of each connection are the server's greeting and are skipped. With
// --deflate every connection must have negotiated permessage-deflate; without it none may.
// Measurement starts once every connection is open and greeted, after the warmup. With
// --server-pid the server's CPU (utime+stime) and socket bytes (rchar+wchar from /proc/PID/io:
// Node reads and writes sockets with read/write/writev, which those count) are read at the
// window's edges here, so they cover exactly the counted messages.
// Prints one JSON line; exit status 1 when anything went wrong.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    path: { type: "string", default: "/" },
    client: { type: "string", default: "ws" },
    deflate: { type: "boolean", default: false },
    connections: { type: "string", default: "10" },
    inflight: { type: "string", default: "1" },
    size: { type: "string", default: "1024" },
    opcode: { type: "string", default: "text" },
    greeting: { type: "string", default: "0" },
    warmup: { type: "string", default: "1" },
    duration: { type: "string", default: "3" },
    "server-pid": { type: "string" },
  },
});

if (!values.port) {
  console.error("--port is required");
  process.exit(2);
}
const CONNECTIONS = Number(values.connections);
const INFLIGHT = Number(values.inflight);
const SIZE = Number(values.size);
const BINARY = values.opcode === "binary";
const GREETING = Number(values.greeting);
const SERVER_PID = values["server-pid"] ? Number(values["server-pid"]) : undefined;
const URL_ = `ws://${values.host}:${values.port}${values.path}`;
const POOL_SIZE = 64;

// ---- payloads: JSON-like records, distinct per message (a repeated message would compress to
// a back-reference and flatter deflate), deterministic so every run sends the same bytes.
let seed = 0x2545f491;
function rand(n) {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const EVENTS = ["click", "view", "scroll", "purchase", "login", "logout", "search", "share"];
const COUNTRIES = ["DE", "FR", "US", "JP", "BR", "IN", "GB", "NL", "SE", "ES"];
function record() {
  return JSON.stringify({
    id: 100000 + rand(900000),
    user: `user_${rand(50000)}`,
    event: EVENTS[rand(EVENTS.length)],
    ts: 1732500000000 + rand(86400000),
    country: COUNTRIES[rand(COUNTRIES.length)],
    score: rand(10000) / 100,
    tags: [`t${rand(40)}`, `t${rand(40)}`],
    ok: rand(2) === 1,
  });
}
function payload(size) {
  let s = "[";
  while (s.length < size) s += (s.length > 1 ? "," : "") + record();
  return s.slice(0, size); // ASCII, so string length = byte length
}
const poolText = Array.from({ length: POOL_SIZE }, () => payload(SIZE));
const poolBuf = poolText.map((t) => Buffer.from(t, "latin1"));

// ---- process measurements
const TICKS = 100; // USER_HZ
function serverCpuS() {
  if (SERVER_PID === undefined) return 0;
  const stat = readFileSync(`/proc/${SERVER_PID}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICKS;
}
function serverIoBytes() {
  if (SERVER_PID === undefined) return 0;
  try {
    const io = readFileSync(`/proc/${SERVER_PID}/io`, "utf8");
    const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, "m").exec(io)?.[1] ?? 0);
    return get("rchar") + get("wchar");
  } catch {
    return Number.NaN; // not readable here: wire bytes are left out
  }
}
function selfCpuS() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// ---- counters
const c = { completed: 0, echoErrors: 0, protocolErrors: 0, connectErrors: 0, closed: 0, negotiation: 0, greetingMissing: 0 };
let stopping = false;

/**
 * One connection's pacing: `expected` is a ring of the pool indices in flight, in send order.
 * `send(i)` sends pool entry i; `onEcho(matches)` is called by the client adapter.
 */
function makeLane(id, send) {
  const expected = new Int32Array(INFLIGHT);
  let head = 0;
  let count = 0;
  let next = id * 7;
  let greetLeft = GREETING;
  const lane = {
    start() {
      for (let i = 0; i < INFLIGHT; i++) lane.sendOne();
    },
    sendOne() {
      const i = next++ % POOL_SIZE;
      expected[(head + count) % INFLIGHT] = i;
      count++;
      send(i);
    },
    /** Called with a check function that compares the message with pool entry i. */
    received(isBinary, equalsEntry) {
      if (greetLeft > 0) {
        greetLeft--;
        if (greetLeft === 0) onGreeted();
        return;
      }
      if (count === 0 || isBinary !== BINARY) {
        c.protocolErrors++;
        return;
      }
      const i = expected[head];
      head = (head + 1) % INFLIGHT;
      count--;
      if (!equalsEntry(i)) c.echoErrors++;
      c.completed++;
      if (!stopping) lane.sendOne();
    },
  };
  return lane;
}

/** A client on ws's API: `ws` itself, or hawser's drop-in for it (`hawser/ws`), with the same code. */
async function openWs(id, specifier = "ws") {
  const { WebSocket } = await import(specifier);
  return new Promise((resolve) => {
    const ws = new WebSocket(URL_, { perMessageDeflate: values.deflate });
    const lane = makeLane(id, BINARY ? (i) => ws.send(poolBuf[i]) : (i) => ws.send(poolText[i]));
    ws.on("message", (data, isBinary) => lane.received(isBinary, (i) => poolBuf[i].equals(data)));
    ws.on("open", () => {
      checkNegotiated(ws.extensions);
      resolve({ lane, close: () => ws.terminate() });
    });
    ws.on("error", () => {
      if (ws.readyState === ws.CONNECTING) c.connectErrors++;
      resolve(undefined);
    });
    ws.on("close", () => {
      if (!stopping) c.closed++;
    });
  });
}

async function openHawser(id) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const { connect } = await import(path.join(root, "dist", "index.js"));
  let socket;
  try {
    // pingFrequency 0: no keepalive pings, as ws's client sends none either.
    socket = await connect(URL_, { perMessageDeflate: values.deflate, pingFrequency: 0 });
  } catch {
    c.connectErrors++;
    return undefined;
  }
  checkNegotiated(socket.extensions);
  const lane = makeLane(id, BINARY ? (i) => socket.send(poolBuf[i]) : (i) => socket.send(poolText[i]));
  socket.ontextmessage = (text) => lane.received(false, (i) => text === poolText[i]);
  socket.onbinarymessage = (data) => lane.received(true, (i) => poolBuf[i].equals(data));
  socket.onclose = () => {
    if (!stopping) c.closed++;
  };
  socket.onerror = () => {};
  return { lane, close: () => socket.terminate() };
}

function checkNegotiated(extensions) {
  const has = /permessage-deflate/.test(extensions ?? "");
  if (has !== values.deflate) c.negotiation++;
}

let greeted = 0;
let onAllGreeted = () => {};
function onGreeted() {
  if (++greeted === CONNECTIONS) onAllGreeted();
}

const CLIENTS = { ws: (id) => openWs(id, "ws"), "hawser-ws": (id) => openWs(id, "hawser/ws"), hawser: openHawser };
const open = Object.hasOwn(CLIENTS, values.client) ? CLIENTS[values.client] : undefined;
if (!open) {
  console.error(`--client must be one of ${Object.keys(CLIENTS).join(", ")}, not ${values.client}`);
  process.exit(2);
}

const allGreeted = new Promise((resolve) => (onAllGreeted = resolve));
if (GREETING === 0) greeted = CONNECTIONS;
const conns = (await Promise.all(Array.from({ length: CONNECTIONS }, (_, id) => open(id)))).filter(Boolean);
const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));

let result;
if (conns.length < CONNECTIONS) {
  result = { opened: conns.length, messages: 0 };
} else {
  if (GREETING === 0) onAllGreeted();
  const timedOut = await Promise.race([allGreeted.then(() => false), sleep(10).then(() => true)]);
  if (timedOut) c.greetingMissing = CONNECTIONS - greeted; // wrong --greeting for this server
  for (const conn of conns) conn.lane.start();
  await sleep(Number(values.warmup));
  const t0 = process.hrtime.bigint();
  const m0 = c.completed;
  const g0 = selfCpuS();
  const s0 = serverCpuS();
  const io0 = serverIoBytes();
  await sleep(Number(values.duration));
  const t1 = process.hrtime.bigint();
  const m1 = c.completed;
  const g1 = selfCpuS();
  const s1 = serverCpuS();
  const io1 = serverIoBytes();
  stopping = true;
  const seconds = Number(t1 - t0) / 1e9;
  const messages = m1 - m0;
  result = {
    opened: conns.length,
    messages,
    seconds,
    msgs_per_s: messages / seconds,
    mb_per_s: (messages * SIZE) / seconds / 1e6,
    gen_cpu: (g1 - g0) / seconds,
    gen_cpu_s: g1 - g0,
    server_cpu_s: s1 - s0,
    wire_bytes: io1 - io0,
  };
}
for (const conn of conns) conn.close();
const errors = c.echoErrors + c.protocolErrors + c.connectErrors + c.closed + c.negotiation + c.greetingMissing;
console.log(
  JSON.stringify({
    client: values.client,
    deflate: values.deflate,
    connections: CONNECTIONS,
    inflight: INFLIGHT,
    size: SIZE,
    ...result,
    echo_errors: c.echoErrors,
    protocol_errors: c.protocolErrors,
    connect_errors: c.connectErrors,
    closed_by_server: c.closed,
    negotiation_errors: c.negotiation,
    greeting_missing: c.greetingMissing,
    errors,
    gen_cpu_total_s: selfCpuS(),
  }),
);
process.exit(errors > 0 || result.messages === 0 ? 1 : 0);
