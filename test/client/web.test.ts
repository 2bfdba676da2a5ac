// hawser/web: the WHATWG WebSocket. Expected values below were checked against Chromium's own
// WebSocket (headless, same scenarios, same servers) while this was written; the automated
// side-by-side comparison lives in the browser tests.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, describe, test } from "node:test";
import { CloseEvent, WebSocket } from "../../src/web.js";
import { echoHandler } from "../../src/cli/echo.js";
import { startServer } from "../helpers/server.js";
import { withTimeout } from "../helpers/wait.js";
import { encodeFrame } from "../helpers/frames.js";
import { httpResponse, startRawServer } from "./raw-server.js";

const echo = await startServer(echoHandler(), { pingIntervalMs: 0 });
after(() => echo.close());

/** A raw server whose behaviour is chosen by the request path. */
const raw = await startRawServer((connection) => {
  const path = connection.request.path;
  const protocol = connection.request.headers["sec-websocket-protocol"];
  switch (path) {
    case "/404":
      connection.socket.end(httpResponse("404 Not Found", [], "nope"));
      return;
    case "/hang":
      return;
    case "/reset":
      connection.accept();
      setTimeout(() => connection.socket.resetAndDestroy(), 20);
      return;
    case "/bad-utf8":
      connection.accept();
      connection.sendFrame({ opcode: 1, payload: Buffer.from([0xff, 0xfe]) });
      return;
    case "/flood":
      // Ten messages in one TCP write: the client closes at the third, the rest are already in.
      connection.accept();
      connection.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => encodeFrame({ opcode: 1, payload: `m${i}`, mask: false }))));
      break;
    case "/echo?blob":
      connection.accept();
      break;
    case "/close-empty":
      connection.accept();
      connection.sendFrame({ opcode: 8 });
      break;
    default:
      connection.accept(protocol ? [`Sec-WebSocket-Protocol: ${protocol.split(",")[0]!.trim()}`] : []);
  }
  // Answer a client's close frame with the same payload, then end (as a server does).
  const watch = setInterval(() => {
    const close = connection.frames.find((frame) => frame.opcode === 8);
    if (!close && !connection.socket.destroyed) return;
    clearInterval(watch);
    if (close && !connection.socket.destroyed) {
      if (path !== "/close-empty") connection.sendFrame({ opcode: 8, payload: close.payload });
      connection.socket.end();
    }
  }, 5);
});
after(() => raw.close());

/** Runs until the close event, recording every event. */
function record(ws: WebSocket, log: string[], onOpen?: () => void): Promise<string[]> {
  return withTimeout(
    new Promise<string[]>((resolve) => {
      ws.onopen = () => {
        log.push(`open rs=${ws.readyState}`);
        onOpen?.();
      };
      ws.onmessage = (event) => log.push(`message ${describeData((event as MessageEvent).data)}`);
      ws.onerror = (event) => log.push(`error rs=${ws.readyState} ${event.constructor.name}`);
      ws.onclose = (event) => {
        const close = event as CloseEvent;
        log.push(`close ${close.code} ${JSON.stringify(close.reason)} ${close.wasClean} rs=${ws.readyState}`);
        resolve(log);
      };
    }),
    5000,
    "the close event",
  );
}

function describeData(data: unknown): string {
  if (typeof data === "string") return `text:${data}`;
  if (data instanceof ArrayBuffer) return `arraybuffer:${Buffer.from(data).toString("hex")}`;
  if (data instanceof Blob) return `blob:${data.size}`;
  if (Buffer.isBuffer(data)) return `nodebuffer:${data.toString("hex")}`;
  return `other:${Object.prototype.toString.call(data)}`;
}

