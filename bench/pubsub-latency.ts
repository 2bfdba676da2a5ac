// End-to-end latency through two hawser pub/sub processes (bench/pubsub.ts runs it after each
// two-process fan-out run): one client on process A publishes a timestamped message at a
// steady rate, well below saturation; a client on process B, and the publisher itself on A,
// note when each arrives. Both clients live in this process, so one clock times both ends.
//
// Usage: node --import tsx bench/pubsub-latency.ts --a-port P --b-port Q [--count N] [--rate R]
// stdout: {"remote":{"p50Us":..,"p99Us":..},"local":{"p50Us":..,"p99Us":..},"received":N}
import { parseArgs } from "node:util";
import { connect } from "../src/index.js";

const { values } = parseArgs({
  options: {
    "a-port": { type: "string" },
    "b-port": { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    count: { type: "string", default: "1000" },
    rate: { type: "string", default: "500" },
    size: { type: "string", default: "64" },
  },
});
if (!values["a-port"] || !values["b-port"]) throw new Error("--a-port and --b-port are required");
const count = Number(values.count);
const intervalMs = 1000 / Number(values.rate);
const size = Number(values.size);
const PREFIX = "latency-probe ";

const publisher = await connect(`ws://${values.host}:${values["a-port"]}/`, { pingFrequency: 0 });
const remote = await connect(`ws://${values.host}:${values["b-port"]}/`, { pingFrequency: 0 });
const remoteUs: number[] = [];
const localUs: number[] = [];

function timing(into: number[]) {
  return (text: string): void => {
    if (!text.startsWith(PREFIX)) return;
    const sentAt = BigInt(text.slice(PREFIX.length, text.indexOf(" ", PREFIX.length)));
    into.push(Number(process.hrtime.bigint() - sentAt) / 1000);
  };
}
remote.ontextmessage = timing(remoteUs);
publisher.ontextmessage = timing(localUs);

// Let subscriptions settle (the bench servers subscribe each socket as it connects).
await new Promise((resolve) => setTimeout(resolve, 200));
for (let i = 0; i < count; i++) {
  const stamp = `${PREFIX}${process.hrtime.bigint()} `;
  publisher.send(stamp.padEnd(size, "x"));
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
const deadline = Date.now() + 5000;
while ((remoteUs.length < count || localUs.length < count) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

function percentiles(list: number[]): { p50Us: number; p99Us: number } {
  const sorted = [...list].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Us: Math.round(at(0.5)), p99Us: Math.round(at(0.99)) };
}
console.log(JSON.stringify({ remote: percentiles(remoteUs), local: percentiles(localUs), received: Math.min(remoteUs.length, localUs.length), sent: count }));
publisher.close();
remote.close();
setTimeout(() => process.exit(0), 100).unref();
