import { detect, type Decision, type Seen } from "../detect/detect.js";
import { resolvePolicy } from "../detect/policy.js";
import type { EffectivePolicy } from "../detect/policy-types.js";
import type { Observation, PollOutcome, RunRef } from "../model/run.js";
import type { OutboxItem, RunHead, StoredHead } from "../store/types.js";
import { withFinalSteps } from "../insights/final-steps.js";
import { partialSideEffectFields } from "../insights/side-effects.js";
import { remediationFor } from "../remediation/decide.js";
import { notifyCommitted, type TrackerDeps } from "./deps.js";

export type PollRunResult =
  | { kind: "unchanged" }
  | { kind: "written"; decision: Decision; outbox: OutboxItem[] }
  | { kind: "gone" }
  | { kind: "failed"; outcome: Exclude<PollOutcome, { kind: "observed" } | { kind: "not-found" }> };

const MAX_COMMIT_TRIES = 4;

export function policyFor(deps: TrackerDeps, head: RunHead): EffectivePolicy {
  return resolvePolicy(deps.policies, { project: head.ref.project, api: head.ref.api, agentId: head.agentId, threadId: head.ref.threadId, tags: head.tags });
}

/** Foundry text that may carry user data is sanitized before the detector (and so the store) sees it. */
function sanitizeObservation(o: Observation, sanitize: (t: string) => string): Observation {
  if (!o.lastError) return o;
  return { ...o, lastError: { code: o.lastError.code, message: sanitize(o.lastError.message) } };
}

/**
 * One poll of one run: read Foundry, decide, and — only if something changed — write head,
 * transitions and outbox rows in one transaction. A stale index copy or a racing poller shows up
 * as an ETag conflict: reload the head and decide again, so a transition is never lost or written
 * twice. When the conflict came from another poller's decision, Foundry is read again first: that
 * poller's read may be newer than ours, and deciding from ours would record a move back to a
 * status the run has already left.
 */
export async function pollRun(deps: TrackerDeps, entry: StoredHead): Promise<PollRunResult> {
  const { head } = entry;
  if (head.terminal) return { kind: "unchanged" };
  const first = await readAndDecide(deps, head);
  if (first.kind === "failed") return first;
  let { seen, decision, policy } = first;
  if (!decision.changed) return { kind: "unchanged" };
  decision = await withFinalSteps(deps.source, decision, policy);

  let current: StoredHead = entry;
  for (let attempt = 0; attempt < MAX_COMMIT_TRIES; attempt++) {
    const outbox = outboxFor(deps, decision);
    const next: RunHead = { ...decision.head, pendingOutbox: [...current.head.pendingOutbox, ...outbox.map((o) => o.messageId)] };
    const result = await deps.store.commit({ expectedEtag: current.etag, head: next, transitions: decision.transitions, outbox });
    if (result.ok) {
      for (const t of decision.transitions) deps.events.transition(t, next);
      await notifyCommitted(deps, { ...decision, head: next });
      return { kind: "written", decision: { ...decision, head: next }, outbox };
    }
    const fresh = await deps.store.getHead(head.ref.project, head.ref.runId);
    if (!fresh) return { kind: "gone" };
    if (decidedSince(current.head, fresh.head)) {
      const again = await readAndDecide(deps, fresh.head);
      if (again.kind === "failed") return again;
      ({ seen, decision, policy } = again);
    } else {
      // Only bookkeeping moved (outbox marked sent, index refreshed): our read is as good as before.
      policy = policyFor(deps, fresh.head);
      decision = detect(fresh.head, seen, policy, deps.clock.now());
    }
    current = fresh;
    if (!decision.changed) return { kind: "unchanged" };
    decision = await withFinalSteps(deps.source, decision, policy);
  }
  deps.events.degraded("store-conflict", `run ${head.ref.runId}: ${MAX_COMMIT_TRIES} ETag conflicts in a row`, deps.clock.now(), [head.ref.project]);
  return { kind: "unchanged" };
}

