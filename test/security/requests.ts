// Raw HTTP/1.1 WebSocket requests for the security tests: from a chosen loopback address
// (127.0.0.1, 127.0.0.2, ...), with any Origin and extra headers, or cut short to stand for a
// handshake still in progress.
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import { expectedAccept, randomKey } from "../helpers/raw-client.js";
import { withTimeout } from "../helpers/wait.js";

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The socket, still open after a 101 (the WebSocket), ended otherwise. */
  socket: Socket;
}

export interface RequestOptions {
  /** The loopback address to connect from (Linux routes all of 127/8 to lo). */
  from?: string;
  /** The Host header; default 127.0.0.1:PORT as a browser sends it. */
  host?: string;
  origin?: string;
  headers?: Array<[string, string]>;
  path?: string;
}

/** A TCP connection from `from` to the server on 127.0.0.1. */
export function tcpConnect(port: number, from = "127.0.0.1"): Promise<Socket> {
  return withTimeout(
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress: from, noDelay: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.on("error", () => undefined);
        resolve(socket);
      });
    }),
    5000,
    `a TCP connection from ${from}`,
  );
}

export function upgradeText(port: number, options: RequestOptions, key = randomKey()): string {
  const lines = [
    `GET ${options.path ?? "/"} HTTP/1.1`,
    `Host: ${options.host ?? `127.0.0.1:${port}`}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (options.origin !== undefined) lines.push(`Origin: ${options.origin}`);
  for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`);
  return lines.join("\r\n") + "\r\n\r\n";
}

/** Sends a WebSocket upgrade request and reads the answer's head (and body, unless 101). */
export async function upgrade(port: number, options: RequestOptions = {}): Promise<Answer> {
  const socket = await tcpConnect(port, options.from);
  const key = randomKey();
  socket.write(upgradeText(port, options, key));
  const answer = await readAnswer(socket);
  if (answer.status === 101 && answer.headers["sec-websocket-accept"] !== expectedAccept(key)) {
    throw new Error("a 101 with the wrong Sec-WebSocket-Accept");
  }
  return answer;
}

/** Reads an HTTP answer: the head, and for anything but 101 the body (Content-Length, or to the end). */
export function readAnswer(socket: Socket, timeoutMs = 5000): Promise<Answer> {
  return withTimeout(
    new Promise<Answer>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf("\r\n\r\n");
        if (end === -1) return;
        const [statusLine = "", ...lines] = received.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(":");
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers["content-length"] ?? -1);
        const body = received.subarray(end + 4);
        if (status === 101) {
          socket.off("data", onData);
          socket.off("close", onClose);
          if (body.length > 0) socket.unshift(body);
          resolve({ status, headers, body: "", socket });
        } else if (length >= 0 && body.length >= length) {
          socket.off("data", onData);
          socket.off("close", onClose);
          resolve({ status, headers, body: body.subarray(0, length).toString("utf8"), socket });
        }
      };
      const onClose = (): void =>
        reject(
          new Error(`the connection closed before a whole answer (${received.length} bytes: ${JSON.stringify(received.toString("latin1").slice(0, 200))})`),
        );
      socket.on("data", onData);
      socket.once("close", onClose);
    }),
    timeoutMs,
    "an HTTP answer",
  );
}

/**
 * A handshake in progress: a connection that sends the first line and one header of an
 * upgrade request, and then nothing (slowloris).
 */
export async function slowHandshake(port: number, from = "127.0.0.1"): Promise<Socket> {
  const socket = await tcpConnect(port, from);
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
  return socket;
}

/** Resolves when the socket has closed (the server cut it). */
export function closed(socket: Socket, timeoutMs = 5000): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  // Read (and drop) what is left: a paused socket may never see the server's FIN.
  socket.resume();
  return withTimeout(new Promise<void>((resolve) => socket.once("close", () => resolve())), timeoutMs, "the server to close the connection");
}
