// Injected trouble: scenario faults on run reads, and the project's request rate limit.

import type { FaultKind, ScenarioFault } from "../scenario/schema.js";

/**
 * Which fault (if any) a read at scenario second `at` gets, for a draw `u` in [0, 1). The faults
 * active at `at` share the unit interval in the order listed, so each hits at its own ratio even
 * when windows overlap (a 0.2 http500 and a 0.05 http429 → 20 % and 5 %, never 20 % of 5 %).
 */
export function pickFault(faults: readonly ScenarioFault[], at: number, u: number): FaultKind | undefined {
  let edge = 0;
  for (const f of faults) {
    if (at < f.from || at >= f.to) continue;
    edge += f.ratio;
    if (u < edge) return f.kind;
  }
  return undefined;
}

/**
 * Requests per second for one project. With real time it is a sliding one-second window (what a
 * client pacing itself sees); on a virtual clock it counts per scenario second.
 * Refused requests are not counted, so a client that backs off is served again.
 */
export class RateLimit {
  private readonly realHits: number[] = [];
  private virtualSecond = Number.NaN;
  private virtualCount = 0;

  constructor(private readonly perSecond: number) {}

  /** Undefined when the request may go on; otherwise the Retry-After seconds to answer with. */
  admit(atSeconds: number, realNowMs?: number): number | undefined {
    if (realNowMs !== undefined) {
      while (this.realHits.length && this.realHits[0] <= realNowMs - 1000) this.realHits.shift();
      if (this.realHits.length >= this.perSecond) return Math.max(1, Math.ceil((this.realHits[0] + 1000 - realNowMs) / 1000));
      this.realHits.push(realNowMs);
      return undefined;
    }
    const second = Math.floor(atSeconds);
    if (second !== this.virtualSecond) {
      this.virtualSecond = second;
      this.virtualCount = 0;
    }
    if (this.virtualCount >= this.perSecond) return 1;
    this.virtualCount++;
    return undefined;
  }
}
