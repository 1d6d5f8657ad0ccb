import type { PollOutcome } from "../model/run.js";
import type { RunHead, StoredHead } from "../store/types.js";
import type { ActiveRunCount, DegradedReason, TrackerDeps } from "./deps.js";
import { pollRun, type PollRunResult } from "./poll-run.js";
import { publishOutbox } from "./publish.js";

export interface ShardPassSummary {
  shard: number;
  polled: number;
  unchanged: number;
  written: number;
  /** Runs still unread after every attempt; they are read again next sweep. */
  unread: number;
  errors: Partial<Record<DegradedReason, number>>;
}

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 8000;

export function degradedReasonOf(outcome: Exclude<PollOutcome, { kind: "observed" } | { kind: "not-found" }>): DegradedReason {
  if (outcome.kind === "throttled") return "foundry-429";
  return ({ "http-5xx": "foundry-5xx", timeout: "foundry-timeout", malformed: "foundry-malformed", network: "foundry-network" } as const)[outcome.cause];
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Polls every active run of one shard: one index query, one Foundry read per run (bounded
 * concurrency, under the rate limit), writes only for runs that changed and publishes what each
 * write put in the outbox right after it. Runs whose read failed are retried with backoff (honouring
 * Retry-After); failures are reported as `monitor-degraded`, never as stalls.
 */
export async function pollShard(deps: TrackerDeps, shard: number): Promise<ShardPassSummary> {
  const entries = await deps.store.listShard(shard);
  const summary: ShardPassSummary = { shard, polled: 0, unchanged: 0, written: 0, unread: 0, errors: {} };
  const firstDetail: Partial<Record<DegradedReason, string>> = {};
  const failingProjects: Partial<Record<DegradedReason, Set<string>>> = {};
  const latest = new Map<StoredHead, RunHead>(entries.map((e) => [e, e.head]));
  let pending: StoredHead[] = entries.filter((e) => !e.head.terminal);
  for (let attempt = 1; pending.length > 0 && attempt <= deps.settings.pollAttempts; attempt++) {
    const results = await inPool(pending, deps.settings.concurrency, async (e) => {
      const r = await pollRun(deps, e);
      // Published as soon as written, not at the end of the pass: a shard pass lasts as long as
      // its share of the sweep, and detection latency should not grow with it.
      if (r.kind === "written" && r.outbox.length > 0) await publishOutbox(deps, { only: r.outbox });
      return r;
    });
    const retry: StoredHead[] = [];
    let waitMs = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    results.forEach((r: PollRunResult, i) => {
      summary.polled++;
      if (r.kind === "failed") {
        const reason = degradedReasonOf(r.outcome);
        summary.errors[reason] = (summary.errors[reason] ?? 0) + 1;
        firstDetail[reason] ??= r.outcome.kind === "transient" ? r.outcome.detail : `retry after ${r.outcome.retryAfterMs} ms`;
        (failingProjects[reason] ??= new Set()).add(pending[i].head.ref.project);
        if (r.outcome.kind === "throttled") waitMs = Math.max(waitMs, r.outcome.retryAfterMs);
        retry.push(pending[i]);
      } else if (r.kind === "written") {
        summary.written++;
        latest.set(pending[i], r.decision.head);
      }
      else summary.unchanged++;
    });
    pending = retry;
    if (pending.length > 0 && attempt < deps.settings.pollAttempts) await deps.clock.sleep(waitMs);
  }
  summary.unread = pending.length;
  const now = deps.clock.now();
  for (const [reason, n] of Object.entries(summary.errors) as [DegradedReason, number][]) {
    deps.events.degraded(reason, `shard ${shard}: ${n} failed Foundry reads of ${entries.length} runs (first: ${firstDetail[reason]}); ${summary.unread} left for the next sweep`, now, [...(failingProjects[reason] ?? [])].sort());
  }
  deps.metrics?.activeRuns(shard, countActive([...latest.values()]));
  return summary;
}

/** Non-terminal runs by project and status (the ActiveRuns gauge). */
export function countActive(heads: RunHead[]): ActiveRunCount[] {
  const counts = new Map<string, ActiveRunCount>();
  for (const h of heads) {
    if (h.terminal) continue;
    const status = h.status ?? "unknown";
    const key = `${h.ref.project}\u0000${status}`;
    const c = counts.get(key) ?? { project: h.ref.project, status, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => a.project.localeCompare(b.project) || a.status.localeCompare(b.status));
}
