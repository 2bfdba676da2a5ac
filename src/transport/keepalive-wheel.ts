/** Something that checks its peer's liveness on each tick. */
export interface KeepaliveMember {
  keepaliveTick(now: number): void;
}

interface Wheel {
  readonly members: Set<KeepaliveMember>;
  readonly timer: NodeJS.Timeout;
}

/**
 * One shared interval per tick period for all connections, instead of a timer per connection:
 * an idle server with 10,000 sockets keeps one timer, not 10,000 (each costs heap and a slot
 * in Node's timer lists). A member is ticked once per period; it keeps its own clock.
 */
const wheels = new Map<number, Wheel>();

export function joinKeepalive(periodMs: number, member: KeepaliveMember): void {
  let wheel = wheels.get(periodMs);
  if (!wheel) {
    const members = new Set<KeepaliveMember>();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const each of members) each.keepaliveTick(now);
    }, periodMs);
    timer.unref();
    wheel = { members, timer };
    wheels.set(periodMs, wheel);
  }
  wheel.members.add(member);
}

export function leaveKeepalive(periodMs: number, member: KeepaliveMember): void {
  const wheel = wheels.get(periodMs);
  if (!wheel || !wheel.members.delete(member)) return;
  if (wheel.members.size === 0) {
    clearInterval(wheel.timer);
    wheels.delete(periodMs);
  }
}
