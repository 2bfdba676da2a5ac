// One WebSocket connection seen from the driver: writes frames with the role's masking and
// turns what the peer sends into a queue of events, checking every rule the peer must keep.
import type net from 'node:net';
import { FrameParser, OP, encodeFrame, closePayload, type ParsedFrame } from './frame.js';
import type { PmdCodec } from './deflate.js';
import type { FrameSpec, StopPoint, WriteOptions } from './types.js';

export type Role = 'client' | 'server';

export type PeerEvent =
  | { type: 'message'; opcode: number; payload: Buffer; frames: number; compressed: boolean }
  | { type: 'pong'; payload: Buffer }
  /** `problem` is set when the peer's own close frame breaks RFC 6455 5.5.1 / 7.4. */
  | { type: 'close'; code: number | null; reason: string; problem?: string }
  | { type: 'eof'; error?: string }
  | { type: 'violation'; reason: string }
  | { type: 'timeout' };

/** Codes a peer may put in a close frame: RFC 6455 7.4.1 plus the IANA registry (1012-1014),
 *  and 3000-4999 (7.4.2). 1004/1005/1006/1015 must never be sent. */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Session {
  closeSent = false;
  closeReceived = false;
  eof = false;
  private stopped = false;
  private queue: PeerEvent[] = [];
  private wake: (() => void) | null = null;
  private parser = new FrameParser();
  private frag: { opcode: number; parts: Buffer[]; compressed: boolean; frames: number } | null = null;
  private readonly closed: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    readonly role: Role,
    readonly codec: PmdCodec | null,
    head: Buffer,
  ) {
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onEof());
    socket.on('close', () => this.onEof());
    socket.on('error', (e) => this.onEof(e.message));
    if (head.length) this.onData(head);
  }

  /** Next event from the peer, or `timeout`. */
  async next(timeoutMs: number): Promise<PeerEvent> {
    if (this.queue.length) return this.queue.shift() as PeerEvent;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.wake = null;
    return this.queue.shift() ?? { type: 'timeout' };
  }

  /** Put an event back at the head of the queue. */
  unshift(ev: PeerEvent): void {
    this.queue.unshift(ev);
  }

  /** Encode and write frames. With `stopAfter`, write only up to that point and return the rest. */
  async send(frames: FrameSpec[], opts: WriteOptions & { stopAfter?: StopPoint } = {}): Promise<Buffer | null> {
    const masked = this.role === 'client';
    const enc = frames.map((f) => encodeFrame(f, masked));
    let all = Buffer.concat(enc.map((e) => e.bytes));
    let rest: Buffer | null = null;
    let lastWritten = frames.length - 1;
    if (opts.stopAfter) {
      const { frame, payloadOffset } = opts.stopAfter;
      let cut = 0;
      for (let i = 0; i < frame; i++) cut += (enc[i] as { bytes: Buffer }).bytes.length;
      cut += (enc[frame] as { headerLength: number }).headerLength + payloadOffset + 1;
      rest = all.subarray(cut);
      all = all.subarray(0, cut);
      lastWritten = frame - 1;
    }
    // Only a close frame written in full counts as sent (RFC 6455 5.5.1 governs what follows).
    if (frames.slice(0, lastWritten + 1).some((f) => f.opcode === OP.CLOSE)) this.closeSent = true;
    if (opts.frameDelayMs !== undefined && !opts.stopAfter) {
      for (const e of enc) {
        await this.write(e.bytes, opts);
        await sleep(opts.frameDelayMs);
      }
    } else await this.write(all, opts);
    return rest;
  }

  /** Write bytes, optionally chopped into separate writes. */
  async write(bytes: Buffer, opts: WriteOptions = {}): Promise<void> {
    const step = opts.chop && opts.chop > 0 ? opts.chop : bytes.length || 1;
    for (let i = 0; i < bytes.length; i += step) {
      if (this.socket.destroyed || !this.socket.writable) return;
      const chunk = bytes.subarray(i, i + step);
      await new Promise<void>((r) => this.socket.write(chunk, () => r()));
      if (opts.chopDelayMs && i + step < bytes.length) await sleep(opts.chopDelayMs);
    }
  }

  /** Wait for the TCP connection to close, at most `ms`; true if it did. */
  async waitClosed(ms: number): Promise<boolean> {
    if (this.socket.destroyed) return true;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    const ok = await Promise.race([this.closed.then(() => true), t]);
    clearTimeout(timer);
    return ok;
  }

  destroy(): void {
    this.stopped = true;
    this.socket.destroy();
  }

  private push(ev: PeerEvent): void {
    this.queue.push(ev);
    this.wake?.();
  }

  private violation(reason: string): void {
    this.push({ type: 'violation', reason });
    this.stopped = true;
  }

  private onEof(error?: string): void {
    if (this.eof) return;
    this.eof = true;
    if (!this.stopped) this.push(error ? { type: 'eof', error } : { type: 'eof' });
    // A half-open socket (the HTTP server allows them) must still be finished by us.
    if (!this.socket.destroyed) this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    for (const f of this.parser.push(chunk)) {
      this.onFrame(f);
      if (this.stopped) return;
    }
  }

  private onFrame(f: ParsedFrame): void {
    const peer = this.role === 'client' ? 'server' : 'client';
    if (this.closeReceived) return this.violation(`${peer} sent a frame (opcode ${f.opcode}) after its close frame (RFC 6455 5.5.1)`);
    if (f.masked !== (this.role === 'server')) {
      return this.violation(peer === 'client' ? 'client sent an unmasked frame (RFC 6455 5.1)' : 'server sent a masked frame (RFC 6455 5.1)');
    }
    if (f.lengthProblem) return this.violation(`${peer} frame: ${f.lengthProblem} (RFC 6455 5.2)`);
    if (![0, 1, 2, 8, 9, 10].includes(f.opcode)) return this.violation(`${peer} sent reserved opcode ${f.opcode} (RFC 6455 5.2)`);
    const rsvOk = f.rsv === 0 || (f.rsv === 4 && this.codec !== null && (f.opcode === 1 || f.opcode === 2));
    if (!rsvOk) return this.violation(`${peer} set RSV bits ${f.rsv} on opcode ${f.opcode} (RFC 6455 5.2, RFC 7692 6)`);
    if (f.opcode >= 8) {
      if (!f.fin) return this.violation(`${peer} fragmented a control frame (RFC 6455 5.5)`);
      if (f.payload.length > 125) return this.violation(`${peer} sent a control frame of ${f.payload.length} bytes (RFC 6455 5.5)`);
      if (f.opcode === OP.PING) {
        // RFC 6455 5.5.2: answer with a pong carrying the same payload, unless closing.
        if (!this.closeSent) void this.write(encodeFrame({ opcode: OP.PONG, payload: f.payload }, this.role === 'client').bytes);
      } else if (f.opcode === OP.PONG) this.push({ type: 'pong', payload: f.payload });
      else this.onClose(f.payload);
      return;
    }
    if (f.opcode === OP.CONT) {
      if (!this.frag) return this.violation(`${peer} sent a continuation frame with no message to continue (RFC 6455 5.4)`);
      this.frag.parts.push(f.payload);
      this.frag.frames++;
    } else {
      if (this.frag) return this.violation(`${peer} started a new message inside a fragmented one (RFC 6455 5.4)`);
      this.frag = { opcode: f.opcode, parts: [f.payload], compressed: f.rsv === 4, frames: 1 };
    }
    if (!f.fin) return;
    const m = this.frag;
    this.frag = null;
    let payload: Buffer = Buffer.concat(m.parts);
    if (m.compressed && this.codec) {
      try {
        payload = this.codec.decompress(payload);
      } catch (e) {
        return this.violation(`${peer}'s compressed message does not inflate under the negotiated parameters: ${(e as Error).message} (RFC 7692 7.2.2)`);
      }
    }
    if (m.opcode === OP.TEXT) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(payload);
      } catch {
        return this.violation(`${peer} sent a text message that is not valid UTF-8 (RFC 6455 8.1)`);
      }
    }
    this.push({ type: 'message', opcode: m.opcode, payload, frames: m.frames, compressed: m.compressed });
  }

  private onClose(payload: Buffer): void {
    this.closeReceived = true;
    let code: number | null = null;
    let reason = '';
    let problem: string | undefined;
    if (payload.length === 1) problem = 'close frame with a 1-byte payload (RFC 6455 5.5.1)';
    else if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      if (!isSendableCloseCode(code)) problem = `close code ${code} must not be sent (RFC 6455 7.4)`;
      try {
        reason = new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(2));
      } catch {
        problem = 'close reason is not valid UTF-8 (RFC 6455 5.5.1)';
      }
    }
    this.push(problem ? { type: 'close', code, reason, problem } : { type: 'close', code, reason });
    if (!this.closeSent) {
      // RFC 6455 5.5.1: answer a close with a close, typically echoing the code.
      this.closeSent = true;
      const echo = code !== null && isSendableCloseCode(code) ? closePayload(code) : Buffer.alloc(0);
      void this.write(encodeFrame({ opcode: OP.CLOSE, payload: echo }, this.role === 'client').bytes);
    }
    // RFC 6455 7.1.1: the server closes the TCP connection first.
    if (this.role === 'server') this.socket.end();
  }
}
