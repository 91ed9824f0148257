import type { Clock } from '../../core/clock.ts';

/**
 * A fixed-window counter per key, in this process: enough to stop one address from filling a tenant
 * with registrations (RFC 7591 §5: open registration invites abuse). Bounded: the oldest keys go first.
 */
export function createRateLimiter(options: {
  count: number;
  windowMs: number;
  clock: Clock;
  maxKeys?: number;
}) {
  const windows = new Map<string, { start: number; used: number }>();
  const maxKeys = options.maxKeys ?? 10_000;
  return {
    /** 0 when allowed (and counted), else the milliseconds until the window reopens. */
    take(key: string): number {
      const now = options.clock.now();
      let window = windows.get(key);
      if (!window || now - window.start >= options.windowMs) {
        windows.delete(key);
        if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
        window = { start: now, used: 0 };
        windows.set(key, window);
      }
      if (window.used >= options.count) return options.windowMs - (now - window.start);
      window.used++;
      return 0;
    },
  };
}
