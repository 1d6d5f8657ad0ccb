// The discovery core on the simulator core in-process (no sockets): the threads and runs lists are
// the simulator's own bodies read by the real list normalizers; registration is the real
// registerRun on the in-memory store. What discovery registers, what it leaves, and what it costs.
import { beforeEach, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import type { FoundryProject } from "../../shared/config/config.js";
import { parsePolicySetText } from "../../shared/detect/policy.js";
import { outcomeForStatus } from "../../shared/foundry/classify-outcome.js";
import { normalizeListPage, normalizeListedRun, normalizeListedThread, type DiscoverySource, type ListOutcome, type ListedRun, type ListedThread } from "../../shared/foundry/discovery-source.js";
import { MemoryRunStore } from "../../shared/store/memory-store.js";
import { VirtualClock } from "../../shared/tracking/clock.js";
import type { DegradedReason, TrackerDeps } from "../../shared/tracking/deps.js";
import { DISCOVERY_TAGS, discoverRuns } from "../../shared/tracking/discover.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { registerRun } from "../../shared/tracking/register.js";
import { createSimulation, type Simulation } from "../../local/foundry-sim/index.js";
import { MemoryEscalationTopic } from "../../local/memory-bus.js";
import { InProcessRunSource } from "../../local/simulate/in-process-source.js";
import { parseScenario } from "../../local/scenario/schema.js";
import { sharedDir } from "../support/paths.js";

const START = "2026-03-02T09:00:00Z";
const START_MS = Date.parse(START);
const HOUR = 3600_000;

type Timeline = { at: number; status: string }[];
const ACTIVE: Timeline = [{ at: 0, status: "queued" }, { at: 5, status: "in_progress" }];
const DONE: Timeline = [{ at: 0, status: "queued" }, { at: 5, status: "completed" }];
const run = (project: string, n: string, timeline: Timeline) => ({ api: "classic", project, runId: `run_${n}`, threadId: `thread_${n}`, agentId: "asst_x", timeline });

/** The simulator core as a DiscoverySource, with a switch to answer the runs lists of some threads with a status. */
class SimListing implements DiscoverySource {
  readonly threadPages: { limit: number; after?: string }[] = [];
  readonly runLists: string[] = [];
  runsStatus: (threadId: string) => number | undefined = () => undefined;
  threadsStatus: number | undefined;
  constructor(private readonly sim: Simulation, private readonly at: () => number) {}

  async listThreads(page: { limit: number; after?: string }): Promise<ListOutcome<ListedThread>> {
    this.threadPages.push(page);
    if (this.threadsStatus) return outcomeForStatus(this.threadsStatus, { "retry-after": "2" }, "threads list");
    const res = this.sim.handle({ method: "GET", path: "/threads", query: { limit: String(page.limit), order: "desc", ...(page.after ? { after: page.after } : {}) } }, this.at());
    if (res.status !== 200) return outcomeForStatus(res.status, res.headers, "threads list");
    return { kind: "listed", page: normalizeListPage(res.body, "threads", normalizeListedThread) };
  }

  async listRuns(threadId: string, limit: number): Promise<ListOutcome<ListedRun>> {
    this.runLists.push(threadId);
    const refused = this.runsStatus(threadId);
    if (refused) return outcomeForStatus(refused, { "retry-after": "2" }, `runs of ${threadId}`);
    const res = this.sim.handle({ method: "GET", path: `/threads/${threadId}/runs`, query: { limit: String(limit), order: "desc" } }, this.at());
    if (res.status !== 200) return outcomeForStatus(res.status, res.headers, `runs of ${threadId}`);
    return { kind: "listed", page: normalizeListPage(res.body, "runs", normalizeListedRun(threadId)) };
  }
}

interface World {
  deps: TrackerDeps;
  store: MemoryRunStore;
  clock: VirtualClock;
  reads: InProcessRunSource;
  listing: Record<string, SimListing>;
  degraded: { reason: DegradedReason; detail: string; projects?: string[] }[];
  registered: string[];
}

async function world(runs: unknown[], projects: string[], maxActive = 1000): Promise<World> {
  const scenario = parseScenario({ name: "discover", start: START, duration: 48 * 3600, runs });
  const clock = new VirtualClock(START_MS);
  const at = () => (clock.now() - START_MS) / 1000;
  const sims = Object.fromEntries(projects.map((p) => [p, createSimulation(scenario, { project: p })]));
  const listing = Object.fromEntries(projects.map((p) => [p, new SimListing(sims[p], at)]));
  // Run reads (registration) go to a simulation of every project: each serves the same runs.
  const reads = new InProcessRunSource(createSimulation(scenario), START_MS, () => clock.now());
  const store = new MemoryRunStore();
  await store.init();
  const degraded: World["degraded"] = [];
  const registered: string[] = [];
  const deps: TrackerDeps = {
    store,
    source: reads,
    publisher: new MemoryEscalationTopic(),
    policies: parsePolicySetText(undefined),
    clock,
    limiter: new RateLimiter(1000, clock),
    events: { registered: (h) => void registered.push(h.ref.runId), transition() {}, published() {}, degraded: (reason, detail, _at, p) => void degraded.push({ reason, detail, projects: p }) },
    settings: { pollIntervalSeconds: 30, shardCount: 4, concurrency: 4, maxActiveRunsPerProject: maxActive, projects, pollAttempts: 1 },
    sanitize: (t) => t,
  };
  return { deps, store, clock, reads, listing, degraded, registered };
}

const project = (name: string, over: Partial<FoundryProject> = {}): FoundryProject => ({ name, endpoint: `https://example.test/api/projects/${name}`, api: "classic", discovery: true, ...over });
const DAY = { maxThreads: 100, lookbackMs: 24 * HOUR };

describe("discoverRuns", () => {
  let w: World;
  beforeEach(async () => {
    w = await world([run("disc", "a", ACTIVE), run("disc", "b", DONE), run("disc", "c", ACTIVE)], ["disc"]);
    w.clock.advanceTo(START_MS + 60_000);
  });

  test("registers each active run nobody registered, once; terminal runs are left alone", async () => {
    const first = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], DAY);
    first[0].registered.sort();
    expect(first).toEqual([{ project: "disc", listCalls: 4, threads: 3, activeRuns: 2, registered: ["run_a", "run_c"], alreadyKnown: 0, notRegistered: 0 }]);
    const head = (await w.store.getHead("disc", "run_a"))!.head;
    expect(head.tags).toEqual(DISCOVERY_TAGS);
    expect([head.status, head.agentId, head.ref.threadId]).toEqual(["in_progress", "asst_x", "thread_a"]);
    expect(await w.store.getHead("disc", "run_b")).toBeUndefined();
    // registration read each new run once
    expect(w.reads.calls.run).toBe(2);

    const before = { ...w.store.counters };
    const second = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], DAY);
    expect(second[0]).toMatchObject({ listCalls: 4, activeRuns: 2, registered: [], alreadyKnown: 2 });
    // known runs cost one Table read each: no Foundry read, no write
    expect(w.reads.calls.run).toBe(2);
    expect(w.store.counters).toEqual({ reads: before.reads + 2, writes: before.writes });
    expect(w.registered.sort()).toEqual(["run_a", "run_c"]);
    // one page of the newest runs per thread, newest threads first
    expect(w.listing.disc.runLists.slice(0, 3)).toEqual(["thread_c", "thread_b", "thread_a"]);
    expect(w.listing.disc.threadPages[0]).toEqual({ limit: 100, after: undefined });
  });

  test("a run the app registered is not registered again, and keeps the app's tags", async () => {
    const r = await registerRun(w.deps, { project: "disc", api: "classic", runId: "run_a", threadId: "thread_a", tags: { owner: "app" } });
    expect(r.kind).toBe("registered");
    const readsBefore = w.reads.calls.run;
    const [result] = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], DAY);
    expect(result).toMatchObject({ registered: ["run_c"], alreadyKnown: 1 });
    expect(w.reads.calls.run).toBe(readsBefore + 1);
    expect((await w.store.getHead("disc", "run_a"))!.head.tags).toEqual({ owner: "app" });
  });

  test("projects with discovery off, or on the v2 API only, are never listed", async () => {
    const asked: string[] = [];
    const results = await discoverRuns(w.deps, [project("disc", { discovery: false }), project("disc", { api: "responses" })], (p) => (asked.push(p), w.listing[p]), DAY);
    expect(results).toEqual([]);
    expect(asked).toEqual([]);
    expect(w.listing.disc.threadPages).toEqual([]);
  });

  test("threads older than the lookback window are not listed", async () => {
    w.clock.advanceTo(START_MS + 3 * HOUR);
    const [stale] = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], { maxThreads: 100, lookbackMs: 2 * HOUR });
    expect(stale).toMatchObject({ listCalls: 1, threads: 0, registered: [] });
    const [fresh] = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], { maxThreads: 100, lookbackMs: 4 * HOUR });
    expect(fresh).toMatchObject({ threads: 3 });
    expect(fresh.registered.sort()).toEqual(["run_a", "run_c"]);
  });

  test("a throttled runs list stops the project's pass; the next tick catches up", async () => {
    w.listing.disc.runsStatus = (t) => (t === "thread_c" ? 429 : undefined);
    w.deps.settings.concurrency = 1;
    const [throttled] = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], DAY);
    expect(throttled).toMatchObject({ listCalls: 2, threads: 3, registered: [], trouble: expect.stringMatching(/throttled/) });
    expect(w.degraded).toEqual([{ reason: "foundry-429", detail: expect.stringMatching(/discovery of project disc: 1 of 2 Foundry list calls failed \(first: throttled, retry after 2000 ms\)/), projects: ["disc"] }]);
    w.listing.disc.runsStatus = () => undefined;
    const [next] = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], DAY);
    expect(next.registered.sort()).toEqual(["run_a", "run_c"]);
  });

  test("a failed threads list is a degraded signal, not an error; a refused one (403) leaves the other projects their pass", async () => {
    w.listing.disc.threadsStatus = 503;
    const [down] = await discoverRuns(w.deps, [project("disc")], (p) => w.listing[p], DAY);
    expect(down).toMatchObject({ listCalls: 1, threads: 0, registered: [] });
    expect(w.degraded.map((d) => d.reason)).toEqual(["foundry-5xx"]);

    const other = await world([run("disc", "a", ACTIVE), run("quiet", "q", ACTIVE)], ["disc", "quiet"]);
    other.listing.disc.threadsStatus = 403;
    const results = await discoverRuns(other.deps, [project("disc"), project("quiet")], (p) => other.listing[p], DAY);
    expect(results[0]).toMatchObject({ project: "disc", registered: [], trouble: expect.stringMatching(/HTTP 403 \(check the monitor identity's role/) });
    expect(results[1]).toMatchObject({ project: "quiet", registered: ["run_q"] });
  });

  test("at the project's cap of active runs, the rest wait (named in the summary)", async () => {
    const capped = await world([run("disc", "a", ACTIVE), run("disc", "c", ACTIVE)], ["disc"], 1);
    capped.deps.settings.concurrency = 1;
    const [result] = await discoverRuns(capped.deps, [project("disc")], (p) => capped.listing[p], DAY);
    expect(result).toMatchObject({ registered: ["run_c"], notRegistered: 1, trouble: expect.stringMatching(/MAX_ACTIVE_RUNS_PER_PROJECT is 1/) });
  });

  test("at most maxThreads threads per tick, paged by 100 with the after cursor, newest first", async () => {
    const many = Array.from({ length: 130 }, (_, i) => run("disc", `m${String(i).padStart(3, "0")}`, ACTIVE));
    const big = await world(many, ["disc"]);
    big.clock.advanceTo(START_MS + 60_000);
    const [result] = await discoverRuns(big.deps, [project("disc")], (p) => big.listing[p], { maxThreads: 120, lookbackMs: 24 * HOUR });
    expect(big.listing.disc.threadPages).toEqual([{ limit: 100, after: undefined }, { limit: 20, after: "thread_m030" }]);
    expect(result).toMatchObject({ listCalls: 2 + 120, threads: 120 });
    expect(result.registered).toHaveLength(120);
    // the ten oldest threads wait for a tick with room (or an app registration)
    expect(result.registered).not.toContain("run_m009");
    expect(result.registered).toContain("run_m010");
  });
});

describe("list normalizers on recorded Foundry bodies", () => {
  const fixture = (rel: string): unknown => JSON.parse(fs.readFileSync(path.join(sharedDir(), "fixtures", "foundry", rel), "utf8"));

  test("runs list (runs-list.json): one in_progress run with its thread and agent", () => {
    expect(normalizeListPage(fixture("classic/runs-list.json"), "runs", normalizeListedRun("thread_other"))).toEqual({
      items: [{ runId: "run_mvLdyYU4CksoGTqeYEjscQaL", threadId: "thread_iSwUZDnV4xZxB8RGnynxe6NQ", status: "in_progress", agentId: "asst_eSV2WIaktEQxSzyUfR6KkT8V", createdAt: 1746168354_000 }],
      hasMore: false,
      lastId: "run_mvLdyYU4CksoGTqeYEjscQaL",
    });
  });

  test("a threads list page built from thread.json; the empty page (list-empty-page.json)", () => {
    const thread = fixture("classic/thread.json") as { id: string };
    expect(normalizeListPage({ object: "list", data: [thread], first_id: thread.id, last_id: thread.id, has_more: true }, "threads", normalizeListedThread)).toEqual({
      items: [{ id: "thread_PbA2PKEmQSFrYIjd4dYa9cTB", createdAt: 1749159554_000 }],
      hasMore: true,
      lastId: "thread_PbA2PKEmQSFrYIjd4dYa9cTB",
    });
    expect(normalizeListPage(fixture("classic/list-empty-page.json"), "threads", normalizeListedThread)).toEqual({ items: [], hasMore: false });
  });

  test("bodies that are not lists, or items that are not threads or runs, are malformed", () => {
    expect(() => normalizeListPage({ unexpected: true }, "threads", normalizeListedThread)).toThrow(/threads.data: expected an array/);
    expect(() => normalizeListPage({ object: "list", data: [{ id: "run_1", object: "thread.run" }] }, "threads", normalizeListedThread)).toThrow(/threads.data\[0\].object: expected "thread"/);
    expect(() => normalizeListPage({ object: "list", data: [{ id: "run_1", status: "paused", created_at: 1 }] }, "runs", normalizeListedRun("thread_1"))).toThrow(/runs.data\[0\].status: expected a run status, got "paused"/);
  });
});
