// Runs one case's steps on an open session and judges the peer. Verdicts follow Autobahn's
// classes: OK, NON-STRICT (conformant in effect, not to the letter), INFORMATIONAL, FAILED.
import { OP, toBuf, closePayload } from './frame.js';
import type { PeerEvent, Session } from './session.js';
import type { Case, FrameSpec, Step, Verdict, WriteOptions } from './types.js';

export interface Judgement {
  verdict: Verdict;
  reason: string;
}

/** Codes that still say "you broke the protocol" when another one was expected: failing with
 *  one of these instead of the exact code is NON-STRICT; 1000/1001 or anything else is FAILED. */
const ERROR_CODES = [1002, 1003, 1007, 1008, 1009, 1011];

class Fail extends Error {}

/** The peer closed (or failed) while we still expected an echo or a pong. */
class EndedEarly extends Error {
  constructor(
    readonly ev: PeerEvent,
    message: string,
  ) {
    super(message);
  }
}

function describe(ev: PeerEvent): string {
  switch (ev.type) {
    case 'message':
      return `${ev.opcode === OP.TEXT ? 'text' : 'binary'} message of ${ev.payload.length} bytes`;
    case 'pong':
      return `pong with ${ev.payload.length} bytes`;
    case 'close':
      return `close ${ev.code ?? '(no code)'}${ev.reason ? ` "${ev.reason.slice(0, 60)}"` : ''}${ev.problem ? ` [invalid: ${ev.problem}]` : ''}`;
    case 'eof':
      return `TCP close${ev.error ? ` (${ev.error})` : ''} without a close frame`;
    case 'violation':
      return `protocol violation by the peer: ${ev.reason}`;
    case 'timeout':
      return 'nothing';
  }
}

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte ${i}`;
  return `lengths ${a.length} vs ${b.length}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Engine {
  private verdict: Verdict = 'OK';
  private notes: string[] = [];
  private pendingRest: Buffer | null = null;
  /** Echoes and pongs that arrived while we waited for the other kind. */
  private stash: PeerEvent[] = [];
  private readonly timeoutMs: number;

  constructor(
    private readonly c: Case,
    private readonly s: Session,
    timeoutMs: number,
  ) {
    this.timeoutMs = c.timeoutMs ?? timeoutMs;
  }

  private downgrade(v: Verdict, note: string): void {
    const rank: Verdict[] = ['OK', 'INFORMATIONAL', 'NON-STRICT', 'FAILED'];
    if (rank.indexOf(v) > rank.indexOf(this.verdict)) this.verdict = v;
    this.notes.push(note);
  }

  private fail(reason: string): never {
    throw new Fail(reason);
  }

  /** A limit hit (1009 message too big, or 1008 policy, e.g. too many fragments) is what
   *  category 9 exists to record, not a failure. */
  private endsInformationally(ev: PeerEvent): boolean {
    return Boolean(this.c.informational) && ev.type === 'close' && (ev.code === 1009 || ev.code === 1008);
  }

  async run(): Promise<Judgement> {
    const started = Date.now();
    const steps = this.c.steps();
    try {
      for (let i = 0; i < steps.length; i++) {
        const st = steps[i] as Step;
        try {
          if (await this.step(st)) break;
        } catch (e) {
          if (!(e instanceof EndedEarly)) throw e;
          if (st.op === 'expectMessage' && st.optional && (e.ev.type === 'close' || e.ev.type === 'eof')) {
            this.s.unshift(e.ev);
            this.notes.push('peer closed without echoing the message sent just before our close (RFC 6455 5.5.1 allows)');
            continue;
          }
          // Autobahn's rule: when the frames already sent end in one that must fail the
          // connection, a peer may fail before it has echoed the valid ones before it.
          const failAt = steps.findIndex((x, j) => j > i && x.op === 'expectFail');
          const sendBetween = steps.slice(i + 1, failAt).some((x) => x.op === 'send' || x.op === 'sendMessage' || x.op === 'close');
          if (failAt < 0 || sendBetween || (e.ev.type !== 'close' && e.ev.type !== 'eof')) this.fail(e.message);
          this.s.unshift(e.ev);
          this.downgrade('NON-STRICT', 'failed the connection before echoing/answering the valid frames sent ahead of the invalid one');
          i = failAt - 1;
        }
      }
      if (!this.s.closeSent && !this.s.closeReceived && !this.s.eof) await this.closing(closePayload(1000), [], [1000], {});
      await this.finish();
    } catch (e) {
      if (!(e instanceof Fail) && !(e instanceof EndedEarly)) throw e;
      this.s.destroy();
      return { verdict: 'FAILED', reason: e.message };
    }
    if (this.c.informational && this.verdict === 'OK') this.downgrade('INFORMATIONAL', `took ${Date.now() - started} ms`);
    return { verdict: this.verdict, reason: this.notes.join('; ') };
  }

  /** Returns true when the case is over (the connection was failed or closed). */
  private async step(st: Step): Promise<boolean> {
    switch (st.op) {
      case 'send':
        this.pendingRest = await this.s.send(st.frames, st);
        return false;
      case 'sendMessage':
        await this.s.send(this.messageFrames(st.opcode, toBuf(st.payload), st.fragmentSize, st.compress), st);
        return false;
      case 'sleep':
        await sleep(st.ms);
        return false;
      case 'expectMessage':
        return this.expectMessage(st.opcode, toBuf(st.payload), st.timeoutMs);
      case 'expectMessages':
        for (const m of st.messages) if (await this.expectMessage(m.opcode, toBuf(m.payload), st.timeoutMs)) return true;
        return false;
      case 'expectPong': {
        const want = toBuf(st.payload);
        const ev = await this.take('pong', this.timeoutMs);
        if (ev.type === 'pong' && ev.payload.equals(want)) return false;
        const msg = `expected a pong with ${want.length} bytes, got ${describe(ev)}${ev.type === 'pong' ? ` (${firstDifference(ev.payload, want)})` : ''}`;
        if (ev.type === 'close' || ev.type === 'eof') throw new EndedEarly(ev, msg);
        return this.fail(msg);
      }
      case 'expectPongs':
        return this.expectPongs(st.payloads.map(toBuf));
      case 'close': {
        const payload = st.rawPayload ?? closePayload(st.code, st.reason);
        const echo = st.echoCodes ?? (st.code === undefined ? [null, 1000] : [st.code, 1000]);
        await this.closing(payload, st.after ?? [], echo, st);
        return true;
      }
      case 'expectClose':
        await this.closeReply(st.echoCodes);
        return true;
      case 'expectFail':
        await this.expectFail(st.codes, st.failFast, st.timeoutMs ?? this.timeoutMs);
        return true;
    }
  }

  /** Next echo or pong: from the stash first, else from the wire, stashing the other kind. */
  private async take(kind: 'message' | 'pong', timeoutMs: number): Promise<PeerEvent> {
    const at = this.stash.findIndex((e) => e.type === kind);
    if (at >= 0) return this.stash.splice(at, 1)[0] as PeerEvent;
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ev = await this.s.next(Math.max(1, end - Date.now()));
      if (ev.type === kind || (ev.type !== 'message' && ev.type !== 'pong')) return ev;
      this.stash.push(ev);
    }
  }

  /** Anything stashed and never expected is an answer the peer should not have sent. */
  private checkStash(context: string): void {
    const ev = this.stash[0];
    if (ev) this.fail(`unexpected ${describe(ev)} ${context}`);
  }

  private messageFrames(opcode: number, payload: Buffer, fragmentSize?: number, compress?: boolean): FrameSpec[] {
    let data = payload;
    let rsv = 0;
    if (compress) {
      const c = this.s.codec?.compress(payload);
      if (c) {
        data = c;
        rsv = 4;
      } // RFC 7692 6: RSV1 on the first frame marks a compressed message
    }
    if (!fragmentSize || data.length <= fragmentSize) return [{ opcode, payload: data, rsv }];
    const frames: FrameSpec[] = [];
    for (let i = 0; i < data.length; i += fragmentSize) {
      frames.push({
        opcode: i === 0 ? opcode : OP.CONT,
        rsv: i === 0 ? rsv : 0,
        fin: i + fragmentSize >= data.length,
        payload: data.subarray(i, i + fragmentSize),
      });
    }
    return frames;
  }

  private async expectMessage(opcode: number, want: Buffer, timeoutMs?: number): Promise<boolean> {
    const ev = await this.take('message', timeoutMs ?? this.timeoutMs);
    if (ev.type === 'message' && ev.opcode === opcode && ev.payload.equals(want)) return false;
    if (this.endsInformationally(ev)) {
      this.downgrade('INFORMATIONAL', `peer closed with ${(ev as { code: number }).code} (a limit it enforces) for a message of ${want.length} bytes`);
      return true;
    }
    const kind = opcode === OP.TEXT ? 'text' : 'binary';
    const diff = ev.type === 'message' && ev.opcode === opcode ? ` (${firstDifference(ev.payload, want)})` : '';
    const msg = `expected echo of ${kind} message of ${want.length} bytes, got ${describe(ev)}${diff}`;
    if (ev.type === 'close' || ev.type === 'eof') throw new EndedEarly(ev, msg);
    return this.fail(msg);
  }

  private async expectPongs(want: Buffer[]): Promise<boolean> {
    let next = 0;
    let skipped = 0;
    while (next < want.length) {
      const ev = await this.take('pong', this.timeoutMs);
      if (ev.type !== 'pong') {
        const msg = `expected pongs ${next + 1}..${want.length} of ${want.length}, got ${describe(ev)}`;
        if (ev.type === 'close' || ev.type === 'eof') throw new EndedEarly(ev, msg);
        return this.fail(msg);
      }
      const at = want.findIndex((w, i) => i >= next && w.equals(ev.payload));
      if (at < 0) this.fail(`pong with payload "${ev.payload.toString('hex').slice(0, 40)}" does not answer an outstanding ping in order`);
      skipped += at - next;
      next = at + 1;
    }
    if (skipped) this.notes.push(`answered ${want.length - skipped} of ${want.length} pings; allowed by RFC 6455 5.5.3`);
    return false;
  }

  /** We send a close frame (plus any frames after it) and expect the peer's close in reply. */
  private async closing(payload: Buffer, after: FrameSpec[], echo: (number | null)[], opts: WriteOptions): Promise<void> {
    this.checkStash('before our close');
    await this.s.send([{ opcode: OP.CLOSE, payload }, ...after], opts);
    await this.closeReply(echo);
  }

  private async closeReply(echo: (number | null)[]): Promise<void> {
    this.checkStash('before the closing handshake');
    const ev = await this.s.next(this.timeoutMs);
    if (ev.type === 'close') {
      if (ev.problem) this.fail(`peer answered our close with an invalid close frame: ${ev.problem}`);
      if (echo.includes(ev.code)) return;
      if (ev.code === null) {
        this.downgrade('NON-STRICT', 'close answered without a status code');
        return;
      }
      this.fail(`close answered with ${describe(ev)}, expected ${echo.map((c) => c ?? 'no code').join(' or ')}`);
    }
    if (ev.type === 'eof') {
      this.downgrade('NON-STRICT', 'peer dropped TCP instead of answering our close (RFC 6455 5.5.1)');
      return;
    }
    if (ev.type === 'timeout') this.fail(`no close frame in reply to ours within ${this.timeoutMs} ms`);
    this.fail(`after our close frame, expected the peer's close, got ${describe(ev)}`);
  }

  private async expectFail(codes: number[], failFast: number | undefined, timeoutMs: number): Promise<void> {
    this.checkStash('before the expected failure');
    let ev = await this.s.next(failFast ?? timeoutMs);
    if (ev.type === 'timeout' && failFast !== undefined) {
      // Not failed yet: send the rest of the message and see whether it fails at the end.
      if (this.pendingRest) await this.s.write(this.pendingRest);
      this.pendingRest = null;
      ev = await this.s.next(timeoutMs);
      if (ev.type === 'close' || ev.type === 'eof') this.downgrade('NON-STRICT', 'did not fail fast: failed only after the rest of the message arrived');
    }
    const expected = codes.join(' or ');
    if (ev.type === 'close') {
      if (ev.problem) this.fail(`peer failed the connection with an invalid close frame: ${ev.problem}`);
      if (ev.code !== null && codes.includes(ev.code)) return;
      if (ev.code !== null && ERROR_CODES.includes(ev.code)) {
        this.downgrade('NON-STRICT', `failed with close ${ev.code}, expected ${expected}`);
        return;
      }
      this.fail(`expected the connection to fail with ${expected}, got ${describe(ev)}`);
    }
    if (ev.type === 'eof') {
      this.downgrade('NON-STRICT', `dropped TCP without a close frame (expected close ${expected}; RFC 6455 7.1.7 SHOULD)`);
      return;
    }
    if (ev.type === 'timeout') this.fail(`connection not failed within ${timeoutMs} ms (expected close ${expected})`);
    this.fail(`expected the connection to fail with ${expected}, got ${describe(ev)} first`);
  }

  /** After the close frames crossed: the server closes TCP first (RFC 6455 7.1.1). */
  private async finish(): Promise<void> {
    if (this.s.role === 'server') {
      this.s.socket.end();
      if (!(await this.s.waitClosed(2000))) this.s.destroy();
      return;
    }
    if (!(await this.s.waitClosed(2000))) {
      this.downgrade('NON-STRICT', 'server did not close TCP within 2 s after the closing handshake (RFC 6455 7.1.1)');
      this.s.destroy();
    }
  }
}

/** Resolve to `late` if `p` has not settled within `ms`. */
export async function withDeadline<T>(p: Promise<T>, ms: number, late: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((r) => {
    timer = setTimeout(() => r(late), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Generous wall-clock bound for a whole case, so one stuck case cannot stall a run. */
export function caseDeadline(c: Case, timeoutMs: number): number {
  return (c.timeoutMs ?? timeoutMs) * 4 + 10000;
}
