import { describe, expect, test } from "@jest/globals";
import { InputError } from "../../shared/errors.js";
import type { EscalationReason, RunStatus } from "../../shared/model/run.js";
import { MAX_STEPS_KEPT } from "../../shared/store/store-rules.js";
import type { OutboxItem, RunHead, RunStore, StoredHead, Transition } from "../../shared/store/types.js";

// One behavioural contract, run against every RunStore (memory and Table Storage on Azurite).

export function makeHead(project: string, runId: string, over: Partial<RunHead> = {}): RunHead {
  return {
    ref: { project, api: "classic", runId, threadId: `thread_${runId}` },
    tags: {},
    registeredAt: 1_700_000_000_000,
    episodes: {},
    seq: 0,
    terminal: false,
    pendingOutbox: [],
    shard: 0,
    updatedAt: 1_700_000_000_000,
    ...over,
  };
}

export function transition(head: RunHead, seq: number, from: RunStatus | null, to: RunStatus, at = head.updatedAt): Transition {
  return { project: head.ref.project, runId: head.ref.runId, seq, at, from, to };
}

export function outboxItem(head: RunHead, reason: EscalationReason, at: number, episode = 1): OutboxItem {
  return {
    messageId: `${head.ref.runId}:${reason}:${episode}`,
    kind: "escalation",
    ref: head.ref,
    agentId: head.agentId,
    reason,
    episode,
    severity: "high",
    owner: "team-a",
    at,
    status: "pending",
  };
}

/** The next head after observing `to` (what the tracker would compute), with its transition. */
export function advance(stored: StoredHead, to: RunStatus, at: number, extra: Partial<RunHead> = {}): { head: RunHead; transitions: Transition[] } {
  const prev = stored.head;
  const seq = prev.seq + 1;
  const head: RunHead = { ...prev, status: to, statusSince: at, seq, updatedAt: at, ...extra };
  return { head, transitions: [transition(prev, seq, prev.status ?? null, to, at)] };
}

async function mustGet(store: RunStore, project: string, runId: string): Promise<StoredHead> {
  const s = await store.getHead(project, runId);
  if (!s) throw new Error(`no head for ${project}/${runId}`);
  return s;
}

