import type { Clock } from "./clock.js";

export interface RateLimiterOptions {
  /**
   * Space grants evenly (1/perSecond apart) instead of letting a whole second's budget go at once.
   * On the real clock a burst leaves a busy process over the next few hundred ms and reaches
   * Foundry bunched with the next window's, drawing 429s; paced reads arrive as they were granted.
   * Off on the virtual clock, where sleeping moves everyone's time.
   */
  pace?: boolean;
}

/**
 * At most `perSecond` Foundry reads in any 1,000 ms window — a sliding window, the way Foundry's
 * quota (and the simulator) counts them — so the monitor stays under its own limit instead of
 * learning it from 429s. A calendar-second budget is not enough: a burst at the end of one second
 * and another at the start of the next land in one sliding second and draw 429s.
 */
export class RateLimiter {
  /** Grant times, oldest first; `head` skips the ones that left the window without shifting. */
  private grants: number[] = [];
  private head = 0;
  /** With pacing: the earliest instant the next grant may be reserved for. */
  private nextSlot = 0;
  private readonly pace: boolean;

  constructor(private readonly perSecond: number, private readonly clock: Clock, options: RateLimiterOptions = {}) {
    this.pace = options.pace ?? false;
  }

  /** Waits until `n` reads fit in the window (a classic poll with steps is two reads). */
  async acquire(n = 1): Promise<void> {
    if (this.pace) {
      // Reserve a slot up front: one timer per caller, however many are waiting.
      const now = this.clock.now();
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + (n * 1000) / this.perSecond;
      if (slot > now) await this.clock.sleep(slot - now);
    }
    for (;;) {
      const now = this.clock.now();
      while (this.head < this.grants.length && this.grants[this.head] <= now - 1000) this.head++;
      if (this.head > 1024 && this.head * 2 > this.grants.length) {
        this.grants = this.grants.slice(this.head);
        this.head = 0;
      }
      const inWindow = this.grants.length - this.head;
      // A request larger than the whole budget goes through alone rather than never.
      if (inWindow + n <= this.perSecond || inWindow === 0) {
        for (let i = 0; i < n; i++) this.grants.push(now);
        return;
      }
      // the moment enough of the oldest grants have left the window for n more
      const freedBy = this.grants[this.head + inWindow + n - this.perSecond - 1];
      await this.clock.sleep(Math.max(1, freedBy + 1000 - now));
    }
  }
}
