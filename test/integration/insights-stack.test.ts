// Insights on the real local stack (Azurite tables, the HTTPS Foundry simulator, the AMQP broker):
// a scenario with known answers (a slow tool, failures, token totals), polled by the real tracking
// core with the onCommitted hook installed, read back through the HTTP handler. Remediation is off:
// the monitor must send Foundry no write at all.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import functions from "@azure/functions";
import { ServiceBusClient } from "@azure/service-bus";
import { MemoryTicketSink } from "../../local/memory-sink.js";
import type { RequestKind } from "../../local/foundry-sim/simulation.js";
import { createApiHttpHandler } from "../../functions/api.js";
import { createDashboardHandler } from "../../functions/dashboard.js";
import { createInsightsHttpHandler } from "../../functions/insights.js";
import { startDashboardServer } from "../../local/dashboard/server.js";
import { buildInsights, type InsightsServices } from "../../shared/insights/from-settings.js";
import type { ToolInsight, TrendDay, UsageRow } from "../../shared/insights/report.js";
import { TABLE_PREFIX } from "../../shared/services.js";
import { noTelemetry, type Dimensions, type Telemetry } from "../../shared/telemetry/telemetry.js";
import { telemetryMetrics } from "../../shared/telemetry/metrics.js";
import { handleTicketMessage } from "../../shared/tickets/open-ticket.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { registerRun } from "../../shared/tracking/register.js";
import { builtCli } from "./foundry-sim-check.js";
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
/** Every request the simulator served that is not a read (writes, and anything it did not recognise). */
const READS: ReadonlySet<RequestKind> = new Set(["run.get", "runs.list", "steps.list", "step.get", "messages.list", "thread.get", "assistant.get", "response.get", "conversation.get", "conversation.items"]);
const nonReads = () => Object.entries(stack.sim.simulation("alpha").stats().requests).filter(([kind, n]) => !READS.has(kind as RequestKind) && n);
/** The metrics the monitor sent, as Application Insights would receive them. */
const metrics: { name: string; value: number; dims: Dimensions }[] = [];
const captured: Telemetry = { ...noTelemetry, trackMetric: (name, value, dims = {}) => void metrics.push({ name, value, dims }) };
const toolMetrics = (name: string) => metrics.filter((m) => m.name === name);

beforeAll(async () => {
  stack = await startTrackingStack({ scenario, projects: ["alpha"], env: { MONITOR_POLICIES: JSON.stringify(POLICIES) } });
  const tracker = stack.services.tracker;
  insights = await buildInsights(stack.services.settings, { source: tracker.source, metrics: telemetryMetrics(captured), now: () => stack.clock.now(), tablePrefix: TABLE_PREFIX, foundryCa: stack.sim.caPem });
  tracker.onCommitted = insights.hook;
  tracker.remediate = insights.remediate;
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

test("each counted tool call is a ToolCalls metric and a ToolCallDurationMs measurement, per agent and tool", () => {
  const calls = toolMetrics("ToolCalls");
  const byTool = (tool: string) => calls.filter((m) => m.dims.tool === tool).length;
  expect([byTool("slow_lookup"), byTool("crm_search"), byTool("create_refund")]).toEqual([3, 3, 1]);
  expect(calls.every((m) => m.value === 1 && m.dims.project === "alpha" && m.dims.agentId === "asst_a" && m.dims.status === "completed")).toBe(true);
  const slow = toolMetrics("ToolCallDurationMs").filter((m) => m.dims.tool === "slow_lookup").map((m) => m.value).sort((a, b) => a - b);
  expect(slow).toEqual([20_000, 30_000, 40_000]);
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

test("`run-monitor insights` reads them over HTTP: the slow tool with its slowest run, usage with its cost", async () => {
  const KEY = "insights-cli-key";
  const insightsDeps = { store: insights.store, policies: stack.services.policies, authMode: "local-open" as const, now: () => stack.clock.now() };
  const server = await startDashboardServer({
    port: 0,
    functionKey: KEY,
    handlers: { api: createApiHttpHandler({ store: stack.services.store, authMode: "local-open", now: () => stack.clock.now() }), dashboard: createDashboardHandler(), insights: createInsightsHttpHandler(insightsDeps) },
  });
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [builtCli(), "insights", ...args, "--api", server.url, "--key", KEY], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr })),
    );
  try {
    const tools = await cli("tools", "--since", "24h");
    expect(tools).toMatchObject({ code: 0, stderr: "" });
    const lines = tools.stdout.trimEnd().split("\n");
    expect(lines[1]).toMatch(/^PROJECT\s+AGENT\s+TOOL\s+CALLS\s+FAILED\s+P50\s+P95\s+P99\s+SLOWEST RUN$/);
    expect(lines[3]).toMatch(/^alpha\s+asst_a\s+slow_lookup\s+3\s+0\.0%\s+30s\s+40s\s+40s\s+run_slow3 \(40s\)$/);
    const usage = await cli("usage", "--since", "1d", "--json");
    expect(JSON.parse(usage.stdout).totals).toEqual({ runs: 4, promptTokens: 4000, completionTokens: 800, totalTokens: 4800, estimatedCost: 0.032 });
    expect((await cli("trends", "--since", "1d")).stdout).toMatch(/2026-03-02\s+alpha\s+asst_a\s+4\s+25\.0%\s+0\.0%\s+25\.0%\s+20\.0% OVER/);
  } finally {
    await server.close();
  }
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
  expect(toolMetrics("ToolCalls")).toHaveLength(7); // nothing reported twice either
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

test("its ticket, opened from the Service Bus message, lists the side-effecting call for support to check first", async () => {
  const bus = new ServiceBusClient(stack.broker.connectionString);
  const receiver = bus.createReceiver("run-escalations", "tickets", { receiveMode: "receiveAndDelete" });
  const sink = new MemoryTicketSink();
  try {
    const messages = await receiver.receiveMessages(50, { maxWaitTimeInMs: 2000 });
    const refund = messages.filter((m) => String(m.messageId).startsWith("run_refund:failed:"));
    expect(refund).toHaveLength(1);
    const { result } = await handleTicketMessage({ ...stack.services.tickets, sinksFor: () => [sink] }, refund[0].body);
    expect(result).toMatchObject({ kind: "done", action: "opened" });
  } finally {
    await receiver.close();
    await bus.close();
  }
  const body = sink.received[0].body;
  expect(body).toContain("Partial side effects: check the downstream system first");
  expect(body).toMatch(/create_refund.*\| completed/);
  expect(body).toMatch(/Severity\W+high/);
  expect(body).not.toMatch(/arguments\W*[:=]/i);
});

test("with remediation off the monitor sends Foundry no write call: the simulator served reads only", () => {
  expect(insights.remediation).toBe(false);
  expect(insights.remediate).toBeUndefined();
  const r = stack.sim.simulation("alpha").stats().requests;
  expect(r["run.get"]).toBeGreaterThan(0);
  expect(r["steps.list"]).toBeGreaterThan(0);
  // a stuck run and a failed run were seen: with remediation on, these would be a cancel and a create
  expect(nonReads()).toEqual([]);
});
