import { describe, expect, it } from "@jest/globals";
import { detect, type Seen } from "../../shared/detect/detect.js";
import { DEFAULT_POLICY } from "../../shared/detect/policy.js";
import type { EffectivePolicy } from "../../shared/detect/policy-types.js";
import type { Observation, RunStatus } from "../../shared/model/run.js";
import type { RunHead } from "../../shared/store/types.js";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const s = (sec: number) => T0 + sec * 1000;
const policy: EffectivePolicy = {
  ...DEFAULT_POLICY,
  thresholds: { queuedSeconds: 300, inProgressSeconds: 900, requiresActionSeconds: 600, cancellingSeconds: 300, maxRuntimeSeconds: 7200 },
};

function freshHead(api: "classic" | "responses" = "classic"): RunHead {
  return { ref: { project: "p", api, runId: "run_1", threadId: "thread_1" }, tags: {}, registeredAt: s(0), episodes: {}, seq: 0, terminal: false, pendingOutbox: [], shard: 0, updatedAt: s(0) };
}

function obs(status: RunStatus, extra: Partial<Observation> = {}): Seen {
  return { kind: "observed", observation: { ref: { project: "p", api: "classic", runId: "run_1", threadId: "thread_1" }, status, createdAt: s(0), ...extra } };
}

/** Feeds a sequence of (time, seen) polls through the detector, collecting what it decided. */
function replay(polls: [number, Seen][], p: EffectivePolicy = policy, head = freshHead()) {
  const out: { at: number; kind: string; reason?: string; episode?: number; to?: string }[] = [];
  let writes = 0;
  for (const [at, seen] of polls) {
    const d = detect(head, seen, p, s(at));
    if (d.changed) writes++;
    for (const t of d.transitions) out.push({ at, kind: "transition", to: t.to });
    for (const e of d.escalations) out.push({ at, kind: "escalation", reason: e.reason, episode: e.episode });
    for (const r of d.recoveries) out.push({ at, kind: "recovered", reason: r.reason, episode: r.episode });
    head = d.head;
  }
  return { out, writes, head };
}

const every = (from: number, to: number, step: number) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

