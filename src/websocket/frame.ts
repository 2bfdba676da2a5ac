import { Buffer } from "node:buffer";
import { WebSocketOpcode } from "../protocol/opcodes.js";

/**
 * One received message, as `recv()` / `waitForNextMessage()` return it (the seed's
 * `WebSocketFrame`). Messages arrive reassembled, so `fin` is always true. After the
 * connection ends, `opcode` is `close` and `code`, `reason` and `wasClean` say how.
 */
export class WebSocketFrame {
  readonly fin = true;
  private text: string | undefined;

  constructor(
    readonly opcode: WebSocketOpcode,
    /** The payload bytes (for a close frame, the reason's bytes). */
    readonly data: Buffer,
    /** Close code: the peer's, 1005 when its close frame had none, 1006 when the connection dropped. */
    readonly code = 0,
    readonly reason = "",
    readonly wasClean = false,
  ) {}

  /** The payload as text (decoded once, on first use). */
  get textData(): string {
    if (this.text === undefined) this.text = this.data.toString();
    return this.text;
  }

  static closeFrame(code: number, reason: string, wasClean: boolean): WebSocketFrame {
    return new WebSocketFrame(WebSocketOpcode.close, Buffer.from(reason), code, reason, wasClean);
  }
}

/** What `onclose` receives: the seed's `CloseEvent` (and the browser's). */
export class CloseEvent {
  readonly type = "close";
  constructor(
    readonly code: number,
    readonly reason: string,
    /** True when close frames were exchanged before the TCP connection ended. */
    readonly wasClean: boolean,
  ) {}
}
