import { Buffer } from "node:buffer";
import { CloseCode } from "../protocol/close.js";
import { ReadyState, WebSocketOpcode } from "../protocol/opcodes.js";
import { PreparedMessage } from "../transport/prepared-message.js";
import { bytesOf, requireUtf8 } from "../websocket/message-data.js";
import type { PubSubMessage, Subscription } from "../websocket/topics.js";
import type { WebSocket, WebSocketData } from "../websocket/websocket.js";
import type { OrderedPubSubAdapter, TopicHistory } from "./pubsub-adapter.js";

/** A subscription's `format` function. */
export type MessageFormat = (message: PubSubMessage) => WebSocketData;

/** A subscription with a `format`, or one resuming from an offset. */
export interface SubscriberState {
  readonly format: MessageFormat | null;
  /** Live messages that arrived while the history was being sent; null once live. */
  waiting: Held[] | null;
  waitingBytes: number;
  /** Offsets of messages this socket published while its history was read: never sent to it. */
  ownOffsets: Set<string> | null;
  /**
   * After the history: live messages up to this offset were in it already (a backend's live
   * feed can lag behind a history read), so they are skipped; null once past it.
   */
  skipThrough: string | null;
}

interface Held {
  readonly message: PreparedMessage;
  readonly offset: string | undefined;
}

/** The close reason of a socket whose subscription's `format` function threw (code 1011). */
const FORMAT_FAILED_REASON = "format function failed";

/**
 * The per-subscriber side of delivery: `format`, and resuming from an offset. A resume sends
 * the topic's history after the offset, holding the live messages that arrive meanwhile, then
 * the held ones after the last history message (compared by offset): no gap, no duplicate.
 */
export class Resumer {
  constructor(
    private readonly maxPublishBufferBytes: number,
    private readonly dropSlow: (socket: WebSocket) => void,
    private readonly forget: (socket: WebSocket) => void,
  ) {}

  /** A live message for a socket still receiving its history. */
  hold(socket: WebSocket, state: SubscriberState, message: PreparedMessage, offset: string | undefined, own: boolean): void {
    if (own) {
      if (offset !== undefined) (state.ownOffsets ??= new Set()).add(offset);
      return;
    }
    state.waiting!.push({ message, offset });
    state.waitingBytes += message.payload.length;
    if (state.waitingBytes > this.maxPublishBufferBytes) this.dropSlow(socket);
  }

  /** `format` applied to a message; null (the error reported) when it threw. */
  formatted(format: MessageFormat, view: PubSubMessage): PreparedMessage | null {
    try {
      return prepare(format(view), undefined);
    } catch (error) {
      console.error(`hawser: the format function of a subscription to '${view.topic}' threw; closing its sockets with 1011:`, error);
      return null;
    }
  }

  /** Closes a socket whose format function failed (RFC 6455 section 7.4.1: 1011, unexpected condition). */
  formatFailed(socket: WebSocket): void {
    this.forget(socket);
    if (socket.readyState === ReadyState.OPEN) socket.close(CloseCode.internalError, FORMAT_FAILED_REASON);
  }

  /**
   * Sends `topic`'s history after `since` to `socket`, then what `hold` kept, and marks the
   * subscription live. `isCurrent` says whether the subscription still exists (the socket may
   * leave meanwhile); `settled` is called once it is live.
   */
  async resume(
    adapter: OrderedPubSubAdapter,
    topic: string,
    socket: WebSocket,
    state: SubscriberState,
    since: string,
    isCurrent: () => boolean,
    settled: () => void,
  ): Promise<Subscription> {
    let history: TopicHistory;
    const done = (replayed: number, seam: string | null): Subscription => ({ replayed, truncated: history.truncated, offset: seam ?? adapter.position(topic) });
    try {
      history = await adapter.history(topic, since);
    } catch {
      // Only a closed adapter rejects: nothing can be read back.
      history = { messages: [], truncated: true };
    }
    // Offsets up to here were sent (or were before `since`). A truncated history's `since`
    // may not be an offset at all: only messages actually sent mark the seam then.
    let seam: string | null = history.truncated ? null : since;
    let replayed = 0;
    for (const entry of history.messages) {
      if (!isCurrent()) return done(replayed, seam);
      seam = entry.offset;
      if (state.ownOffsets?.has(entry.offset)) continue;
      let message = new PreparedMessage(entry.binary ? WebSocketOpcode.binary : WebSocketOpcode.text, entry.payload);
      if (state.format !== null) {
        const out = this.formatted(state.format, { topic, data: entry.payload, binary: entry.binary, offset: entry.offset });
        if (out === null) {
          this.formatFailed(socket);
          return done(replayed, seam);
        }
        message = out;
      }
      // History may be long: let the socket drain rather than count it as a slow reader.
      if (socket.bufferedAmount > this.maxPublishBufferBytes) {
        await socket.drained();
        if (!isCurrent()) return done(replayed, seam);
      }
      if (!socket.sendPrepared(message)) {
        if (socket.readyState === ReadyState.OPEN) this.dropSlow(socket);
        return done(replayed, seam);
      }
      replayed++;
    }
    if (!isCurrent()) return done(replayed, seam);
    const waiting = state.waiting!;
    state.waiting = null;
    state.waitingBytes = 0;
    state.ownOffsets = null;
    state.skipThrough = seam;
    for (const held of waiting) {
      if (this.sendLive(adapter, topic, socket, state, held.message, held.offset) === "dropped") break;
    }
    settled();
    return done(replayed, seam);
  }

  /** Sends a live message to a resumed subscriber, skipping those the history already had. */
  sendLive(
    adapter: OrderedPubSubAdapter,
    topic: string,
    socket: WebSocket,
    state: SubscriberState,
    message: PreparedMessage,
    offset: string | undefined,
  ): "sent" | "skipped" | "dropped" {
    if (state.skipThrough !== null && offset !== undefined) {
      if (adapter.compareOffsets(offset, state.skipThrough) <= 0) return "skipped";
      state.skipThrough = null;
    }
    let out: PreparedMessage | null = message;
    if (state.format !== null) {
      out = this.formatted(state.format, { topic, data: message.payload, binary: message.opcode === WebSocketOpcode.binary, offset });
      if (out === null) {
        this.formatFailed(socket);
        return "dropped";
      }
    }
    if (!socket.sendPrepared(out, this.maxPublishBufferBytes)) {
      if (socket.readyState === ReadyState.OPEN) this.dropSlow(socket);
      return "dropped";
    }
    return "sent";
  }
}

/** A publish's data as one message, text or binary by `binary` or by the data's type. */
export function prepare(data: WebSocketData, binary: boolean | undefined): PreparedMessage {
  if (typeof data === "string" && binary !== true) return new PreparedMessage(WebSocketOpcode.text, Buffer.from(data));
  const bytes = bytesOf(data, "publish");
  if (binary === false) return new PreparedMessage(WebSocketOpcode.text, requireUtf8(bytes, "publish"));
  return new PreparedMessage(WebSocketOpcode.binary, bytes);
}