describe("new WebSocket(url, protocols)", () => {
  test("throws SyntaxError DOMExceptions for bad URLs and protocols, as a browser does", () => {
    const syntaxErrors: Array<[unknown, unknown?]> = [
      ["ftp://x/"],
      ["ws://x/#frag"],
      ["ws://x/#"],
      ["not a url"],
      ["/relative"],
      ["ws+unix:/tmp/s.sock"],
      ["ws://x/", ["a", "a"]],
      ["ws://x/", ["a b"]],
      ["ws://x/", [""]],
      ["ws://x/", "a,b"],
      ["ws://x/", ["é"]],
    ];
    for (const [url, protocols] of syntaxErrors) {
      assert.throws(
        () => new WebSocket(url as string, protocols as string[]),
        (error: unknown) => error instanceof DOMException && error.name === "SyntaxError" && error.code === 12,
        `new WebSocket(${JSON.stringify(url)}, ${JSON.stringify(protocols)})`,
      );
    }
    assert.throws(() => new (WebSocket as unknown as new () => WebSocket)(), TypeError);
  });

  test("maps http(s) to ws(s), serializes the URL, converts protocols as WebIDL does", () => {
    const sockets = [
      new WebSocket("http://x:80/p?q"),
      new WebSocket("https://x:443/"),
      new WebSocket("wss://[::1]:8080/a b"),
      new WebSocket("ws://x/", null as unknown as string),
      new WebSocket("ws://x/", ["A", "a"]),
      new WebSocket(new URL("ws://x/%23")),
    ];
    assert.deepEqual(
      sockets.map((ws) => ws.url),
      ["ws://x/p?q", "wss://x/", "wss://[::1]:8080/a%20b", "ws://x/", "ws://x/", "ws://x/%23"],
    );
    for (const ws of sockets) {
      ws.onerror = () => undefined;
      ws.close();
    }
  });

  test("constants, defaults, binaryType and event handler attributes", async () => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const ws = new WebSocket(`${echo.url}/`);
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.protocol, "");
    assert.equal(ws.extensions, "");
    assert.equal(ws.binaryType, "blob", "the browser's default");
    ws.binaryType = "bogus" as "blob";
    assert.equal(ws.binaryType, "blob", "invalid values are ignored");
    ws.binaryType = "nodebuffer";
    assert.equal(ws.binaryType, "nodebuffer");
    assert.equal(Object.prototype.toString.call(ws), "[object WebSocket]");
    assert.ok(ws instanceof EventTarget);
    assert.deepEqual([ws.onopen, ws.onmessage, ws.onerror, ws.onclose], [null, null, null, null]);
    ws.onopen = 5 as unknown as null;
    assert.equal(ws.onopen, null, "non-functions become null");

    // A handler keeps the place where it was first set, even when replaced.
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      ws.addEventListener("open", () => log.push("listener 1"));
      ws.onopen = () => log.push("handler A");
      ws.addEventListener("open", () => {
        log.push("listener 2");
        resolve();
      });
      ws.onopen = function (this: WebSocket) {
        log.push(`handler B this=${this === ws}`);
      };
    });
    assert.deepEqual(log, ["listener 1", "handler B this=true", "listener 2"]);
    ws.onopen = null;
    assert.equal(ws.onopen, null);
    const closed = new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
    ws.close();
    await closed;
  });

  test("CloseEvent has the browser's shape", () => {
    const event = new CloseEvent("close", { code: 4000, reason: "r", wasClean: true });
    assert.ok(event instanceof Event);
    assert.deepEqual([event.type, event.code, event.reason, event.wasClean], ["close", 4000, "r", true]);
    const empty = new CloseEvent("close");
    assert.deepEqual([empty.code, empty.reason, empty.wasClean], [0, "", false]);
  });
});

