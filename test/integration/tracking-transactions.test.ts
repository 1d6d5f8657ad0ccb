// The Table store's promises as the pollers rely on them, on Azurite with the real Foundry clients
// against the HTTPS simulator: a transition and its head move in one entity-group transaction, and
// pollers racing on one run (two Function instances, each with its own store and clients) never
// lose, double or invent a transition.
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { localSimulatorCredential } from "../../shared/foundry/credential.js";
import { ProjectRunSources } from "../../shared/foundry/project-run-sources.js";
import type { RunSource } from "../../shared/foundry/run-source.js";
import type { PollOutcome, RunRef, RunStatus } from "../../shared/model/run.js";
import { runKeyOf } from "../../shared/store/store-rules.js";
import { transitionRowKey } from "../../shared/store/table-entities.js";
import { createTableRunStore } from "../../shared/store/table-store.js";
import type { StoredHead, Transition } from "../../shared/store/types.js";
import type { TrackerDeps } from "../../shared/tracking/deps.js";
import { pollRun } from "../../shared/tracking/poll-run.js";
import { pollShard } from "../../shared/tracking/poll-shard.js";
import { RateLimiter } from "../../shared/tracking/rate-limiter.js";
import { registerRun } from "../../shared/tracking/register.js";
import { RecordingEvents, scenarioOf, startTrackingStack, type TrackingStack } from "./tracking-stack.js";

// run_cycle: a run that goes back and forth between working and waiting for tool output every 10 s.
const CYCLE_END = 300;
const cycleTimeline = [
  { at: 0, status: "queued" },
  ...Array.from({ length: CYCLE_END / 10 - 1 }, (_, i) => ({ at: 10 * (i + 1), status: i % 2 === 0 ? "in_progress" : "requires_action" })),
  { at: CYCLE_END, status: "completed" },
];
// run_overtakenK: starts at 400 + 20K (after run_cycle's test) and asks for tool output 5 s later, the moment a second poller reads it.
const OVERTAKEN = 6;
const overtakenStart = (k: number) => 400 + 20 * k;
const scenario = scenarioOf([
  { api: "classic", project: "alpha", runId: "run_tx", threadId: "thread_tx", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }, { at: 10, status: "in_progress" }] },
  { api: "classic", project: "alpha", runId: "run_cycle", threadId: "thread_cycle", agentId: "asst_a", timeline: cycleTimeline },
  ...Array.from({ length: OVERTAKEN }, (_, k) => ({
    api: "classic", project: "alpha", runId: `run_overtaken${k}`, threadId: `thread_overtaken${k}`, agentId: "asst_a",
    timeline: [{ at: 0, status: "queued" }, { at: overtakenStart(k), status: "in_progress" }, { at: overtakenStart(k) + 5, status: "requires_action" }],
  })),
]);

let stack: TrackingStack;
let depsA: TrackerDeps;
let depsB: TrackerDeps;
const eventsA = new RecordingEvents();
const eventsB = new RecordingEvents();

/** A second Function instance: its own Table clients, Foundry clients, limiter and events. */
function instance(events: RecordingEvents, source?: RunSource): TrackerDeps {
  const base = stack.services.tracker;
  return {
    ...base,
    store: createTableRunStore({ connectionString: stack.azurite.connectionString, tablePrefix: "monitor" }),
    source: source ?? new ProjectRunSources(stack.services.settings.FOUNDRY_PROJECTS, { credential: localSimulatorCredential, ca: stack.sim.caPem, timeoutMs: 2000 }),
    limiter: new RateLimiter(10_000, base.clock),
    events: events.sink,
  };
}

beforeAll(async () => {
  // Queued runs wait here for minutes on purpose: no stall escalations in the way.
  stack = await startTrackingStack({ scenario, projects: ["alpha"], env: { MONITOR_POLICIES: JSON.stringify({ defaults: { thresholds: { queuedSeconds: 3000 } } }) } });
  depsA = instance(eventsA);
  depsB = instance(eventsB);
  stack.at(0);
  for (const run of scenario.runs) {
    const r = await registerRun(depsA, { project: "alpha", api: "classic", runId: run.runId, threadId: run.threadId });
    expect(r.kind).toBe("registered");
  }
}, 30_000);
afterAll(async () => {
  await stack?.stop();
});