export function describeRunStoreContract(name: string, newStore: () => Promise<RunStore>): void {
  describe(`RunStore contract: ${name}`, () => {
    test("createRun is idempotent on (project, runId) and writes head, transitions and outbox together", async () => {
      const store = await newStore();
      const head = makeHead("p1", "run_a", { status: "queued", seq: 1, pendingOutbox: ["run_a:failed:1"] });
      const first = await store.createRun({ head, transitions: [transition(head, 1, null, "queued")], outbox: [outboxItem(head, "failed", 5)] });
      expect(first).toBe("created");
      const stored = await mustGet(store, "p1", "run_a");
      expect(stored.head).toEqual(head);

      const other = makeHead("p1", "run_a", { status: "failed", seq: 7, tags: { owner: "someone-else" } });
      expect(await store.createRun({ head: other, transitions: [transition(other, 7, null, "failed")], outbox: [] })).toBe("exists");
      const again = await mustGet(store, "p1", "run_a");
      expect(again).toEqual(stored);
      expect(await store.listTransitions("p1", "run_a")).toEqual([transition(head, 1, null, "queued")]);
      expect((await store.listOutbox("p1", "run_a")).map((o) => o.messageId)).toEqual(["run_a:failed:1"]);
      expect(await store.countActive("p1")).toBe(1);
      expect(await store.getHead("p1", "nope")).toBeUndefined();
    });

    test("a commit from a stale ETag conflicts and writes nothing", async () => {
      const store = await newStore();
      await store.createRun({ head: makeHead("p1", "run_b"), transitions: [], outbox: [] });
      const v1 = await mustGet(store, "p1", "run_b");
      const a = advance(v1, "queued", 1_700_000_001_000);
      const ok = await store.commit({ expectedEtag: v1.etag, ...a, outbox: [] });
      expect(ok.ok).toBe(true);
      const v2 = await mustGet(store, "p1", "run_b");
      expect(ok.ok && ok.etag).toBe(v2.etag);

      const stale = advance(v1, "in_progress", 1_700_000_002_000);
      const head = { ...stale.head, seq: 2, pendingOutbox: ["run_b:failed:1"] };
      const result = await store.commit({
        expectedEtag: v1.etag,
        head,
        transitions: [transition(head, 2, "queued", "in_progress")],
        outbox: [outboxItem(head, "failed", 1_700_000_002_000)],
      });
      expect(result).toEqual({ ok: false, reason: "conflict" });
      expect(await mustGet(store, "p1", "run_b")).toEqual(v2);
      expect((await store.listTransitions("p1", "run_b")).map((t) => t.seq)).toEqual([1]);
      expect(await store.listOutbox("p1", "run_b")).toEqual([]);
      expect(await store.listShard(0)).toEqual([v2]);
    });

    test("head and transition are one transaction: a duplicate transition row rolls the head back", async () => {
      const store = await newStore();
      await store.createRun({ head: makeHead("p1", "run_c"), transitions: [], outbox: [] });
      const v1 = await mustGet(store, "p1", "run_c");
      const a = advance(v1, "queued", 1_700_000_001_000);
      expect((await store.commit({ expectedEtag: v1.etag, ...a, outbox: [] })).ok).toBe(true);
      const v2 = await mustGet(store, "p1", "run_c");
      // Right ETag, but seq 1 is written already: the whole batch must fail.
      const bad = { ...v2.head, status: "in_progress" as const, seq: 2, updatedAt: 1_700_000_003_000 };
      const result = await store.commit({ expectedEtag: v2.etag, head: bad, transitions: [transition(bad, 1, "queued", "in_progress")], outbox: [] });
      expect(result).toEqual({ ok: false, reason: "conflict" });
      expect(await mustGet(store, "p1", "run_c")).toEqual(v2);
      expect(await store.listTransitions("p1", "run_c")).toEqual(a.transitions);
    });

    test("two concurrent commits from the same head: exactly one wins, transitions never doubled", async () => {
      const store = await newStore();
      await store.createRun({ head: makeHead("p1", "run_d"), transitions: [], outbox: [] });
      const v1 = await mustGet(store, "p1", "run_d");
      const x = advance(v1, "queued", 1_700_000_001_000);
      const y = advance(v1, "in_progress", 1_700_000_001_500);
      const results = await Promise.all([
        store.commit({ expectedEtag: v1.etag, ...x, outbox: [] }),
        store.commit({ expectedEtag: v1.etag, ...y, outbox: [] }),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: "conflict" }]);
      const transitions = await store.listTransitions("p1", "run_d");
      expect(transitions).toHaveLength(1);
      const winner = results[0].ok ? x : y;
      expect(transitions).toEqual(winner.transitions);
      expect((await mustGet(store, "p1", "run_d")).head.status).toBe(winner.head.status);
    });

    test("an unchanged poll costs no write; a stale index copy conflicts and the reloaded head commits", async () => {
      const store = await newStore();
      for (const id of ["run_e1", "run_e2", "run_e3"]) await store.createRun({ head: makeHead("p1", id, { shard: 2 }), transitions: [], outbox: [] });
      const writes = store.counters.writes;
      const reads = store.counters.reads;
      const entries = await store.listShard(2);
      expect(entries.map((e) => e.head.ref.runId).sort()).toEqual(["run_e1", "run_e2", "run_e3"]);
      expect(await store.nonEmptyShards()).toEqual([2]);
      expect(store.counters.writes).toBe(writes);
      expect(store.counters.reads).toBe(reads + 2);

      const entry = entries.find((e) => e.head.ref.runId === "run_e1")!;
      // Another poller wins first; our index copy is now stale.
      const fresh = await mustGet(store, "p1", "run_e1");
      expect((await store.commit({ expectedEtag: fresh.etag, ...advance(fresh, "queued", 1_700_000_001_000), outbox: [] })).ok).toBe(true);
      expect((await store.commit({ expectedEtag: entry.etag, ...advance(entry, "queued", 1_700_000_001_000), outbox: [] })).ok).toBe(false);
      const reloaded = await mustGet(store, "p1", "run_e1");
      expect((await store.commit({ expectedEtag: reloaded.etag, ...advance(reloaded, "in_progress", 1_700_000_002_000), outbox: [] })).ok).toBe(true);
      const copy = (await store.listShard(2)).find((e) => e.head.ref.runId === "run_e1")!;
      expect(copy).toEqual(await mustGet(store, "p1", "run_e1"));
      expect((await store.listTransitions("p1", "run_e1")).map((t) => [t.seq, t.from, t.to])).toEqual([
        [1, null, "queued"],
        [2, "queued", "in_progress"],
      ]);
    });

    test("a terminal run stays indexed until its outbox is drained, then leaves the index and the counts", async () => {
      const store = await newStore();
      await store.createRun({ head: makeHead("p1", "run_f", { shard: 3, status: "in_progress", seq: 0 }), transitions: [], outbox: [] });
      await store.createRun({ head: makeHead("p1", "run_g", { shard: 1 }), transitions: [], outbox: [] });
      await store.createRun({ head: makeHead("p2", "run_h", { shard: 3 }), transitions: [], outbox: [] });
      expect(await store.countActive("p1")).toBe(2);
      expect(await store.countActive("p2")).toBe(1);
      expect(await store.countActive("p3")).toBe(0);
      expect(await store.nonEmptyShards()).toEqual([1, 3]);

      const v1 = await mustGet(store, "p1", "run_f");
      const failed = advance(v1, "failed", 1_700_000_005_000, { terminal: true, pendingOutbox: ["run_f:failed:1"] });
      const item = outboxItem(failed.head, "failed", 1_700_000_005_000);
      expect((await store.commit({ expectedEtag: v1.etag, ...failed, outbox: [item] })).ok).toBe(true);
      expect((await store.listShard(3)).map((e) => e.head.ref.runId).sort()).toEqual(["run_f", "run_h"]);
      expect(await store.countActive("p1")).toBe(2);

      expect(await store.listPendingOutbox()).toEqual([item]);
      await store.markPublished("p1", "run_f", [item.messageId]);
      expect(await store.listPendingOutbox()).toEqual([]);
      expect((await store.listShard(3)).map((e) => e.head.ref.runId)).toEqual(["run_h"]);
      expect(await store.countActive("p1")).toBe(1);
      expect(await store.nonEmptyShards()).toEqual([1, 3]);
      const after = await mustGet(store, "p1", "run_f");
      expect(after.head.pendingOutbox).toEqual([]);
      expect(after.head.terminal).toBe(true);
      expect(await store.listOutbox("p1", "run_f")).toEqual([{ ...item, status: "sent" }]);

      // A poller holding the old copy gets a conflict, never a resurrected index entry.
      expect((await store.commit({ expectedEtag: v1.etag, ...advance(v1, "completed", 1_700_000_006_000), outbox: [] })).ok).toBe(false);
      expect((await store.listShard(3)).map((e) => e.head.ref.runId)).toEqual(["run_h"]);
    });

    test("listPendingOutbox is oldest first and bounded; markPublished is idempotent and ETag-safe", async () => {
      const store = await newStore();
      const heads = ["run_i1", "run_i2", "run_i3"].map((id, i) => makeHead("p1", id, { shard: i, updatedAt: 1_700_000_000_000 + i }));
      const items: OutboxItem[] = [];
      for (const [i, head] of heads.entries()) {
        const a = outboxItem(head, "stalled-queued", 1_700_000_010_000 - i * 1000);
        const b = outboxItem(head, "failed", 1_700_000_020_000 + i);
        items.push(a, b);
        await store.createRun({ head: { ...head, pendingOutbox: [a.messageId, b.messageId] }, transitions: [], outbox: [a, b] });
      }
      const oldestFirst = [...items].sort((x, y) => x.at - y.at);
      expect(await store.listPendingOutbox()).toEqual(oldestFirst);
      // With a limit, runs are visited in order of their last update, so the page is approximately
      // the oldest: bounded, sorted, and drained completely over repeated calls.
      const page = await store.listPendingOutbox(2);
      expect(page).toHaveLength(2);
      expect(page).toEqual([...page].sort((x, y) => x.at - y.at));
      for (const o of page) expect(oldestFirst).toContainEqual(o);

      await store.markPublished("p1", "run_i2", ["run_i2:stalled-queued:1"]);
      const writes = store.counters.writes;
      await store.markPublished("p1", "run_i2", ["run_i2:stalled-queued:1", "unknown:failed:1"]);
      await store.markPublished("p1", "no-such-run", ["x"]);
      expect(store.counters.writes).toBe(writes);
      expect((await mustGet(store, "p1", "run_i2")).head.pendingOutbox).toEqual(["run_i2:failed:1"]);
      expect((await store.listPendingOutbox()).map((o) => o.messageId)).toEqual(oldestFirst.map((o) => o.messageId).filter((id) => id !== "run_i2:stalled-queued:1"));

      // markPublished re-reads the head, so a commit that raced it is kept.
      const v = await mustGet(store, "p1", "run_i3");
      const q = advance(v, "queued", 1_700_000_030_000);
      expect((await store.commit({ expectedEtag: v.etag, ...q, outbox: [] })).ok).toBe(true);
      await store.markPublished("p1", "run_i3", ["run_i3:stalled-queued:1", "run_i3:failed:1"]);
      const h3 = await mustGet(store, "p1", "run_i3");
      expect(h3.head.status).toBe("queued");
      expect(h3.head.pendingOutbox).toEqual([]);
      expect((await store.listShard(2))[0]).toEqual(h3);
    });

    test("searchRuns finds runs by thread, session, agent and run ID, newest first, paged", async () => {
      const store = await newStore();
      for (let i = 0; i < 5; i++) {
        const head = makeHead(i < 4 ? "p1" : "p2", `run_s${i}`, {
          ref: { project: i < 4 ? "p1" : "p2", api: i % 2 ? "responses" : "classic", runId: `run_s${i}`, threadId: "thread_shared" },
          session: i < 3 ? "sess-42" : "sess-7",
          agentId: i === 0 ? undefined : "asst_pay",
          tags: { owner: i < 2 ? "payments-team" : "search-team" },
          registeredAt: 1_700_000_000_000 + i * 1000,
          status: i === 0 ? undefined : i === 3 ? "failed" : "in_progress",
          episodes: i === 3 ? { failed: { episode: 1, active: true } } : {},
          shard: i % 3,
        });
        await store.createRun({ head, transitions: [], outbox: [] });
      }
      // run_s0's agent becomes known with its first observation.
      const s0 = await mustGet(store, "p1", "run_s0");
      const seen = advance(s0, "queued", 1_700_000_009_000, { agentId: "asst_pay" });
      expect((await store.commit({ expectedEtag: s0.etag, ...seen, outbox: [] })).ok).toBe(true);

      const ids = (r: { runs: RunHead[] }): string[] => r.runs.map((h) => h.ref.runId);
      const p1 = await store.searchRuns({ threadId: "thread_shared", limit: 2 });
      expect(ids(p1)).toEqual(["run_s4", "run_s3"]);
      expect(p1.continuationToken).toEqual(expect.any(String));
      const p2 = await store.searchRuns({ threadId: "thread_shared", limit: 2, continuationToken: p1.continuationToken });
      expect(ids(p2)).toEqual(["run_s2", "run_s1"]);
      const p3 = await store.searchRuns({ threadId: "thread_shared", limit: 2, continuationToken: p2.continuationToken });
      expect(ids(p3)).toEqual(["run_s0"]);
      expect(p3.continuationToken).toBeUndefined();

      expect(ids(await store.searchRuns({ session: "sess-42" }))).toEqual(["run_s2", "run_s1", "run_s0"]);
      expect(ids(await store.searchRuns({ agentId: "asst_pay", project: "p1" }))).toEqual(["run_s3", "run_s2", "run_s1", "run_s0"]);
      expect(ids(await store.searchRuns({ runId: "run_s4" }))).toEqual(["run_s4"]);
      expect(ids(await store.searchRuns({ runId: "run_s4", project: "p1" }))).toEqual([]);
      expect(ids(await store.searchRuns({ threadId: "thread_shared", api: "responses" }))).toEqual(["run_s3", "run_s1"]);
      expect(ids(await store.searchRuns({ owner: "payments-team" }))).toEqual(["run_s1", "run_s0"]);
      expect(ids(await store.searchRuns({ status: "failed" }))).toEqual(["run_s3"]);
      expect(ids(await store.searchRuns({ reason: "failed", project: "p1" }))).toEqual(["run_s3"]);
      expect(ids(await store.searchRuns({ from: 1_700_000_001_000, to: 1_700_000_003_000 }))).toEqual(["run_s3", "run_s2", "run_s1"]);
      const scan1 = await store.searchRuns({ project: "p1", limit: 3 });
      expect(ids(scan1)).toEqual(["run_s3", "run_s2", "run_s1"]);
      expect(ids(await store.searchRuns({ project: "p1", limit: 3, continuationToken: scan1.continuationToken }))).toEqual(["run_s0"]);
      await expect(store.searchRuns({ threadId: "thread_shared", continuationToken: "not-a-token" })).rejects.toBeInstanceOf(InputError);
    });

    test("keys with characters Table Storage forbids round-trip; long step lists are compacted", async () => {
      const store = await newStore();
      const odd = "run/1\\#?|%'\u0007é😀";
      const head = makeHead("proj/x", odd, {
        ref: { project: "proj/x", api: "responses", runId: odd, threadId: "conv#1/'" },
        session: "s?1",
        steps: Array.from({ length: MAX_STEPS_KEPT + 30 }, (_, i) => ({ id: `step_${i}`, type: "tool_calls", status: "completed", toolCalls: [] })),
      });
      expect(await store.createRun({ head, transitions: [], outbox: [] })).toBe("created");
      const stored = await mustGet(store, "proj/x", odd);
      expect(stored.head.ref).toEqual(head.ref);
      expect(stored.head.steps).toHaveLength(MAX_STEPS_KEPT);
      expect(stored.head.steps?.[0].id).toBe("step_30");
      expect((await store.searchRuns({ threadId: "conv#1/'" })).runs.map((h) => h.ref.runId)).toEqual([odd]);
      expect((await store.searchRuns({ session: "s?1", project: "proj/x" })).runs).toHaveLength(1);
      const a = advance(stored, "queued", 1_700_000_001_000);
      expect((await store.commit({ expectedEtag: stored.etag, ...a, outbox: [outboxItem(a.head, "failed", 1)] })).ok).toBe(true);
      expect((await store.listOutbox("proj/x", odd)).map((o) => o.messageId)).toEqual([`${odd}:failed:1`]);
    });

    test("purgeHistory removes old terminal drained runs with all their rows and lookups, and nothing else", async () => {
      const store = await newStore();
      const t0 = 1_700_000_000_000;
      const mk = async (id: string, terminal: boolean, updatedAt: number, pending = false): Promise<void> => {
        const head = makeHead("p1", id, { session: "sess-purge", status: terminal ? "completed" : "in_progress", seq: 1, terminal, updatedAt });
        const item = outboxItem(head, "failed", updatedAt);
        await store.createRun({
          head: pending ? { ...head, pendingOutbox: [item.messageId] } : head,
          transitions: [transition(head, 1, null, head.status!)],
          outbox: pending ? [item] : [],
        });
      };
      await mk("old_done", true, t0);
      await mk("old_active", false, t0);
      await mk("old_pending", true, t0, true);
      await mk("new_done", true, t0 + 10_000);
      expect(await store.countActive("p1")).toBe(2);
      expect(await store.purgeHistory(t0 + 5000)).toBe(1);
      expect(await store.getHead("p1", "old_done")).toBeUndefined();
      expect(await store.listTransitions("p1", "old_done")).toEqual([]);
      expect((await store.searchRuns({ session: "sess-purge" })).runs.map((h) => h.ref.runId).sort()).toEqual(["new_done", "old_active", "old_pending"]);
      expect((await store.searchRuns({ runId: "old_done" })).runs).toEqual([]);
      expect(await store.countActive("p1")).toBe(2);
      expect(await store.purgeHistory(t0 + 5000)).toBe(0);
      expect(await store.purgeHistory(t0 + 20_000)).toBe(1);
      expect(await store.getHead("p1", "old_pending")).toBeDefined();
    });

    test("a change too large for one transaction is a programming error, not a conflict", async () => {
      const store = await newStore();
      const head = makeHead("p1", "run_big");
      const transitions = Array.from({ length: 100 }, (_, i) => transition(head, i + 1, null, "queued"));
      await expect(store.createRun({ head, transitions, outbox: [] })).rejects.toThrow(/at most 100/);
      await expect(store.createRun({ head, transitions: [transitions[0], transitions[0]], outbox: [] })).rejects.toThrow(/twice/);
      expect(await store.getHead("p1", "run_big")).toBeUndefined();
    });
  });
}
