// Insights on the real local stack (Azurite tables, the HTTPS Foundry simulator, the AMQP broker):
// a scenario with known answers (a slow tool, failures, token totals), polled by the real tracking
// core with the onCommitted hook installed, read back through the HTTP handler. Remediation is off:
// the monitor must send Foundry no write at all.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import functions from "@azure/functions";
import { createInsightsHttpHandler } from "../../functions/insights.js";
import { buildInsights, type InsightsServices } from "../../shared/insights/from-settings.js";
import type { ToolInsight, TrendDay, UsageRow } from "../../shared/insights/report.js";
import { TABLE_PREFIX } from "../../shared/services.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { registerRun } from "../../shared/tracking/register.js";
import { contextFor, scenarioOf, startTrackingStack, type TrackingStack } from "./tracking-stack.js";

const usage = { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 };
const slowRun = (n: number, slowSeconds: number) => ({
  api: "classic", project: "alpha", runId: `run_slow${n}`, threadId: `thread_slow${n}`, agentId: "asst_a", model: "gpt-4o", usage,
  timeline: [
    { at: 0, status: "queued" }, { at: 5, status: "in_progress" },
    { at: 10, step: { type: "tool_calls", tool: "crm_search", status: "completed" } },
    { at: 10 + slowSeconds, step: { type: "tool_calls", tool: "slow_lookup", status: "completed" } },
    { at: 100, status: "completed" },
  ],
});
const scenario = scenarioOf([
  slowRun(1, 20), slowRun(2, 30), slowRun(3, 40),
  {
    api: "classic", project: "alpha", runId: "run_refund", threadId: "thread_refund", agentId: "asst_a", model: "gpt-4o", usage,
    timeline: [
      { at: 0, status: "queued" }, { at: 5, status: "in_progress" },
      { at: 20, step: { type: "tool_calls", tool: "create_refund", status: "completed" } },
      { at: 40, status: "failed", lastError: { code: "server_error", message: "downstream timeout" } },
    ],
  },
  {
    api: "classic", project: "alpha", runId: "run_stuck", threadId: "thread_stuck", agentId: "asst_a", model: "gpt-4o",
    timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 10, status: "requires_action", toolCalls: [{ id: "call_x", name: "crm_search" }] }],
  },
]);
const POLICIES = {
  defaults: { severity: "medium", thresholds: { requiresActionSeconds: 60 }, insights: { sideEffectTools: ["create_refund"], readOnlyTools: ["crm_search"], failureRateTarget: 0.2 } },
  prices: { "gpt-4o": { inputPer1K: 0.005, outputPer1K: 0.015 } },
};

let stack: TrackingStack;
let insights: InsightsServices;
const writesToFoundry = () => {
  const r = stack.sim.simulation("alpha").stats().requests;
  return (r["run.cancel"] ?? 0) + (r["run.create"] ?? 0) + (r["thread.create"] ?? 0) + (r["response.cancel"] ?? 0);
};

