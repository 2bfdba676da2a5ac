/** Frame opcodes, RFC 6455 section 5.2. Names follow the seed API. */
export const WebSocketOpcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;
export type WebSocketOpcode = (typeof WebSocketOpcode)[keyof typeof WebSocketOpcode];

/** Data opcodes start or continue a message; control opcodes have bit 3 set (section 5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Opcodes 3-7 and 0xB-0xF are reserved (section 5.2): receiving one fails the connection. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

/** readyState values, as the browser API and the seed have them. */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];
