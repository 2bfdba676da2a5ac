// The event-target half of the `ws` face: addEventListener / removeEventListener and the
// onopen / onmessage / onclose / onerror attributes, as EventEmitter listeners that wrap each
// call in an event object.
import type { Buffer } from "node:buffer";
import type { EventEmitter } from "node:events";
import { textOf } from "./data.js";
import type { CloseEvent, Data, ErrorEvent, Event, MessageEvent } from "./types.js";
import type { WebSocket } from "./websocket.js";

/** What the event-target API accepts as a listener: a function, or an object with `handleEvent`. */
export type EventHandler<E> = ((event: E) => void) | { handleEvent(event: E): void };

type WrappedType = "open" | "message" | "close" | "error";

/** The handler a wrapper calls, and whether it stands for an `on*` attribute. */
const kHandler = Symbol("hawser.ws.handler");
const kAttribute = Symbol("hawser.ws.attribute");

type Wrapper = ((this: WebSocket, ...args: never[]) => void) & {
  [kHandler]: EventHandler<never>;
  [kAttribute]: boolean;
};

class OpenEventImpl implements Event {
  constructor(
    readonly type: string,
    readonly target: WebSocket,
  ) {}
}

class MessageEventImpl extends OpenEventImpl implements MessageEvent {
  constructor(
    target: WebSocket,
    readonly data: Data,
  ) {
    super("message", target);
  }
}

class CloseEventImpl extends OpenEventImpl implements CloseEvent {
  constructor(
    target: WebSocket,
    readonly code: number,
    readonly reason: string,
    readonly wasClean: boolean,
  ) {
    super("close", target);
  }
}

class ErrorEventImpl extends OpenEventImpl implements ErrorEvent {
  readonly message: string;
  constructor(
    target: WebSocket,
    readonly error: Error,
  ) {
    super("error", target);
    this.message = error?.message ?? "";
  }
}

function call<E>(handler: EventHandler<E>, target: WebSocket, event: E): void {
  if (typeof handler === "function") handler.call(target, event);
  else handler.handleEvent.call(handler, event);
}

/** A listener for `type` that hands `handler` the event object, or null for other types. */
function wrap(type: string, handler: EventHandler<never>, attribute: boolean): Wrapper | null {
  let wrapper: (this: WebSocket, ...args: never[]) => void;
  switch (type) {
    case "open":
      wrapper = function (this: WebSocket) {
        call(handler as EventHandler<Event>, this, new OpenEventImpl("open", this));
      };
      break;
    case "message":
      wrapper = function (this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
        // Text reaches `message` listeners as bytes; the event API hands it out as a string.
        call(handler as EventHandler<MessageEvent>, this, new MessageEventImpl(this, isBinary ? data : textOf(data)));
      } as (this: WebSocket, ...args: never[]) => void;
      break;
    case "close":
      wrapper = function (this: WebSocket, code: number, reason: Buffer) {
        call(handler as EventHandler<CloseEvent>, this, new CloseEventImpl(this, code, String(reason), this.closedCleanly));
      } as (this: WebSocket, ...args: never[]) => void;
      break;
    case "error":
      wrapper = function (this: WebSocket, error: Error) {
        call(handler as EventHandler<ErrorEvent>, this, new ErrorEventImpl(this, error));
      } as (this: WebSocket, ...args: never[]) => void;
      break;
    default:
      return null;
  }
  const marked = wrapper as Wrapper;
  marked[kHandler] = handler;
  marked[kAttribute] = attribute;
  return marked;
}

function wrappers(emitter: EventEmitter, type: string): Wrapper[] {
  return emitter.listeners(type).filter((listener): listener is Wrapper => kHandler in listener);
}

/** `addEventListener`: adding the same handler twice for a type adds it once. */
export function addEventListener(socket: WebSocket, type: string, handler: EventHandler<never>, once: boolean): void {
  if (wrappers(socket, type).some((wrapper) => !wrapper[kAttribute] && wrapper[kHandler] === handler)) return;
  const wrapper = wrap(type, handler, false);
  if (wrapper === null) return;
  if (once) socket.once(type, wrapper);
  else socket.on(type, wrapper);
}

/** `removeEventListener`: removes a handler added with `addEventListener`, never another listener. */
export function removeEventListener(socket: WebSocket, type: string, handler: EventHandler<never>): void {
  const found = wrappers(socket, type).find((wrapper) => !wrapper[kAttribute] && wrapper[kHandler] === handler);
  if (found) socket.removeListener(type, found);
}

/** The handler set with `on<type>`, or null. */
export function getAttribute(socket: WebSocket, type: WrappedType): EventHandler<never> | null {
  return wrappers(socket, type).find((wrapper) => wrapper[kAttribute])?.[kHandler] ?? null;
}

/** Sets `on<type>`: replaces the previous handler (the new one is called last); a non-function clears it. */
export function setAttribute(socket: WebSocket, type: WrappedType, handler: unknown): void {
  const previous = wrappers(socket, type).find((wrapper) => wrapper[kAttribute]);
  if (previous) socket.removeListener(type, previous);
  if (typeof handler !== "function") return;
  socket.on(type, wrap(type, handler as EventHandler<never>, true)!);
}
