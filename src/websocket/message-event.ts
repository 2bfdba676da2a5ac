import type { Buffer } from "node:buffer";

/** What `onmessage` receives: text as a string, binary as a Buffer. */
export interface WebSocketMessageEvent {
  readonly type: "message";
  /** Text as a string (decoded on first use), binary as a Buffer. */
  readonly data: string | Buffer;
  readonly isBinary: boolean;
  /**
   * The message's bytes as received (a text message's UTF-8). To forward a message without
   * decoding it: `socket.send(event.rawData, { binary: event.isBinary })`.
   */
  readonly rawData: Buffer;
}

/** A received message; text is decoded only if a handler reads `data`. */
export class ReceivedMessage implements WebSocketMessageEvent {
  readonly type = "message";
  private text: string | undefined;

  constructor(
    readonly rawData: Buffer,
    readonly isBinary: boolean,
  ) {}

  get data(): string | Buffer {
    if (this.isBinary) return this.rawData;
    // toString() without arguments is Buffer's UTF-8 fast path.
    return (this.text ??= this.rawData.toString());
  }
}
