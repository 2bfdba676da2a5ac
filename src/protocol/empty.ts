/**
 * One frozen empty array shared by every idle queue. A server holds thousands of sockets
 * whose queues are empty nearly always, and each `[]` costs 32 bytes of heap; owners keep
 * this until the first push, and put it back instead of truncating (it is frozen, so a push
 * that forgot to replace it throws instead of leaking entries between sockets).
 */
const EMPTY: never[] = Object.freeze([]) as unknown as never[];

export function sharedEmpty<T>(): T[] {
  return EMPTY;
}

export function isSharedEmpty(array: readonly unknown[]): boolean {
  return array === EMPTY;
}
