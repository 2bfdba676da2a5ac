// Plain HTTP requests for tests, without connection pooling (no sockets left behind).
import { Buffer } from "node:buffer";
import { request, type IncomingHttpHeaders } from "node:http";
import { withTimeout } from "./wait.js";

export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function httpRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<PlainResponse> {
  return withTimeout(
    new Promise<PlainResponse>((resolve, reject) => {
      const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(options.body);
    }),
    5000,
    `an HTTP answer from ${url}`,
  );
}
