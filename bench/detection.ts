// Detection latency: from the moment a known run's rule became true (ground truth from the
// generated scenario, on the simulator's clock) to the moment its escalation was published.

import type { Instant } from "../shared/model/run.js";
import type { KnownEvent } from "./scenario.js";

/** Nearest-rank percentile of unsorted samples; undefined for none. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface DetectionSummary {
  /** Known events expected to be detected inside the measured window. */
  expected: number;
  detected: number;
  /** Known events with no escalation by the end (should be 0). */
  missed: number;
  /** Escalations for runs that had no reason to escalate, or for the wrong reason (should be 0). */
  unexpected: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** The same, measured from the ruleTrueAt the monitor itself wrote in the outbox row (monitor only). */
  reportedP50Ms?: number;
  reportedP99Ms?: number;
}

export class DetectionRecorder {
  private readonly latencies: number[] = [];
  private readonly reported: number[] = [];
  private readonly seen = new Set<string>();
  private unexpected = 0;

  /** `startMs`: the simulator's second 0 in epoch ms. */
  constructor(private readonly known: ReadonlyMap<string, KnownEvent>, private readonly startMs: Instant) {}

  /** One escalation published at `publishedAt` (epoch ms). */
  published(runId: string, reason: string, publishedAt: Instant, ruleTrueAt?: Instant): void {
    const event = this.known.get(runId);
    if (!event || event.reason !== reason) {
      this.unexpected++;
      return;
    }
    if (this.seen.has(runId)) return;
    this.seen.add(runId);
    this.latencies.push(publishedAt - (this.startMs + event.trueAt * 1000));
    if (ruleTrueAt !== undefined) this.reported.push(publishedAt - ruleTrueAt);
  }

  summary(): DetectionSummary {
    const r = (x: number | undefined) => (x === undefined ? undefined : Math.round(x));
    return {
      expected: this.known.size,
      detected: this.seen.size,
      missed: this.known.size - this.seen.size,
      unexpected: this.unexpected,
      p50Ms: r(percentile(this.latencies, 50)),
      p99Ms: r(percentile(this.latencies, 99)),
      maxMs: r(percentile(this.latencies, 100)),
      reportedP50Ms: r(percentile(this.reported, 50)),
      reportedP99Ms: r(percentile(this.reported, 99)),
    };
  }
}