describe("events, in the browser's order", () => {
  test("open, messages with every binaryType, client close() without a code → 1005", async () => {
    const ws = new WebSocket(`${echo.url}/`);
    const log: string[] = [];
    let count = 0;
    ws.addEventListener("message", () => {
      count++;
      if (count === 2) {
        ws.send(new Uint8Array([1, 2]));
        ws.send(new Uint8Array([3, 4, 5, 6]).buffer);
        ws.send(new Blob(["blob!"]));
        ws.send(new DataView(new Uint8Array([9]).buffer));
      }
      if (count === 3) ws.binaryType = "arraybuffer";
      if (count === 4) ws.binaryType = "nodebuffer";
      if (count === 6) ws.close();
    });
    const done = record(ws, log);
    await done;
    assert.deepEqual(log, [
      "open rs=1",
      "message text:hello",
      "message text: world!",
      "message blob:2",
      "message arraybuffer:03040506",
      "message nodebuffer:626c6f6221",
      "message nodebuffer:09",
      'close 1005 "" true rs=3',
    ]);
  });

  test("MessageEvent carries the URL's origin", async () => {
    const ws = new WebSocket(`${echo.url}/`);
    const event = await new Promise<MessageEvent>((resolve) => (ws.onmessage = (e) => resolve(e as MessageEvent)));
    assert.ok(event instanceof MessageEvent);
    assert.equal(event.origin, echo.url);
    assert.equal(event.data, "hello");
    ws.close();
  });

  test("close(code, reason) gets the server's answer in the close event", async () => {
    const ws = new WebSocket(`${raw.url}/echo`);
    const log = await record(ws, [], () => ws.close(3000, "bye"));
    assert.deepEqual(log, ["open rs=1", 'close 3000 "bye" true rs=3']);
  });

  test("a server's close frame without a code gives 1005", async () => {
    const log = await record(new WebSocket(`${raw.url}/close-empty`), []);
    assert.deepEqual(log, ["open rs=1", 'close 1005 "" true rs=3']);
  });

  for (const [path, what] of [
    ["/404", "an HTTP error"],
    ["/no-protocol", "subprotocols offered, none chosen by the server"],
  ] as const) {
    test(`a failed handshake (${what}): error, then close 1006, both with readyState CLOSED`, async () => {
      const ws = path === "/404" ? new WebSocket(`${raw.url}${path}`) : new WebSocket(`${echo.url}/`, ["unoffered-by-server"]);
      const log = await record(ws, []);
      assert.deepEqual(log, ["error rs=3 Event", 'close 1006 "" false rs=3']);
    });
  }

  test("a refused TCP connection: error, then close 1006", async () => {
    const server = await startRawServer(() => undefined);
    const port = server.port;
    await server.close();
    const log = await record(new WebSocket(`ws://127.0.0.1:${port}/`), []);
    assert.deepEqual(log, ["error rs=3 Event", 'close 1006 "" false rs=3']);
  });

  test("close() while CONNECTING: readyState CLOSING, then error and close 1006", async () => {
    const ws = new WebSocket(`${raw.url}/hang`);
    const log: string[] = [];
    const done = record(ws, log);
    ws.close();
    log.push(`after close rs=${ws.readyState}`);
    ws.close();
    await done;
    assert.deepEqual(log, ["after close rs=2", "error rs=3 Event", 'close 1006 "" false rs=3']);
  });

  test("a protocol violation by the server: error, then close 1006", async () => {
    const log = await record(new WebSocket(`${raw.url}/bad-utf8`), []);
    assert.deepEqual(log, ["open rs=1", "error rs=3 Event", 'close 1006 "" false rs=3']);
  });

  test("a connection reset after open: close 1006 without an error event (as Chromium)", async () => {
    const log = await record(new WebSocket(`${raw.url}/reset`), []);
    assert.deepEqual(log, ["open rs=1", 'close 1006 "" false rs=3']);
  });

  test("messages that arrive after close() are not delivered", async () => {
    const ws = new WebSocket(`${raw.url}/flood`);
    let count = 0;
    const log: string[] = [];
    ws.onmessage = () => {
      count++;
      if (count === 3) {
        ws.close(1000);
        log.push(`closed at 3 rs=${ws.readyState}`);
      }
    };
    await new Promise<void>((resolve) => {
      ws.onclose = (event) => {
        log.push(`close ${(event as CloseEvent).code} count=${count}`);
        resolve();
      };
    });
    assert.deepEqual(log, ["closed at 3 rs=2", "close 1000 count=3"]);
  });

  test("the subprotocol the server chose is `protocol` once open", async () => {
    const ws = new WebSocket(`${raw.url}/echo`, ["chat", "other"]);
    await new Promise((resolve) => (ws.onopen = resolve));
    assert.equal(ws.protocol, "chat");
    ws.close();
  });
});

