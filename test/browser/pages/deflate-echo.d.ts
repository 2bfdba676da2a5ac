// Types for deflate-echo.js (plain JavaScript so the browser can load it unchanged).

export type PayloadKind = "text" | "binary" | "noise";

export interface PlannedMessage {
  kind: PayloadKind;
  size: number;
  seed: number;
}

export interface EchoReport {
  /** The browser's `ws.extensions`. */
  extensions: string;
  results: Array<{ kind: PayloadKind; size: number; sha256: string; echoed: boolean }>;
  close: { code: number; reason: string; wasClean: boolean };
}

/** The payload the page sends for one planned message (text as a string, binary as bytes). */
export function makePayload(kind: PayloadKind, size: number, seed: number): string | Uint8Array;

export function deflateEcho(url: string, plan: PlannedMessage[]): Promise<EchoReport>;