describe("detect", () => {
  it("records the first status and then costs nothing while nothing changes", () => {
    const { out, writes } = replay(every(0, 120, 30).map((t) => [t, obs("queued")]));
    expect(out).toEqual([{ at: 0, kind: "transition", to: "queued" }]);
    expect(writes).toBe(1);
  });

  it("escalates stalled-queued once, strictly after created_at + threshold", () => {
    const { out } = replay(every(0, 600, 30).map((t) => [t, obs("queued")]));
    const esc = out.filter((e) => e.kind === "escalation");
    expect(esc).toEqual([{ at: 330, kind: "escalation", reason: "stalled-queued", episode: 1 }]);
  });

  it("steps reset the in-progress clock; a new stall after progress is a new episode with a recovery between", () => {
    const polls: [number, Seen][] = every(0, 2100, 30).map((t) => {
      const lastStep = t >= 1000 ? s(1000) : s(10);
      return [t, obs("in_progress", { startedAt: s(5), lastProgressAt: lastStep })];
    });
    const { out } = replay(polls);
    expect(out.filter((e) => e.kind !== "transition")).toEqual([
      { at: 930, kind: "escalation", reason: "stalled-in-progress", episode: 1 },
      { at: 1020, kind: "recovered", reason: "stalled-in-progress", episode: 1 },
      { at: 1920, kind: "escalation", reason: "stalled-in-progress", episode: 2 },
    ]);
  });

  it("v2 responses start their in-progress clock at the first poll that saw in_progress", () => {
    const polls: [number, Seen][] = every(0, 1000, 30).map((t) => [t, obs(t >= 30 ? "in_progress" : "queued")]);
    const { out } = replay(polls, policy, freshHead("responses"));
    expect(out.find((e) => e.kind === "escalation")).toEqual({ at: 930, kind: "escalation", reason: "stalled-in-progress", episode: 1 });
  });

  it("v2 progress markers reset the clock when they change", () => {
    const polls: [number, Seen][] = every(0, 1500, 30).map((t) => [t, obs("in_progress", { progressMarker: t >= 600 ? "2" : "1" })]);
    const { out } = replay(polls, policy, freshHead("responses"));
    expect(out.find((e) => e.kind === "escalation")).toEqual({ at: 1500, kind: "escalation", reason: "stalled-in-progress", episode: 1 });
  });

  it("requires_action escalates after the threshold from when it was first seen, or at expires_at", () => {
    const ra = (t: number, expiresAt?: number) => [t, t < 100 ? obs("in_progress", { startedAt: s(5) }) : obs("requires_action", { startedAt: s(5), requiredAction: { toolCalls: [{ id: "call_1", type: "function", name: "f" }], expiresAt: expiresAt === undefined ? undefined : s(expiresAt) } })] as [number, Seen];
    expect(replay(every(0, 900, 30).map((t) => ra(t))).out.find((e) => e.kind === "escalation")).toMatchObject({ at: 720, reason: "stalled-requires-action" });
    expect(replay(every(0, 900, 30).map((t) => ra(t, 400))).out.find((e) => e.kind === "escalation")).toMatchObject({ at: 420, reason: "stalled-requires-action" });
  });

  it("an open tool-call step gives the exact time requires_action began", () => {
    const step = { id: "step_1", type: "tool_calls", status: "in_progress", createdAt: s(100), toolCalls: [] };
    const polls: [number, Seen][] = every(0, 800, 30).map((t) => [t, t < 100 ? obs("in_progress", { startedAt: s(5) }) : obs("requires_action", { startedAt: s(5), steps: t === 120 ? [step] : undefined })]);
    expect(replay(polls).out.find((e) => e.kind === "escalation")).toMatchObject({ at: 720, reason: "stalled-requires-action" });
  });

  it("a run queued again after tool output starts its queued clock when first seen queued again", () => {
    const polls: [number, Seen][] = every(0, 900, 30).map((t) => [t, t < 100 ? obs("requires_action", { startedAt: s(5) }) : obs("queued", { startedAt: s(5) })]);
    const { out } = replay(polls);
    expect(out.find((e) => e.kind === "escalation")).toEqual({ at: 420, kind: "escalation", reason: "stalled-queued", episode: 1 });
  });

  it("escalates terminal failures once and cancelled only when the policy asks", () => {
    const failed = replay([[0, obs("in_progress", { startedAt: s(1) })], [30, obs("failed", { lastError: { code: "server_error", message: "x" } })], [60, obs("failed")]]);
    expect(failed.out.filter((e) => e.kind === "escalation")).toEqual([{ at: 30, kind: "escalation", reason: "failed", episode: 1 }]);
    expect(failed.head.terminal).toBe(true);
    expect(replay([[0, obs("cancelled")]]).out.filter((e) => e.kind === "escalation")).toEqual([]);
    expect(replay([[0, obs("cancelled")]], { ...policy, escalateCancelled: true }).out.filter((e) => e.kind === "escalation")).toHaveLength(1);
  });

  it("stalled-cancelling and max-runtime fire independently", () => {
    const p = { ...policy, thresholds: { ...policy.thresholds, maxRuntimeSeconds: 400 } };
    const polls: [number, Seen][] = every(0, 600, 30).map((t) => [t, t < 50 ? obs("in_progress", { startedAt: s(5), lastProgressAt: s(t) }) : obs("cancelling", { startedAt: s(5) })]);
    const reasons = replay(polls, p).out.filter((e) => e.kind === "escalation").map((e) => `${e.reason}@${e.at}`);
    expect(reasons).toEqual(["stalled-cancelling@360", "max-runtime@420"]);
  });

  it("a 404 for a live run is vanished, once; a terminal run is never judged again", () => {
    const v = replay([[0, obs("in_progress", { startedAt: s(1) })], [30, { kind: "not-found" }], [60, { kind: "not-found" }]]);
    expect(v.out.filter((e) => e.kind === "escalation")).toEqual([{ at: 30, kind: "escalation", reason: "vanished", episode: 1 }]);
    const done = replay([[0, obs("completed")], [30, { kind: "not-found" }]]);
    expect(done.out.filter((e) => e.kind === "escalation")).toEqual([]);
  });

  it("completed runs and runs inside their thresholds never escalate", () => {
    const polls: [number, Seen][] = every(0, 800, 30).map((t) => [t, t < 600 ? obs("in_progress", { startedAt: s(5), lastProgressAt: s(Math.max(5, t - 100)) }) : obs("completed")]);
    expect(replay(polls).out.filter((e) => e.kind === "escalation")).toEqual([]);
  });
});
