// discover-runs (timer) through the exported handler and the local Functions host, against the
// HTTPS Foundry simulator on a manual clock with the real @azure/ai-agents client and Azurite:
// an active run nobody registered is registered once, terminal runs never, a project with discovery
// off is never listed, and a flaky threads list (5xx, 429) degrades one tick and the next catches up.
import functions, { type HttpResponseInit, type Timer } from "@azure/functions";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { discoverRunsHandler } from "../../functions/discover-runs.js";
import { pollShardHandler } from "../../functions/poll-shard.js";
import { registerRunHttp } from "../../functions/register-run.js";
import { pollShardsQueue, sweepHandler } from "../../functions/sweep.js";
import type { LocalFunctionsHost } from "../../local/functions-host.js";
import type { RequestKind } from "../../local/foundry-sim/simulation.js";
import type { ProjectDiscovery } from "../../shared/tracking/discover.js";
import { contextFor, scenarioOf, startLocalHost, startTrackingStack, type TrackingStack } from "./tracking-stack.js";

const active = [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }];
const scenario = scenarioOf(
  [
    { api: "classic", project: "disc", runId: "run_found", threadId: "thread_found", agentId: "asst_d", timeline: active },
    { api: "classic", project: "disc", runId: "run_done", threadId: "thread_done", agentId: "asst_d", timeline: [{ at: 0, status: "queued" }, { at: 20, status: "completed" }] },
    { api: "classic", project: "disc", runId: "run_known", threadId: "thread_known", agentId: "asst_d", timeline: active },
    { api: "responses", project: "disc", runId: "resp_v2", threadId: "conv_v2", agentId: "helper-v2", timeline: active },
    { api: "classic", project: "quiet", runId: "run_quiet", threadId: "thread_quiet", agentId: "asst_q", timeline: active },
  ],
  // every Foundry read fails in these windows (ratio 1): 500s, then 429s with Retry-After
  { foundry: { faults: [{ from: 100, to: 200, kind: "http500", ratio: 1 }, { from: 200, to: 300, kind: "http429", ratio: 1 }] } },
);

let stack: TrackingStack;
let host: LocalFunctionsHost;
const hostLog: string[] = [];
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };

beforeAll(async () => {
  stack = await startTrackingStack({ scenario, projects: ["disc", "quiet"], discovery: ["disc"] });
  host = await startLocalHost(stack, hostLog);
}, 30_000);
afterAll(async () => {
  await host?.stop();
  await stack?.stop();
});

const requests = (project: string) => stack.sim.simulation(project).stats().requests;
const count = (project: string, kind: RequestKind) => requests(project)[kind] ?? 0;
const head = async (project: string, runId: string) => (await stack.services.store.getHead(project, runId))?.head;
async function tick(logs: string[] = []): Promise<ProjectDiscovery[]> {
  return discoverRunsHandler(timer, contextFor("discover-runs", logs));
}

test("a run the app registered is known before discovery starts", async () => {
  stack.at(30);
  const request = new functions.HttpRequest({ method: "POST", url: "http://127.0.0.1/api/runs", body: { string: JSON.stringify({ project: "disc", runId: "run_known", threadId: "thread_known", tags: { owner: "app" } }) } });
  const r: HttpResponseInit = await registerRunHttp(request, contextFor("register-run"));
  expect(r.status).toBe(201);
});

test("a 5xx, then a 429 from the threads list: the tick ends without error, registers nothing and says monitor degraded", async () => {
  stack.at(150);
  const logs: string[] = [];
  const [failing] = await tick(logs);
  expect(failing).toMatchObject({ project: "disc", listCalls: 1, threads: 0, registered: [], trouble: expect.stringMatching(/threads list failed/) });
  expect(logs).toEqual([expect.stringMatching(/^warning: discover-runs disc: 1 list calls, 0 threads, .*threads list failed/)]);

  stack.at(250);
  const [throttled] = await tick();
  expect(throttled).toMatchObject({ listCalls: 1, registered: [] });
  expect(stack.events.degradations.map((d) => d.reason)).toEqual(["foundry-5xx", "foundry-429"]);
  expect(stack.events.degradations[1].detail).toMatch(/discovery of project disc: 1 of 1 Foundry list calls failed \(first: throttled, retry after 1000 ms\)/);
  expect(await head("disc", "run_found")).toBeUndefined();
  expect(stack.events.registeredRuns).toEqual(["run_known"]);
});

test("the next tick catches up: the unregistered active run is registered; terminal, known and v2 runs are not", async () => {
  stack.at(350);
  const [result] = await tick();
  // 1 threads list + one runs list per classic thread (found, done, known)
  expect(result).toEqual({ project: "disc", listCalls: 4, threads: 3, activeRuns: 2, registered: ["run_found"], alreadyKnown: 1, notRegistered: 0 });
  const found = await head("disc", "run_found");
  expect([found?.status, found?.agentId, found?.ref.threadId, found?.tags]).toEqual(["in_progress", "asst_d", "thread_found", { registeredBy: "discovery" }]);
  expect(await head("disc", "run_done")).toBeUndefined();
  expect((await head("disc", "run_known"))?.tags).toEqual({ owner: "app" });
  expect(await head("disc", "resp_v2")).toBeUndefined();
});

test("a second tick registers nothing again and reads no run: the list calls are its whole Foundry cost", async () => {
  stack.at(400);
  const before = { threads: count("disc", "threads.list"), runs: count("disc", "runs.list"), run: count("disc", "run.get"), writes: stack.services.store.counters.writes };
  // this time through the local Functions host, the way npm start drives the timer
  await host.invokeTimer("discover-runs", async (t, c) => void (await discoverRunsHandler(t, c)));
  expect(hostLog.filter((l) => /error/.test(l))).toEqual([]);
  expect([count("disc", "threads.list") - before.threads, count("disc", "runs.list") - before.runs, count("disc", "run.get") - before.run]).toEqual([1, 3, 0]);
  expect(stack.services.store.counters.writes).toBe(before.writes);
  expect(stack.events.registeredRuns.filter((r) => r === "run_found")).toHaveLength(1);
});

test("the project with discovery off was never listed and its run stays unregistered", async () => {
  expect([count("quiet", "threads.list"), count("quiet", "runs.list")]).toEqual([0, 0]);
  expect(await head("quiet", "run_quiet")).toBeUndefined();
});

test("a discovered run is polled by the sweep like any other", async () => {
  stack.at(450);
  const reads = count("disc", "run.get");
  await host.invokeTimer("sweep", sweepHandler, [{ binding: pollShardsQueue, queueName: "poll-shards" }]);
  host.queueTrigger("poll-shard", "poll-shards", pollShardHandler);
  await host.whenIdle(["poll-shards"], 20_000);
  // run_found and run_known, one read each
  expect(count("disc", "run.get") - reads).toBe(2);
  expect((await head("disc", "run_found"))?.status).toBe("in_progress");
});
