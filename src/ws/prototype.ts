import { ReadyState } from "../protocol/opcodes.js";
import { getAttribute, setAttribute } from "./event-target.js";
import type { WebSocket } from "./websocket.js";

/**
 * What `ws`'s class has beyond its declared members: the ready-state constants on the class
 * and its prototype, accessors that show up in `for...in` and object spreads, and the
 * `on<type>` event handler attributes.
 */
export function decorateSocketClass(cls: typeof WebSocket): void {
  for (const [name, value] of Object.entries(ReadyState)) {
    Object.defineProperty(cls, name, { value, enumerable: true });
    Object.defineProperty(cls.prototype, name, { value, enumerable: true });
  }
  // Accessors show up in `for...in` and object spreads of a socket, as `ws`'s do.
  for (const name of ["binaryType", "bufferedAmount", "extensions", "isPaused", "protocol", "readyState", "url"]) {
    const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
    Object.defineProperty(cls.prototype, name, { ...descriptor, enumerable: true });
  }
  // The event handler attributes: one handler each, called with an event object (see event-target.ts).
  for (const type of ["open", "message", "close", "error"] as const) {
    Object.defineProperty(cls.prototype, `on${type}`, {
      configurable: true,
      enumerable: true,
      get(this: WebSocket) {
        return getAttribute(this, type);
      },
      set(this: WebSocket, handler: unknown) {
        setAttribute(this, type, handler);
      },
    });
  }
}