const entryOf = async (deps: TrackerDeps, runId: string): Promise<StoredHead> => {
  const head = (await deps.store.getHead("alpha", runId))!.head;
  const entry = (await deps.store.listShard(head.shard)).find((e) => e.head.ref.runId === runId);
  if (!entry) throw new Error(`${runId} is not in the active index`);
  return entry;
};
const path = (ts: Transition[]) => ts.map((t) => t.to);

/** Transition rows seq 1..n exactly once, each starting where the previous ended, and the head at n. */
async function expectConsistentTimeline(runId: string): Promise<Transition[]> {
  const ts = await stack.services.store.listTransitions("alpha", runId);
  expect(ts.map((t) => t.seq)).toEqual(ts.map((_, i) => i + 1));
  ts.forEach((t, i) => expect(t.from).toBe(i === 0 ? null : ts[i - 1].to));
  const head = (await stack.services.store.getHead("alpha", runId))!.head;
  expect(head.seq).toBe(ts.length);
  expect(head.status).toBe(ts[ts.length - 1].to);
  return ts;
}

describe("a transition and its head update are one transaction", () => {
  test("a commit that cannot write its transition row writes neither row; once it can, both move together", async () => {
    const table = TableClient.fromConnectionString(stack.azurite.connectionString, "monitorruns", { allowInsecureConnection: true });
    const key = runKeyOf("alpha", "run_tx");
    const before = (await depsA.store.getHead("alpha", "run_tx"))!;
    expect(before.head).toMatchObject({ status: "queued", seq: 1 });
    // Another writer's row already holds seq 2 (as a crashed or racing commit would leave it).
    await table.createEntity({ partitionKey: key, rowKey: transitionRowKey(2), project: "alpha", runId: "run_tx", seq: 2, at: 0, from: "queued", to: "cancelled" });

    stack.at(15);
    const result = await pollRun(depsA, await entryOf(depsA, "run_tx"));
    expect(result.kind).toBe("unchanged");
    const after = (await depsA.store.getHead("alpha", "run_tx"))!;
    expect(after.etag).toBe(before.etag); // the head was not touched
    expect(after.head).toMatchObject({ status: "queued", seq: 1 });
    expect((await depsA.store.listTransitions("alpha", "run_tx")).map((t) => [t.seq, t.to])).toEqual([[1, "queued"], [2, "cancelled"]]);
    expect(eventsA.transitions.filter((t) => t.runId === "run_tx" && t.seq > 1)).toEqual([]);
    expect(eventsA.degradations).toEqual([expect.objectContaining({ reason: "store-conflict", detail: expect.stringContaining("run_tx") })]);
    eventsA.degradations.length = 0;

    await table.deleteEntity(key, transitionRowKey(2));
    const written = await pollRun(depsA, await entryOf(depsA, "run_tx"));
    expect(written.kind).toBe("written");
    const committed = (await depsA.store.getHead("alpha", "run_tx"))!;
    expect(committed.etag).not.toBe(before.etag);
    expect(committed.head).toMatchObject({ status: "in_progress", seq: 2 });
    expect((await depsA.store.listTransitions("alpha", "run_tx")).map((t) => [t.seq, t.from, t.to])).toEqual([[1, null, "queued"], [2, "queued", "in_progress"]]);
    // the index copy the next sweep reads carries the new head and its ETag
    expect(await entryOf(depsA, "run_tx")).toEqual({ head: committed.head, etag: committed.etag });
  });

  test("a commit computed from a stale head (someone committed since) is refused whole", async () => {
    const stale = (await depsA.store.getHead("alpha", "run_tx"))!;
    const next = { ...stale.head, status: "requires_action" as RunStatus, seq: 3 };
    const t3: Transition = { project: "alpha", runId: "run_tx", seq: 3, at: 1, from: "in_progress", to: "requires_action" };
    expect((await depsB.store.commit({ expectedEtag: stale.etag, head: next, transitions: [t3], outbox: [] })).ok).toBe(true);
    const t4: Transition = { project: "alpha", runId: "run_tx", seq: 4, at: 2, from: "requires_action", to: "failed" };
    const refused = await depsA.store.commit({ expectedEtag: stale.etag, head: { ...next, status: "failed", seq: 4 }, transitions: [t4], outbox: [] });
    expect(refused).toEqual({ ok: false, reason: "conflict" });
    expect((await depsA.store.getHead("alpha", "run_tx"))!.head).toMatchObject({ status: "requires_action", seq: 3 });
    expect((await depsA.store.listTransitions("alpha", "run_tx")).map((t) => t.seq)).toEqual([1, 2, 3]);
  });
});

