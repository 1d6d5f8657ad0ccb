import type { Instant } from "../model/run.js";

/** Time as the monitor sees it: real in Azure, virtual in `simulate` and tests. */
export interface Clock {
  now(): Instant;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock that only moves when told to: sleeping advances it at once. Single-threaded use only. */
export class VirtualClock implements Clock {
  constructor(private at: Instant) {}
  now(): Instant {
    return this.at;
  }
  async sleep(ms: number): Promise<void> {
    this.at += Math.max(0, ms);
  }
  advanceTo(at: Instant): void {
    if (at > this.at) this.at = at;
  }
}
