// sweep (timer) → poll-shards (Azurite queue, written by the timer's output binding) → poll-shard
// (queue trigger), all through the local Functions host and the exported handlers, against the
// HTTPS Foundry simulator on a manual clock. What a sweep writes, and what it must not write.
import functions, { type HttpResponseInit, type Timer } from "@azure/functions";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { pollShardHandler } from "../../functions/poll-shard.js";
import { purgeHistoryHandler } from "../../functions/purge-history.js";
import { registerRunHttp } from "../../functions/register-run.js";
import { pollShardsQueue, sweepHandler } from "../../functions/sweep.js";
import { decodeQueueMessage, LocalFunctionsHost } from "../../local/functions-host.js";
import type { RunHead } from "../../shared/store/types.js";
import { contextFor, scenarioOf, startTrackingStack, type TrackingStack } from "./tracking-stack.js";

const scenario = scenarioOf([
  { api: "classic", project: "alpha", runId: "run_done", threadId: "thread_done", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }, { at: 20, status: "in_progress" }, { at: 60, status: "completed" }] },
  { api: "classic", project: "alpha", runId: "run_long", threadId: "thread_long", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }] },
  {
    api: "classic", project: "alpha", runId: "run_wait", threadId: "thread_wait", agentId: "asst_a",
    timeline: [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }, { at: 25, status: "requires_action", toolCalls: [{ id: "call_1", name: "lookup" }] }],
  },
  {
    api: "responses", project: "alpha", runId: "resp_fail", threadId: "conv_fail", agentId: "helper-v2",
    timeline: [{ at: 0, status: "queued" }, { at: 15, status: "in_progress" }, { at: 50, status: "failed", lastError: { code: "server_error", message: "upstream broke" } }],
  },
]);
const RUNS = ["run_done", "run_long", "run_wait", "resp_fail"];
const threadOf = (runId: string) => scenario.runs.find((r) => r.runId === runId)!.threadId;

let stack: TrackingStack;
let host: LocalFunctionsHost;
const hostLog: string[] = [];
const sweepOutputs = [{ binding: pollShardsQueue, queueName: "poll-shards" }];

beforeAll(async () => {
  stack = await startTrackingStack({ scenario, projects: ["alpha"] });
  host = new LocalFunctionsHost({ connectionString: stack.azurite.connectionString, visibilityTimeoutSeconds: 5, log: (l) => hostLog.push(l) });
  await host.ensureQueues(["poll-shards"]);
}, 30_000);
afterAll(async () => {
  await host?.stop();
  await stack?.stop();
});

const store = () => stack.services.store;
async function sweepAndWait(): Promise<void> {
  await host.invokeTimer("sweep", sweepHandler, sweepOutputs);
  await host.whenIdle(["poll-shards"], 20_000);
}
async function activeRuns(): Promise<string[]> {
  const runs: string[] = [];
  for (let shard = 0; shard < stack.services.settings.SHARD_COUNT; shard++) runs.push(...(await store().listShard(shard)).map((e) => e.head.ref.runId));
  return runs.sort();
}
const foundryReads = () => {
  const r = stack.sim.simulation("alpha").stats().requests;
  return (r["run.get"] ?? 0) + (r["response.get"] ?? 0);
};
const head = async (runId: string): Promise<RunHead | undefined> => (await store().getHead("alpha", runId))?.head;

test("registered runs: the sweep writes one poll-shards message per non-empty shard", async () => {
  stack.at(0);
  for (const runId of RUNS) {
    const api = runId.startsWith("resp_") ? "responses" : "classic";
    const request = new functions.HttpRequest({ method: "POST", url: "http://127.0.0.1/api/runs", body: { string: JSON.stringify({ project: "alpha", api, runId, threadId: threadOf(runId) }) } });
    const r: HttpResponseInit = await registerRunHttp(request, contextFor("register-run"));
    expect(r.status).toBe(201);
  }
  const shards = await store().nonEmptyShards();
  expect(shards.length).toBeGreaterThan(0);
  await host.invokeTimer("sweep", sweepHandler, sweepOutputs);
  const queued = (await host.queue("poll-shards").peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeQueueMessage(m.messageText));
  expect(queued).toEqual(expect.arrayContaining(shards.map((shard) => ({ shard }))));
  expect(queued).toHaveLength(shards.length);
  // Only now does the queue trigger start, so the messages above were seen before anyone took them.
  host.queueTrigger("poll-shard", "poll-shards", pollShardHandler);
  await host.whenIdle(["poll-shards"], 20_000);
  // Nothing moved in Foundry since registration: the pass read every run and wrote nothing.
  expect(stack.events.transitions.filter((t) => t.seq > 1)).toEqual([]);
});

