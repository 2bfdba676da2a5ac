/**
 * "down": the backend was lost (publishes are no longer relayed); "up": it is reachable again
 * (also after the first connection); "error": anything else worth knowing that did not stop
 * relaying, e.g. a publish the backend refused.
 */
export type PubSubAdapterEvent = "up" | "down" | "error";

type Listener = (error: Error) => void;

/**
 * The event half of an adapter. Unlike node:events, an "error" nobody listens to is not
 * thrown: losing a backend must never take the server down.
 */
export class PubSubAdapterEvents {
  private readonly listeners = new Map<PubSubAdapterEvent, Set<Listener>>();

  on(event: "up", listener: () => void): this;
  on(event: "down" | "error", listener: (error: Error) => void): this;
  on(event: PubSubAdapterEvent, listener: Listener): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off(event: PubSubAdapterEvent, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  protected emit(event: PubSubAdapterEvent, error?: Error): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(error as Error);
      } catch (thrown) {
        console.error(`hawser: a pub/sub adapter "${event}" listener threw:`, thrown);
      }
    }
  }
}
