// Opt-in remediation on the real local stack: a run stuck in requires_action is cancelled and a
// failed read-only run is retried on its thread — each exactly once, across a restart (fresh
// services and stores over the same Azurite), replayed commits and an executor that died between
// its ledger row and its Foundry call, or between the Foundry call and the ledger update.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { ClassicRemediationClient } from "../../shared/foundry/remediation-client.js";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { buildInsights, type InsightsServices } from "../../shared/insights/from-settings.js";
import { createTableInsightsStore } from "../../shared/insights/store.js";
import { executeRemediation } from "../../shared/remediation/execute.js";
import { buildServices, TABLE_PREFIX, type Services } from "../../shared/services.js";
import type { TrackerDeps } from "../../shared/tracking/deps.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { publishOutbox } from "../../shared/tracking/publish.js";
import { registerRun } from "../../shared/tracking/register.js";
import { scenarioOf, startTrackingStack, type TrackingStack } from "./tracking-stack.js";

const scenario = scenarioOf([
  { api: "classic", project: "alpha", runId: "run_stuck", threadId: "thread_stuck", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 10, status: "requires_action", toolCalls: [{ id: "call_x", name: "crm_search" }] }] },
  {
    api: "classic", project: "alpha", runId: "run_flaky", threadId: "thread_flaky", agentId: "asst_a",
    timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 10, step: { type: "tool_calls", tool: "crm_search", status: "completed" } }, { at: 40, status: "failed", lastError: { code: "server_error", message: "x" } }],
  },
  {
    api: "classic", project: "alpha", runId: "run_refund", threadId: "thread_refund", agentId: "asst_a",
    timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 10, step: { type: "tool_calls", tool: "create_refund", status: "completed" } }, { at: 40, status: "failed", lastError: { code: "server_error", message: "x" } }],
  },
  { api: "classic", project: "alpha", runId: "run_crash", threadId: "thread_crash", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }, { at: 5, status: "failed", lastError: { code: "server_error", message: "x" } }] },
]);
const POLICIES = { defaults: { thresholds: { requiresActionSeconds: 60 }, insights: { readOnlyTools: ["crm_search"], remediation: { cancelStuck: true, retryFailed: true, maxRetries: 1 } } } };

let stack: TrackingStack;
const extra: Services[] = [];
const writes = () => {
  const r = stack.sim.simulation("alpha").stats().requests;
  return { cancel: r["run.cancel"] ?? 0, create: r["run.create"] ?? 0 };
};

/** One monitor process: services over the shared Azurite, with insights and remediation on. */
async function startMonitor(): Promise<{ tracker: TrackerDeps; insights: InsightsServices }> {
  const services = await buildServices(stack.services.settings, { foundryCa: stack.sim.caPem, foundryCredential: localSimulatorCredential, clock: stack.clock, log: () => {} }, {});
  extra.push(services);
  const tracker = services.tracker;
  const insights = await buildInsights(services.settings, {
    source: tracker.source, now: () => stack.clock.now(), tablePrefix: TABLE_PREFIX, remediation: true,
    foundryCa: stack.sim.caPem, foundryCredential: localSimulatorCredential, register: (req) => registerRun(tracker, req),
  });
  tracker.onCommitted = insights.hook;
  tracker.remediate = insights.remediate;
  return { tracker, insights };
}
async function pollAt(tracker: TrackerDeps, at: number): Promise<void> {
  stack.at(at);
  for (let shard = 0; shard < stack.services.settings.SHARD_COUNT; shard++) await pollShard(tracker, shard);
}

beforeAll(async () => {
  stack = await startTrackingStack({ scenario, projects: ["alpha"], env: { MONITOR_POLICIES: JSON.stringify(POLICIES) } });
}, 30_000);
afterAll(async () => {
  for (const s of extra) await s.close().catch(() => undefined);
  await stack?.stop();
});

