import type { Clock } from "./clock.js";

/**
 * At most `perSecond` Foundry reads in any calendar second, the way Foundry's quota (and the
 * simulator) counts them — so the monitor stays under its own limit instead of learning it from 429s.
 */
export class RateLimiter {
  private second = -1;
  private used = 0;
  constructor(private readonly perSecond: number, private readonly clock: Clock) {}

  /** Waits until `n` reads fit in the current second (a classic poll with steps is two reads). */
  async acquire(n = 1): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const second = Math.floor(now / 1000);
      if (second !== this.second) {
        this.second = second;
        this.used = 0;
      }
      if (this.used + n <= this.perSecond || this.used === 0) {
        this.used += n;
        return;
      }
      await this.clock.sleep((second + 1) * 1000 - now);
    }
  }
}
