/**
 * Queues that share one frozen empty array while empty. A server holds thousands of sockets
 * whose queues are empty nearly always, and each `[]` costs 32 bytes of heap. Owners start
 * with `sharedEmpty()`, add with `appended` and remove the head with `withoutHead`; the array
 * is frozen, so a push that bypassed `appended` throws instead of leaking entries between
 * sockets.
 */
const EMPTY: never[] = Object.freeze([]) as unknown as never[];

export function sharedEmpty<T>(): T[] {
  return EMPTY;
}

/** The queue with `item` added at the end (a new array if it was the shared empty one). */
export function appended<T>(queue: T[], item: T): T[] {
  if (queue === EMPTY) return [item];
  queue.push(item);
  return queue;
}

/**
 * The queue without its first entry: the shared empty array once nothing is left (also when
 * the queue had meanwhile been abandoned, by a close while an await was pending).
 */
export function withoutHead<T>(queue: T[]): T[] {
  if (queue.length <= 1) return EMPTY;
  queue.shift();
  return queue;
}