describe("two pollers racing on one run", () => {
  test("both poll the same shard at every step for 300 s: each transition once, in order, head at the last", async () => {
    const shard = (await depsA.store.getHead("alpha", "run_cycle"))!.head.shard;
    const expected: RunStatus[] = ["queued"];
    for (let t = 5; t <= CYCLE_END + 5; t += 5) {
      stack.at(t);
      const truth = [...cycleTimeline].reverse().find((e) => e.at <= t)!.status as RunStatus;
      if (truth !== expected[expected.length - 1]) expected.push(truth);
      await Promise.all([pollShard(depsA, shard), pollShard(depsB, shard)]);
    }
    const ts = await expectConsistentTimeline("run_cycle");
    expect(path(ts)).toEqual(expected);
    expect(expected.length).toBe(CYCLE_END / 10 + 1);
    // each transition was reported by exactly one of the two instances
    const reported = [...eventsA.transitions, ...eventsB.transitions].filter((t) => t.runId === "run_cycle" && t.seq > 1).map((t) => t.seq).sort((a, b) => a - b);
    expect(reported).toEqual(ts.map((t) => t.seq).filter((s) => s > 1));
    expect(eventsA.degradations.concat(eventsB.degradations)).toEqual([]);
  }, 40_000);

  test("a poller whose read is overtaken by a newer read and commit never writes its older status", async () => {
    // Instance A reads; before it commits, Foundry moves on and instance B reads and commits. A's
    // observation is now older than the head it conflicts with (a slow pass, or a poll-shards
    // message redelivered while the first pass still runs).
    let overtake: (() => Promise<void>) | undefined;
    const real = new ProjectRunSources(stack.services.settings.FOUNDRY_PROJECTS, { credential: localSimulatorCredential, ca: stack.sim.caPem, timeoutMs: 2000 });
    const slowA: RunSource = {
      async poll(ref: RunRef, options?: { steps?: boolean; signal?: AbortSignal }): Promise<PollOutcome> {
        const outcome = await real.poll(ref, options);
        const then = overtake;
        overtake = undefined;
        await then?.();
        return outcome;
      },
      listSteps: (ref) => real.listSteps(ref),
      finalMessage: (ref) => real.finalMessage(ref),
    };
    const racingA = instance(eventsA, slowA);
    for (let k = 0; k < OVERTAKEN; k++) {
      const runId = `run_overtaken${k}`;
      stack.at(overtakenStart(k)); // A sees in_progress…
      overtake = async () => {
        stack.at(overtakenStart(k) + 5); // …B sees requires_action and commits first
        expect((await pollRun(depsB, await entryOf(depsB, runId))).kind).toBe("written");
      };
      await pollRun(racingA, await entryOf(racingA, runId));
      expect(overtake).toBeUndefined();
      // a later pass by both settles whatever is left
      stack.at(overtakenStart(k) + 10);
      await Promise.all([pollRun(racingA, await entryOf(racingA, runId)), pollRun(depsB, await entryOf(depsB, runId))]);
      const ts = await expectConsistentTimeline(runId);
      // Foundry went queued → in_progress → requires_action and stayed there: the timeline may skip
      // in_progress (nobody's committed read saw it) but never goes back to it.
      expect(path(ts)).toEqual(["queued", "requires_action"]);
    }
  }, 40_000);
});