test("transitions seen by poll-shard appear in the store, head and timeline in step", async () => {
  stack.at(30);
  await sweepAndWait();
  expect(await head("run_done")).toMatchObject({ status: "in_progress", seq: 2 });
  expect(await head("run_long")).toMatchObject({ status: "in_progress", seq: 2 });
  expect(await head("run_wait")).toMatchObject({ status: "requires_action", seq: 2, pendingToolCalls: [expect.objectContaining({ id: "call_1", name: "lookup" })] });
  expect(await head("resp_fail")).toMatchObject({ status: "in_progress", seq: 2 });
  for (const runId of RUNS) {
    const path = (await store().listTransitions("alpha", runId)).map((t) => [t.seq, t.from, t.to]);
    expect(path).toEqual([[1, null, "queued"], [2, "queued", (await head(runId))!.status]]);
  }
  expect(hostLog.filter((l) => /error|failed/i.test(l))).toEqual([]);
});

test("a sweep where nothing changed in Foundry reads every run and makes zero Table writes", async () => {
  stack.at(40);
  const before = { ...store().counters };
  const readsBefore = foundryReads();
  await sweepAndWait();
  expect(foundryReads() - readsBefore).toBe(RUNS.length); // one Foundry read per active run, no steps
  expect(store().counters.reads).toBeGreaterThan(before.reads);
  expect(store().counters.writes).toBe(before.writes);
});

test("terminal runs leave the active index (after their escalation is published) and are not polled again", async () => {
  stack.at(70);
  await sweepAndWait();
  expect(await head("run_done")).toMatchObject({ status: "completed", terminal: true, pendingOutbox: [] });
  expect(await head("resp_fail")).toMatchObject({ status: "failed", terminal: true, pendingOutbox: [], lastError: { code: "server_error" } });
  expect(stack.events.published.map((p) => p.messageId)).toEqual(["resp_fail:failed:1"]);
  expect((await store().listOutbox("alpha", "resp_fail")).map((o) => o.status)).toEqual(["sent"]);
  expect(await activeRuns()).toEqual(["run_long", "run_wait"]);
  expect(await store().countActive("alpha")).toBe(2);

  stack.at(80);
  const before = { ...store().counters };
  const readsBefore = foundryReads();
  await sweepAndWait();
  expect(foundryReads() - readsBefore).toBe(2);
  expect(store().counters.writes).toBe(before.writes);
});

test("purge-history removes terminal runs (head, timeline, outbox, lookups) only after HISTORY_RETENTION_DAYS", async () => {
  const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
  const logs: string[] = [];
  await purgeHistoryHandler(timer, contextFor("purge-history", logs));
  expect(logs).toEqual([expect.stringMatching(/purge-history: 0 runs removed/)]);
  expect(await head("run_done")).toBeDefined();

  stack.clock.skipMs = 25 * 3600 * 1000; // one day (the configured retention) and an hour
  await purgeHistoryHandler(timer, contextFor("purge-history", logs));
  expect(logs[1]).toMatch(/purge-history: 2 runs removed/);
  for (const runId of ["run_done", "resp_fail"]) {
    expect(await head(runId)).toBeUndefined();
    expect(await store().listTransitions("alpha", runId)).toEqual([]);
    expect(await store().listOutbox("alpha", runId)).toEqual([]);
    expect((await store().searchRuns({ threadId: threadOf(runId) })).runs).toEqual([]);
  }
  // active runs are untouched, however old
  expect((await store().searchRuns({ runId: "run_long" })).runs.map((h) => h.ref.runId)).toEqual(["run_long"]);
  expect(await activeRuns()).toEqual(["run_long", "run_wait"]);
  stack.clock.skipMs = 0;
});
