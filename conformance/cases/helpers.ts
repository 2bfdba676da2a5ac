// Small builders for the case tables.
import { OP } from '../lib/frame.js';
import type { Case, FrameSpec, Step, WriteOptions } from '../lib/types.js';

export { OP };

type P = Buffer | string;
export const text = (payload: P, o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.TEXT, payload, ...o });
export const binary = (payload: P, o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.BINARY, payload, ...o });
export const cont = (payload: P, o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.CONT, payload, ...o });
export const ping = (payload: P = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.PING, payload, ...o });
export const pong = (payload: P = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.PONG, payload, ...o });
export const closeFrame = (payload: P = '', o: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: OP.CLOSE, payload, ...o });

export const send = (frames: FrameSpec[], w: WriteOptions = {}): Step => ({ op: 'send', frames, ...w });
export const expectText = (payload: P): Step => ({ op: 'expectMessage', opcode: 1, payload });
export const expectBinary = (payload: P): Step => ({ op: 'expectMessage', opcode: 2, payload });
export const expectPong = (payload: P = ''): Step => ({ op: 'expectPong', payload });
/** RFC 6455 7.4.1: 1002 is "protocol error". */
export const expectFail = (codes: number[] = [1002], failFast?: number): Step =>
  failFast === undefined ? { op: 'expectFail', codes } : { op: 'expectFail', codes, failFast };

/** Write-splitting modes named like Autobahn's: one write, frame by frame, octet by octet. */
export const WRITES: { name: string; w: WriteOptions }[] = [
  { name: 'in one write', w: {} },
  { name: 'frame-wise', w: { frameDelayMs: 5 } },
  { name: 'octet-wise', w: { chop: 1 } },
];

export function mk(id: string, description: string, steps: () => Step[], extra: Partial<Case> = {}): Case {
  return { id, description, steps, ...extra };
}