describe("send(), close() and bufferedAmount", () => {
  test("send() while CONNECTING throws InvalidStateError; send() without arguments throws TypeError", () => {
    const ws = new WebSocket(`${raw.url}/hang`);
    ws.onerror = () => undefined;
    assert.throws(
      () => ws.send("x"),
      (e: unknown) => e instanceof DOMException && e.name === "InvalidStateError" && e.code === 11,
    );
    assert.throws(() => (ws.send as () => void)(), TypeError);
    ws.close();
  });

  test("close() argument checks: InvalidAccessError for codes, SyntaxError for long reasons (Chromium's conversions)", async () => {
    const ws = new WebSocket(`${echo.url}/`);
    await new Promise((resolve) => (ws.onopen = resolve));
    const invalidAccess = [999, 1001, 2999, 5000, 1005, 65536, -1, "abc", null, NaN, true, 999.9, 2999.99, Infinity];
    for (const code of invalidAccess) {
      assert.throws(
        () => ws.close(code as number),
        (e: unknown) => e instanceof DOMException && e.name === "InvalidAccessError" && e.code === 15,
        `close(${String(code)})`,
      );
    }
    assert.throws(
      () => ws.close(undefined, "reason without code"),
      (e: unknown) => e instanceof DOMException && e.name === "InvalidAccessError",
    );
    assert.throws(() => ws.close(3003n as unknown as number), TypeError);
    for (const reason of ["x".repeat(124), "é".repeat(62)]) {
      assert.throws(
        () => ws.close(1000, reason),
        (e: unknown) => e instanceof DOMException && e.name === "SyntaxError",
      );
    }
    assert.equal(ws.readyState, WebSocket.OPEN, "nothing was closed by the failed calls");
    ws.close(4999.9, "é".repeat(61) + "x"); // 123 bytes; the code is truncated to 4999
    const event = await new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => resolve(e as CloseEvent)));
    assert.equal(event.code, 4999);
  });

  test("bufferedAmount counts UTF-8 bytes until sent, and keeps growing with sends after close()", async () => {
    const ws = new WebSocket(`${echo.url}/`);
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.send("héllo");
    assert.equal(ws.bufferedAmount, 6);
    ws.send(new Uint8Array(10));
    assert.equal(ws.bufferedAmount, 16);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(ws.bufferedAmount, 0, "everything has been handed to the network");
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    ws.send("discarded");
    ws.send(new Blob(["12345"]));
    assert.equal(ws.bufferedAmount, 14);
    await new Promise((resolve) => (ws.onclose = resolve));
    assert.equal(ws.bufferedAmount, 14);
    ws.send("more");
    assert.equal(ws.bufferedAmount, 18);
  });

  test("a Blob is sent in order with the messages around it, and close() waits for it", async () => {
    const ws = new WebSocket(`${raw.url}/echo?blob`);
    await new Promise<void>((resolve) => {
      ws.onopen = () => {
        ws.send("before");
        ws.send(new Blob(["in a blob"]));
        ws.send("after");
        ws.close(1000);
      };
      ws.onclose = () => resolve();
    });
    const connection = raw.connections.find((c) => c.request.path === "/echo?blob")!;
    assert.deepEqual(
      connection.frames.map((frame) => `${frame.opcode}:${frame.payload.subarray(frame.opcode === 8 ? 2 : 0).toString()}`),
      ["1:before", "2:in a blob", "1:after", "8:"],
    );
  });

  test("dispatchEvent works for user events", () => {
    const ws = new WebSocket(`${raw.url}/hang`);
    ws.onerror = () => undefined;
    let seen = 0;
    ws.addEventListener("custom", () => seen++);
    assert.equal(ws.dispatchEvent(new Event("custom")), true);
    assert.equal(seen, 1);
    ws.close();
  });
});
