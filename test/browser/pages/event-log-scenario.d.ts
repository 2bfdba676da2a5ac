// Types for event-log-scenario.js (plain JavaScript so the browser can load it unchanged).

export interface ScenarioUrls {
  /** Echoes every message; chooses the first subprotocol offered. */
  echo: string;
  /** Echoes, but never chooses a subprotocol. */
  echoNoProtocol: string;
  /** Sends one message, then closes with a code and reason. */
  serverClose: string;
  /** Answers the handshake with 404. */
  notFound: string;
  /** A port nothing listens on. */
  refused: string;
  /** Never answers the handshake. */
  hang: string;
}

/** A WebSocket constructor as browsers have it (hawser/web's or the browser's own). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export interface ScenarioOptions {
  /**
   * For a WebSocket that fires no `close` after a failed connection (undici 6): how long to wait
   * for it after `error` before logging `[label, "no close event", readyState]` and going on.
   */
  closeAfterErrorMs?: number;
}

export function eventLogScenario(WebSocketClass: WebSocketConstructor, urls: ScenarioUrls, options?: ScenarioOptions): Promise<unknown[][]>;