type ReadAndDecide = { kind: "decided"; seen: Seen; decision: Decision; policy: EffectivePolicy } | Extract<PollRunResult, { kind: "failed" }>;

/** Reads the run (and its steps when they can change the verdict) and decides against `head`. */
async function readAndDecide(deps: TrackerDeps, head: RunHead): Promise<ReadAndDecide> {
  await deps.limiter.acquire();
  const outcome = await timedPoll(deps, head.ref);
  if (outcome.kind === "throttled" || outcome.kind === "transient") return { kind: "failed", outcome };
  let seen: Seen = outcome.kind === "observed" ? { kind: "observed", observation: sanitizeObservation(outcome.observation, deps.sanitize) } : { kind: "not-found" };
  const policy = policyFor(deps, head);
  let decision = detect(head, seen, policy, deps.clock.now());

  // Steps cost a second call, so they are read only when they can change the verdict: a run about
  // to be called stalled in progress (a recent step would clear it), or one that just started
  // waiting for tool output (its open tool-call step tells exactly when).
  if (seen.kind === "observed" && head.ref.api === "classic" && !seen.observation.steps && stepsMatter(decision)) {
    await deps.limiter.acquire(2);
    const withSteps = await timedPoll(deps, head.ref, { steps: true });
    if (withSteps.kind === "throttled" || withSteps.kind === "transient") return { kind: "failed", outcome: withSteps };
    seen = withSteps.kind === "observed" ? { kind: "observed", observation: sanitizeObservation(withSteps.observation, deps.sanitize) } : { kind: "not-found" };
    decision = detect(head, seen, policy, deps.clock.now());
  }
  return { kind: "decided", seen, decision, policy };
}

/** Whether another poller's decision was committed between `before` and `after` (not just outbox bookkeeping). */
function decidedSince(before: RunHead, after: RunHead): boolean {
  return after.seq !== before.seq || after.updatedAt !== before.updatedAt || after.status !== before.status || after.terminal !== before.terminal;
}

/** One Foundry read, timed for the metrics (wall time: the clock may be virtual). */
async function timedPoll(deps: TrackerDeps, ref: RunRef, options?: { steps: boolean }): Promise<PollOutcome> {
  if (!deps.metrics) return deps.source.poll(ref, options);
  const started = performance.now();
  const outcome = await deps.source.poll(ref, options);
  deps.metrics.pollRead(ref, outcome, performance.now() - started);
  return outcome;
}

/** While a run counts as stalled in progress, only its steps can show it moved on (and end the episode). */
function stepsMatter(d: Decision): boolean {
  if (d.head.status === "in_progress" && d.head.episodes["stalled-in-progress"]?.active) return true;
  return d.transitions.some((t) => t.to === "requires_action");
}

export function outboxFor(deps: TrackerDeps, decision: Decision): OutboxItem[] {
  const head = decision.head;
  const policy = policyFor(deps, head);
  const at = deps.clock.now();
  // One operation per decision: the escalations it writes carry its traceparent to the ticket handler.
  const traceparent = decision.escalations.length + decision.recoveries.length > 0 ? deps.metrics?.traceparent() : undefined;
  const base = { ref: head.ref, agentId: head.agentId, severity: policy.severity, owner: policy.owner, at, status: "pending" as const, ...(traceparent ? { traceparent } : {}) };
  return [
    ...decision.escalations.map((e) => ({ ...base, kind: "escalation" as const, messageId: `${head.ref.runId}:${e.reason}:${e.episode}`, reason: e.reason, episode: e.episode, ruleTrueAt: e.ruleTrueAt, ...partialSideEffectFields(e.reason, head.steps, policy), ...remediationFor(head, e.reason, policy) })),
    ...decision.recoveries.map((r) => ({ ...base, kind: "recovered" as const, messageId: `${head.ref.runId}:${r.reason}:${r.episode}:recovered`, reason: r.reason, episode: r.episode })),
  ];
}
