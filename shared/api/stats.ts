import type { Instant } from "../model/run.js";
import type { RunHead, RunStore } from "../store/types.js";
import { BUCKETS, type StatsQuery } from "./query.js";

/** Runs one stats answer may read: about five search pages. A wider range says `truncated`. */
export const MAX_STATS_RUNS = 5000;
const PAGE = 1000;

export interface StatsBucket {
  start: string;
  total: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
}

export interface StatsBody {
  from: string;
  to: string;
  bucket: string;
  buckets: StatsBucket[];
  totals: { runs: number; byStatus: Record<string, number>; byReason: Record<string, number> };
  /** True when more runs matched than one answer reads; counts cover the newest MAX_STATS_RUNS. */
  truncated: boolean;
}

const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

/** Pure: counts runs (by registration time) into UTC-aligned buckets. A run that never got a status counts as `unobserved`. */
export function countRuns(runs: RunHead[], q: StatsQuery, truncated: boolean): StatsBody {
  const size = BUCKETS[q.bucket];
  const first = Math.floor(q.from / size) * size;
  const buckets: StatsBucket[] = [];
  for (let start = first; start <= q.to; start += size) buckets.push({ start: new Date(start).toISOString(), total: 0, byStatus: {}, byReason: {} });
  const totals = { runs: 0, byStatus: {} as Record<string, number>, byReason: {} as Record<string, number> };
  for (const h of runs) {
    if (h.registeredAt < q.from || h.registeredAt > q.to) continue;
    const b = buckets[Math.floor((h.registeredAt - first) / size)];
    if (!b) continue;
    const status = h.status ?? "unobserved";
    b.total++;
    totals.runs++;
    bump(b.byStatus, status);
    bump(totals.byStatus, status);
    for (const reason of Object.keys(h.episodes)) {
      bump(b.byReason, reason);
      bump(totals.byReason, reason);
    }
  }
  return { from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), bucket: q.bucket, buckets, totals, truncated };
}

export async function computeStats(store: RunStore, q: StatsQuery): Promise<StatsBody> {
  const runs: RunHead[] = [];
  let token: string | undefined;
  let truncated = false;
  do {
    const page = await store.searchRuns({ from: q.from as Instant, to: q.to as Instant, project: q.project, limit: PAGE, continuationToken: token });
    runs.push(...page.runs);
    token = page.continuationToken;
    if (token && runs.length >= MAX_STATS_RUNS) {
      truncated = true;
      break;
    }
  } while (token);
  return countRuns(runs.slice(0, MAX_STATS_RUNS), q, truncated);
}
