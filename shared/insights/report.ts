// Reads the daily buckets of a window and turns them into the answers the API and CLI give.
// Windows are whole UTC days: `--since 24h` covers yesterday and today.
import { resolvePolicy } from "../detect/policy.js";
import type { PolicySet } from "../detect/policy-types.js";
import type { Instant } from "../model/run.js";
import { dayOf, mergeTools, percentiles } from "./aggregate.js";
import type { InsightsStore } from "./store.js";
import type { SlowCall, ToolBucket, TrendBucket, UsageBucket } from "./types.js";

export interface InsightsWindow {
  from: string;
  to: string;
}

export interface InsightsFilter {
  project?: string;
  agentId?: string;
}

export function windowSince(now: Instant, sinceMs: number): InsightsWindow {
  return { from: dayOf(now - sinceMs), to: dayOf(now) };
}

/** `24h`, `7d`, `90m` → milliseconds; undefined for anything else. */
export function parseSince(text: string): number | undefined {
  const m = /^(\d{1,5})([mhd])$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "m" | "h" | "d"] : undefined;
}

const keep = (f: InsightsFilter) => (b: { project: string; agentId: string }) => (!f.project || b.project === f.project) && (!f.agentId || b.agentId === f.agentId);
const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : 0);

export interface ToolInsight {
  project: string;
  agentId: string;
  tool: string;
  calls: number;
  failed: number;
  failureRate: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** False when the percentiles were estimated from the histogram (very busy tools). */
  exactPercentiles: boolean;
  slowest: SlowCall[];
}

export async function toolsReport(store: InsightsStore, window: InsightsWindow, filter: InsightsFilter = {}): Promise<{ window: InsightsWindow; tools: ToolInsight[] }> {
  const buckets = ((await store.buckets("tools", window.from, window.to)) as ToolBucket[]).filter(keep(filter));
  const groups = new Map<string, ToolBucket[]>();
  for (const b of buckets) {
    const key = JSON.stringify([b.project, b.agentId, b.tool]);
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  const tools = [...groups.values()].map((g): ToolInsight => {
    const m = mergeTools(g);
    const p = percentiles(m.durations, m.histogram);
    return {
      project: m.project, agentId: m.agentId, tool: m.tool, calls: m.calls, failed: m.failed, failureRate: rate(m.failed, m.calls),
      meanMs: m.calls ? Math.round(m.totalMs / m.calls) : 0, p50Ms: p.p50, p95Ms: p.p95, p99Ms: p.p99, exactPercentiles: p.exact, slowest: m.slowest,
    };
  });
  tools.sort((a, b) => b.p95Ms - a.p95Ms || a.tool.localeCompare(b.tool));
  return { window, tools };
}

/** One day of a TrendBucket, with its rates. */
export interface TrendDay extends Omit<TrendBucket, "kind"> {
  failureRate: number;
  expiryRate: number;
  stallRate: number;
  /** The policy's failed-run target for this agent, when set. */
  failureRateTarget?: number;
  overTarget?: boolean;
}

export async function trendsReport(store: InsightsStore, window: InsightsWindow, policies: PolicySet, filter: InsightsFilter = {}): Promise<{ window: InsightsWindow; days: TrendDay[] }> {
  const buckets = ((await store.buckets("trends", window.from, window.to)) as TrendBucket[]).filter(keep(filter));
  const days = buckets.map((b): TrendDay => {
    // Targets are per policy; a trend row has no thread or tags, so it takes the first policy matching project and agent.
    const target = resolvePolicy(policies, { project: b.project, api: "classic", agentId: b.agentId, tags: {} }).insights?.failureRateTarget;
    const failureRate = rate(b.failed, b.runs);
    const { kind: _kind, ...counts } = b;
    return {
      ...counts,
      failureRate,
      expiryRate: rate(b.expired, b.runs),
      stallRate: rate(b.stalled, b.runs),
      ...(target !== undefined ? { failureRateTarget: target, overTarget: failureRate > target } : {}),
    };
  });
  days.sort((a, b) => a.project.localeCompare(b.project) || a.agentId.localeCompare(b.agentId) || a.day.localeCompare(b.day));
  return { window, days };
}

export interface UsageRow {
  day: string;
  project: string;
  agentId: string;
  model: string;
  runs: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** From the policy price table, when it lists the model. */
  estimatedCost?: number;
}

export async function usageReport(store: InsightsStore, window: InsightsWindow, policies: PolicySet, filter: InsightsFilter = {}): Promise<{ window: InsightsWindow; rows: UsageRow[]; totals: Omit<UsageRow, "day" | "project" | "agentId" | "model"> }> {
  const buckets = ((await store.buckets("usage", window.from, window.to)) as UsageBucket[]).filter(keep(filter));
  const rows = buckets.map((b): UsageRow => {
    const price = policies.prices?.[b.model];
    const { kind: _kind, ...counts } = b;
    return { ...counts, ...(price ? { estimatedCost: round6((b.promptTokens / 1000) * price.inputPer1K + (b.completionTokens / 1000) * price.outputPer1K) } : {}) };
  });
  rows.sort((a, b) => a.day.localeCompare(b.day) || a.project.localeCompare(b.project) || a.agentId.localeCompare(b.agentId) || a.model.localeCompare(b.model));
  const totals = rows.reduce(
    (t, r) => ({
      runs: t.runs + r.runs,
      promptTokens: t.promptTokens + r.promptTokens,
      completionTokens: t.completionTokens + r.completionTokens,
      totalTokens: t.totalTokens + r.totalTokens,
      ...(r.estimatedCost !== undefined || t.estimatedCost !== undefined ? { estimatedCost: round6((t.estimatedCost ?? 0) + (r.estimatedCost ?? 0)) } : {}),
    }),
    { runs: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 } as Omit<UsageRow, "day" | "project" | "agentId" | "model">,
  );
  return { window, rows, totals };
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