beforeAll(async () => {
  stack = await startTrackingStack({ scenario, projects: ["alpha"], env: { MONITOR_POLICIES: JSON.stringify(POLICIES) } });
  const tracker = stack.services.tracker;
  insights = await buildInsights(stack.services.settings, { policies: tracker.policies, source: tracker.source, now: () => stack.clock.now(), tablePrefix: TABLE_PREFIX, foundryCa: stack.sim.caPem });
  tracker.onCommitted = insights.hook;
  stack.at(1);
  for (const r of scenario.runs) await registerRun(tracker, { project: "alpha", api: "classic", runId: r.runId, threadId: r.threadId, agentId: r.agentId, tags: {} });
  for (const at of [8, 30, 45, 60, 80, 110, 130]) {
    stack.at(at);
    for (let shard = 0; shard < stack.services.settings.SHARD_COUNT; shard++) await pollShard(tracker, shard);
  }
}, 50_000);
afterAll(async () => {
  await stack?.stop();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const handler = createInsightsHttpHandler({ store: insights.store, policies: stack.services.policies, authMode: "local-open", now: () => stack.clock.now() });
  const res = await handler(new functions.HttpRequest({ method: "GET", url: `http://127.0.0.1/api/insights/${path}` }), contextFor("api-insights"));
  return { status: res.status ?? 200, body: JSON.parse(String(res.body)) as T };
}

test("tool insights: the slow tool leads with known percentiles and its slowest runs", async () => {
  const { status, body } = await get<{ tools: ToolInsight[] }>("tools?since=24h");
  expect(status).toBe(200);
  const slow = body.tools.find((t) => t.tool === "slow_lookup")!;
  expect(body.tools[0].tool).toBe("slow_lookup");
  expect(slow).toMatchObject({ agentId: "asst_a", calls: 3, failed: 0, p50Ms: 30_000, p95Ms: 40_000, p99Ms: 40_000, meanMs: 30_000 });
  expect(slow.slowest.map((s) => s.runId)).toEqual(["run_slow3", "run_slow2", "run_slow1"]);
  expect(body.tools.find((t) => t.tool === "crm_search")).toMatchObject({ calls: 3, p50Ms: 5000 });
  expect(body.tools.find((t) => t.tool === "create_refund")).toMatchObject({ calls: 1, failed: 0 });
});

test("failure trends and token usage with known totals", async () => {
  const trends = await get<{ days: TrendDay[] }>("trends?since=1d");
  expect(trends.body.days).toEqual([
    expect.objectContaining({ day: "2026-03-02", project: "alpha", agentId: "asst_a", runs: 4, completed: 3, failed: 1, stalled: 1, failureRate: 0.25, failureRateTarget: 0.2, overTarget: true }),
  ]);
  const usageBody = await get<{ rows: UsageRow[]; totals: Omit<UsageRow, "day" | "project" | "agentId" | "model"> }>("usage?since=1d");
  expect(usageBody.body.totals).toEqual({ runs: 4, promptTokens: 4000, completionTokens: 800, totalTokens: 4800, estimatedCost: 0.032 });
  expect((await get("usage?since=forever")).status).toBe(400);
});

test("the same commits seen again change nothing", async () => {
  const before = JSON.stringify([(await get("tools?since=1d")).body, (await get("trends?since=1d")).body, (await get("usage?since=1d")).body]);
  for (const runId of scenario.runs.map((r) => r.runId)) {
    const stored = await stack.services.store.getHead("alpha", runId);
    const transitions = await stack.services.store.listTransitions("alpha", runId);
    const h = stored!.head;
    const escalations = Object.entries(h.episodes).map(([reason, e]) => ({ reason: reason as never, episode: e!.episode, ruleTrueAt: e!.since ?? 0 }));
    await insights.hook({ head: h, transitions, escalations, recoveries: [], changed: true }, h);
  }
  const after = JSON.stringify([(await get("tools?since=1d")).body, (await get("trends?since=1d")).body, (await get("usage?since=1d")).body]);
  expect(after).toBe(before);
});

test("a failure after a completed side-effecting call is escalated with partialSideEffects and raised severity", async () => {
  const outbox = await stack.services.store.listOutbox("alpha", "run_refund");
  const failed = outbox.find((o) => o.reason === "failed")!;
  expect(failed).toMatchObject({ partialSideEffects: true, severity: "high", sideEffectCalls: [expect.objectContaining({ name: "create_refund", status: "completed" })] });
  expect(JSON.stringify(failed.sideEffectCalls)).not.toContain("arguments");
  const stuck = (await stack.services.store.listOutbox("alpha", "run_stuck")).find((o) => o.reason === "stalled-requires-action")!;
  expect(stuck.partialSideEffects).toBeUndefined();
  expect(stuck.severity).toBe("medium");
});

test("with remediation off the monitor sends Foundry no write call", () => {
  expect(insights.remediation).toBe(false);
  const r = stack.sim.simulation("alpha").stats().requests;
  expect(r["run.get"]).toBeGreaterThan(0);
  expect(writesToFoundry()).toBe(0);
});
