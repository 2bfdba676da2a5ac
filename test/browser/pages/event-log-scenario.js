// One scenario, run twice against the same hawser server: in headless Chromium with the
// browser's own WebSocket, and in Node with hawser/web's. It returns an event log of plain
// values (no objects, no timestamps), so the two runs can be compared with deepEqual.
//
// Plain JavaScript on purpose: the browser loads this file as it is (a module served by the
// test's hawser server), and Node imports the very same file.

/**
 * @param {typeof WebSocket} WebSocketClass the constructor under test
 * @param {{ echo: string, echoNoProtocol: string, serverClose: string, notFound: string, refused: string, hang: string }} urls
 * @param {{ closeAfterErrorMs?: number }} [options] closeAfterErrorMs: for a WebSocket known to
 *   fire no `close` after a failed connection (undici 6), how long to wait for it after `error`
 *   before logging ["no close event", readyState] and going on; without it the scenario waits.
 * @returns {Promise<unknown[][]>}
 */
export async function eventLogScenario(WebSocketClass, urls, options = {}) {
  const log = [];
  /** Blob reads in flight: each fills in its own log entry, so the order stays the order of events. */
  const reads = [];

  const snapshot = (ws) => [ws.readyState, ws.protocol, ws.extensions, ws.bufferedAmount, ws.binaryType];
  const bytesSummary = (bytes) => {
    let sum = 0;
    for (let i = 0; i < bytes.length; i++) sum = (sum * 31 + bytes[i]) >>> 0;
    return [bytes.length, Array.from(bytes.subarray(0, 8)).join(","), sum];
  };
  /** Appends a description of message data to a log entry; a Blob's bytes are added once read. */
  const describe = (data, entry) => {
    if (typeof data === "string") entry.push("text", data.length, data.slice(0, 16));
    else if (data instanceof ArrayBuffer) entry.push("arraybuffer", ...bytesSummary(new Uint8Array(data)));
    else if (typeof Blob !== "undefined" && data instanceof Blob) {
      entry.push("blob", data.size, data.type);
      reads.push(data.arrayBuffer().then((buffer) => entry.push("read:", ...bytesSummary(new Uint8Array(buffer)))));
    } else entry.push("unexpected", Object.prototype.toString.call(data));
    return entry;
  };
  const attempt = (what, action) => {
    try {
      action();
      log.push([what, "no exception"]);
    } catch (error) {
      log.push([what, "threw", error.name, error instanceof DOMException]);
    }
  };
  /** Logs every event of one connection; resolves at `close`. `onMessage` may drive the conversation. */
  const watch = (label, ws, onOpen, onMessage) =>
    new Promise((resolve) => {
      let count = 0;
      ws.onopen = (event) => {
        log.push([label, "open", event.type, event.constructor.name, ...snapshot(ws)]);
        onOpen?.(ws);
      };
      ws.onmessage = (event) => {
        count++;
        log.push(describe(event.data, [label, "message", count, event.constructor.name, event.origin, event.lastEventId, event.ports.length, ws.readyState]));
        onMessage?.(ws, count);
      };
      let noClose;
      ws.onerror = (event) => {
        log.push([label, "error", event.constructor.name, ws.readyState]);
        if (options.closeAfterErrorMs !== undefined && noClose === undefined) {
          noClose = setTimeout(() => {
            log.push([label, "no close event", ws.readyState]);
            resolve();
          }, options.closeAfterErrorMs);
        }
      };
      ws.onclose = (event) => {
        clearTimeout(noClose);
        log.push([label, "close", event.constructor.name, event.code, event.reason, event.wasClean, ...snapshot(ws)]);
        resolve();
      };
    });
  const pattern = (size, step) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * step) & 0xff;
    return bytes;
  };
  const words = (size) => {
    let text = "";
    for (let i = 0; text.length < size; i++) text += `word${i % 50} `;
    return text.slice(0, size);
  };

  // --- exceptions from the constructor --------------------------------------------------------
  for (const [url, protocols] of [
    ["ftp://127.0.0.1/", undefined],
    ["ws://[::1", undefined],
    [urls.echo, ["chat", "chat"]],
    [urls.echo, ["has space"]],
  ]) {
    attempt(`new WebSocket(${JSON.stringify(url)}, ${JSON.stringify(protocols)})`, () => new WebSocketClass(url, protocols));
  }
  log.push(["constants", WebSocketClass.CONNECTING, WebSocketClass.OPEN, WebSocketClass.CLOSING, WebSocketClass.CLOSED]);

  // --- echo: send and receive text and binary, binaryType, bufferedAmount, client-initiated close ---
  {
    const ws = new WebSocketClass(urls.echo, ["chat", "superchat"]);
    log.push(["echo", "constructed", ws.url, ...snapshot(ws)]);
    attempt("send while CONNECTING", () => ws.send("too early"));
    const big = words(100_000);
    const binary = pattern(70_000, 7);
    await watch(
      "echo",
      ws,
      () => {
        ws.send("hello");
        log.push(["echo", "bufferedAmount after text", ws.bufferedAmount]);
        ws.send(new Uint8Array([1, 2, 3]));
        ws.send(new Uint8Array([0, 255, 7, 8]).buffer);
        ws.send(new Uint8Array([9, 9, 9, 9, 9, 9]).subarray(2, 5));
        ws.send(new Blob(["blob ", "parts"]));
        log.push(["echo", "bufferedAmount after binary", ws.bufferedAmount]);
      },
      (_, count) => {
        if (count === 5) {
          ws.binaryType = "arraybuffer";
          ws.send(binary);
          ws.send(big);
          log.push(["echo", "bufferedAmount after 170 kB", ws.bufferedAmount, ws.binaryType]);
        } else if (count === 7) {
          attempt("close(1001)", () => ws.close(1001));
          attempt("close(1000, 124 bytes)", () => ws.close(1000, "x".repeat(124)));
          ws.close(1000, "client done");
          log.push(["echo", "after close()", ...snapshot(ws)]);
          ws.send("after close");
          log.push(["echo", "after send while CLOSING", ...snapshot(ws)]);
          attempt("second close()", () => ws.close(3000));
        }
      },
    );
  }

  // --- the server starts the closing handshake, with a code and a reason ------------------------
  {
    const ws = new WebSocketClass(urls.serverClose);
    ws.binaryType = "arraybuffer";
    // Listeners and handler attributes run in the order they were added.
    ws.addEventListener("message", (event) => log.push(["server close", "listener", event.type, event.data]), { once: true });
    const closing = watch("server close", ws);
    ws.addEventListener("close", (event) => log.push(["server close", "listener", event.type, event.code, event.target === ws]));
    await closing;
  }

  // --- failed connections: refused port, HTTP 404, no subprotocol chosen, close() while connecting ---
  await watch("refused", new WebSocketClass(urls.refused));
  await watch("404", new WebSocketClass(urls.notFound));
  await watch("no protocol chosen", new WebSocketClass(urls.echoNoProtocol, "chat"));
  {
    const ws = new WebSocketClass(urls.hang);
    const closed = watch("close while CONNECTING", ws);
    ws.close();
    log.push(["close while CONNECTING", "after close()", ...snapshot(ws)]);
    await closed;
  }

  await Promise.all(reads);
  return log;
}
