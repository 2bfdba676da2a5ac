// Where Node's built-in WebSocket (undici's) differs from Chromium's in the event-log scenario
// (pages/event-log-scenario.js). Each difference is named, says which undici versions have it,
// and rewrites Chromium's log into what undici logs; test/browser/event-log.test.ts applies the
// ones of the undici under test and then compares the logs value for value. None of them is
// hawser's doing: hawser/web gives Chromium's log unchanged, against the same server.
// When an undici release fixes one, the comparison fails on that Node line: narrow its range.

type LogEntry = unknown[];

export interface UndiciDifference {
  /** What undici does, in a sentence, with the upstream issue where there is one. */
  readonly name: string;
  /** Whether undici `major` (6 on Node 20 and 22, 7 on Node 24, 8 on Node 26) has it. */
  applies(major: number): boolean;
  /** Chromium's log, rewritten as undici logs it. */
  apply(log: readonly LogEntry[]): LogEntry[];
}

/** The labels of the scenario's connections that fail before they open. */
const FAILED_CONNECTIONS = ["refused", "404", "no protocol chosen"];
const CLOSED_WHILE_CONNECTING = "close while CONNECTING";
/** The text the scenario sends after close(), while CLOSING. */
const SENT_WHILE_CLOSING = "after close";

const isEntry = (entry: LogEntry, label: string, kind: string): boolean => entry[0] === label && entry[1] === kind;

function indexOf(log: readonly LogEntry[], label: string, kind: string): number {
  const index = log.findIndex((entry) => isEntry(entry, label, kind));
  if (index === -1) throw new Error(`Chromium's log has no ${JSON.stringify([label, kind])} entry: the scenario changed, update undici-differences.ts`);
  return index;
}

export const UNDICI_DIFFERENCES: readonly UndiciDifference[] = [
  {
    name: "send() while CLOSING does not count in bufferedAmount (the WHATWG send() steps add the bytes " + "of every call that does not throw; Chromium does)",
    applies: () => true,
    apply: (log) =>
      log.map((entry) => {
        // The snapshot's bufferedAmount: index 5 after the "after send while CLOSING" label, 9 in the close entry.
        const at = isEntry(entry, "echo", "after send while CLOSING") ? 5 : isEntry(entry, "echo", "close") ? 9 : -1;
        if (at === -1) return entry;
        const copy = [...entry];
        copy[at] = (copy[at] as number) - Buffer.byteLength(SENT_WHILE_CLOSING);
        return copy;
      }),
  },
  {
    name: "the error event is an ErrorEvent (with a message), where Chromium fires a plain Event",
    applies: () => true,
    apply: (log) => log.map((entry) => (entry[1] === "error" && entry[2] === "Event" ? [entry[0], "error", "ErrorEvent", ...entry.slice(3)] : entry)),
  },
  {
    name:
      "a connection that fails before it opens fires error while readyState is still CONNECTING, and " +
      "never close (nodejs/undici#3546, fixed in undici 7); close() while CONNECTING fires error before " +
      "it returns, then error again, and no close",
    applies: (major) => major <= 6,
    apply: (log) => {
      const out: LogEntry[] = [];
      for (const entry of log) {
        const [label, kind] = entry as [string, string];
        if (FAILED_CONNECTIONS.includes(label) && kind === "error") out.push([label, "error", entry[2], 0]);
        else if (FAILED_CONNECTIONS.includes(label) && kind === "close") out.push([label, "no close event", 0]);
        else if (label === CLOSED_WHILE_CONNECTING && kind === "after close()") out.push([label, "error", "ErrorEvent", 0], entry);
        else if (label === CLOSED_WHILE_CONNECTING && kind === "error") out.push([label, "error", entry[2], 2]);
        else if (label === CLOSED_WHILE_CONNECTING && kind === "close") out.push([label, "no close event", 2]);
        else out.push(entry);
      }
      return out;
    },
  },
  {
    name:
      "close() while CONNECTING fires error and close before it returns (the WHATWG steps queue them as " +
      "tasks); readyState, CLOSED in both handlers, reads CLOSING again once close() returns",
    applies: (major) => major >= 7,
    apply: (log) => {
      const out = [...log];
      const [afterClose] = out.splice(indexOf(out, CLOSED_WHILE_CONNECTING, "after close()"), 1);
      out.splice(indexOf(out, CLOSED_WHILE_CONNECTING, "close") + 1, 0, afterClose!);
      return out;
    },
  },
];

/** The differences undici `version` ("7.30.2") has, in the order they apply. */
export function undiciDifferences(version: string): UndiciDifference[] {
  const major = Number(version.split(".")[0]);
  return UNDICI_DIFFERENCES.filter((difference) => difference.applies(major));
}

/**
 * TCP connections undici leaves open once the scenario is over: from undici 7 on, the one whose
 * handshake answer chose no subprotocol (the client fails it, fires error and close, but never
 * closes the socket: the server holds it until the client process exits).
 */
export function undiciLingeringSockets(version: string): number {
  return Number(version.split(".")[0]) >= 7 ? 1 : 0;
}