test("cancel and retry act once each, across a restart and replayed commits", async () => {
  const first = await startMonitor();
  stack.at(1);
  for (const r of scenario.runs.filter((x) => x.runId !== "run_crash")) await registerRun(first.tracker, { project: "alpha", api: "classic", runId: r.runId, threadId: r.threadId, agentId: r.agentId, tags: {} });
  for (const at of [8, 30, 45, 60]) await pollAt(first.tracker, at);
  expect(writes()).toEqual({ cancel: 0, create: 1 }); // run_flaky retried; run_refund called a tool not marked read-only
  await pollAt(first.tracker, 95); // run_stuck 60 s after the poll that first saw it waiting (30 s)
  expect(writes()).toEqual({ cancel: 1, create: 1 });

  // "restart": a new process over the same tables; it polls on, replays every run's commits and
  // publishes every escalation again (a replayed publish is where remediation would act)
  const second = await startMonitor();
  for (const at of [100, 110, 130]) await pollAt(second.tracker, at);
  for (const runId of ["run_stuck", "run_flaky", "run_refund"]) {
    const h = (await second.tracker.store.getHead("alpha", runId))!.head;
    const escalations = Object.entries(h.episodes).map(([reason, e]) => ({ reason: reason as never, episode: e!.episode, ruleTrueAt: e!.since ?? 0 }));
    await second.insights.hook({ head: h, transitions: await second.tracker.store.listTransitions("alpha", runId), escalations, recoveries: [], changed: true }, h);
    const outbox = await second.tracker.store.listOutbox("alpha", runId);
    expect((await publishOutbox(second.tracker, { only: outbox })).sent).toBe(outbox.length);
  }
  expect(writes()).toEqual({ cancel: 1, create: 1 });

  expect((await second.tracker.store.getHead("alpha", "run_stuck"))!.head.status).toBe("cancelled");
  const flaky = await second.insights.store.listRemediation("alpha", "run_flaky");
  expect(flaky).toEqual([expect.objectContaining({ action: "retry", attempt: 1, state: "done", runId: "run_flaky" })]);
  // the retry run is itself watched, tagged with its lineage, and completed
  const retry = (await second.tracker.store.getHead("alpha", flaky[0].newRunId!))!.head;
  expect(retry.tags).toEqual({ "remediation.retryOf": "run_flaky", "remediation.attempt": "1" });
  expect(retry.status).toBe("completed");
  expect(await second.insights.store.listRemediation("alpha", "run_stuck")).toEqual([expect.objectContaining({ action: "cancel", state: "done", because: "stalled-requires-action" })]);
  expect(await second.insights.store.listRemediation("alpha", "run_refund")).toEqual([]);
}, 50_000);

test("an executor that died after its Foundry call is resumed without a second run", async () => {
  const ledger = createTableInsightsStore({ connectionString: stack.azurite.connectionString, tablePrefix: TABLE_PREFIX });
  const client = new ClassicRemediationClient({ endpoint: stack.projects[0].endpoint, credential: localSimulatorCredential, ca: stack.sim.caPem });
  const plan = { action: "retry" as const, ref: { project: "alpha", api: "classic" as const, runId: "run_crash", threadId: "thread_crash" }, rootRunId: "run_crash", attempt: 1, agentId: "asst_a", because: "failed" };
  stack.at(200);
  const startedAt = stack.clock.now();
  // the dead executor: ledger row written, run created, then killed before recording it
  await ledger.claimRemediation({ project: "alpha", runId: "run_crash", threadId: "thread_crash", rootRunId: "run_crash", action: "retry", attempt: 1, because: "failed", state: "started", startedAt });
  const created = await client.createRun("thread_crash", "asst_a");
  expect(created.kind).toBe("ok");
  const before = writes().create;
  const deps = { ledger, clientFor: () => client, now: () => stack.clock.now(), staleAfterMs: 0 };
  const resumed = await executeRemediation(deps, plan);
  const again = await executeRemediation(deps, plan);
  expect(writes().create).toBe(before);
  expect(resumed).toMatchObject({ state: "done", newRunId: created.kind === "ok" ? created.run.id : "?" });
  expect(again).toEqual(resumed);
});
