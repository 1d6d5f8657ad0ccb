import type { EscalationReason, Instant, Observation, RunStatus, StepSummary } from "../model/run.js";
import { isTerminal } from "../model/run.js";
import type { RunHead, Transition } from "../store/types.js";
import type { EffectivePolicy } from "./policy-types.js";

// The detector: a pure function from (what we knew, what we saw, the run's policy, now) to what
// changed and what must be escalated. No I/O and no clock of its own, so `simulate` can replay an
// hour in milliseconds and tests can pin every edge. Rules: ../shared/contracts/scenario.md.

export type Seen = { kind: "observed"; observation: Observation } | { kind: "not-found" };

export interface Escalation {
  reason: EscalationReason;
  episode: number;
  /** When the rule became true (≤ now): the start of detection latency. */
  ruleTrueAt: Instant;
}

export interface Recovery {
  reason: EscalationReason;
  episode: number;
}

export interface Decision {
  head: RunHead;
  transitions: Transition[];
  escalations: Escalation[];
  recoveries: Recovery[];
  /** Whether anything persisted differs from the previous head (false → the poll costs no write). */
  changed: boolean;
}

const TERMINAL_REASON: Partial<Record<RunStatus, EscalationReason>> = {
  failed: "failed",
  expired: "expired",
  incomplete: "incomplete",
  cancelled: "cancelled",
};

/** Episodes of these reasons end only with the run: they never emit `recovered`. */
const FINAL_REASONS: ReadonlySet<EscalationReason> = new Set(["failed", "expired", "incomplete", "cancelled", "vanished"]);

const MAX_STEPS_KEPT = 50;

/** A rule's clock: when it started and whether that time came from Foundry (exact) or from our first sighting. */
interface Clock {
  since: Instant;
  exact: boolean;
}

/**
 * True once `now` is past `since + limit`. A clock started by our own first sighting is already up
 * to one poll late, so its boundary counts as past (≥); an exact Foundry timestamp needs strictly
 * more than the limit (>), as the rules say.
 */
function over(clock: Clock | undefined, limitMs: number, now: Instant): boolean {
  if (!clock) return false;
  const elapsed = now - clock.since;
  return clock.exact ? elapsed > limitMs : elapsed >= limitMs;
}

export function detect(prev: RunHead, seen: Seen, policy: EffectivePolicy, now: Instant): Decision {
  if (prev.terminal) return { head: prev, transitions: [], escalations: [], recoveries: [], changed: false };
  if (seen.kind === "not-found") return vanished(prev, now);

  const o = seen.observation;
  const head: RunHead = { ...prev, episodes: { ...prev.episodes } };
  const transitions: Transition[] = [];
  const prevStatus = prev.status;

  copyFacts(head, o);
  head.status = o.status;

  if (o.status !== prevStatus) {
    head.seq = prev.seq + 1;
    head.statusSince = now;
    transitions.push({ project: prev.ref.project, runId: prev.ref.runId, seq: head.seq, at: now, from: prevStatus ?? null, to: o.status });
  }

  // stalled-queued clock: created_at for a run that never started; for a run queued again after
  // tool output (Foundry keeps its old created_at) the first poll that saw it queued again.
  if (o.status === "queued") {
    if (prevStatus !== "queued" || head.queuedSince === undefined) {
      const neverStarted = o.startedAt === undefined && (prevStatus === undefined || prevStatus === "queued");
      head.queuedSince = neverStarted ? o.createdAt : now;
    }
  } else {
    head.queuedSince = undefined;
  }

  // stalled-in-progress clock: max(started_at, last step event). v2 responses report no
  // started_at, so their start is the first poll that saw in_progress.
  let progress: Clock | undefined;
  if (o.status === "in_progress") {
    const started: Clock = o.startedAt !== undefined ? { since: o.startedAt, exact: true } : { since: head.statusSince ?? now, exact: false };
    progress = started;
    const candidates: Clock[] = [];
    // A remembered progress time is a Foundry timestamp for classic runs, our own sighting for v2.
    if (prev.progressAt !== undefined && prevStatus === "in_progress") candidates.push({ since: prev.progressAt, exact: prev.ref.api === "classic" });
    if (o.lastProgressAt !== undefined) candidates.push({ since: o.lastProgressAt, exact: true });
    else if (o.progressMarker !== undefined && prev.progressMarker !== undefined && o.progressMarker !== prev.progressMarker) candidates.push({ since: now, exact: false });
    for (const c of candidates) if (c.since > progress.since) progress = c;
    head.progressAt = progress.since;
  }
  if (o.progressMarker !== undefined) head.progressMarker = o.progressMarker;

  const limits = policy.thresholds;
  const conditions = new Map<EscalationReason, Instant>();
  const terminalReason = TERMINAL_REASON[o.status];
  if (terminalReason && (terminalReason !== "cancelled" || policy.escalateCancelled)) conditions.set(terminalReason, now);

  if (o.status === "queued" && head.queuedSince !== undefined) {
    const clock = { since: head.queuedSince, exact: head.queuedSince === o.createdAt };
    if (over(clock, limits.queuedSeconds * 1000, now)) conditions.set("stalled-queued", clock.since + limits.queuedSeconds * 1000);
  }
  if (progress && over(progress, limits.inProgressSeconds * 1000, now)) {
    conditions.set("stalled-in-progress", progress.since + limits.inProgressSeconds * 1000);
  }
  if (o.status === "requires_action") {
    const entered = requiresActionEntry(head.steps, head.statusSince ?? now, o.startedAt);
    const expiresAt = o.requiredAction?.expiresAt ?? o.expiresAt;
    const tooLong = over(entered, limits.requiresActionSeconds * 1000, now);
    const pastExpiry = expiresAt !== undefined && now >= expiresAt;
    if (tooLong || pastExpiry) {
      const byTime = entered.since + limits.requiresActionSeconds * 1000;
      conditions.set("stalled-requires-action", Math.min(byTime, expiresAt ?? byTime));
    }
  }
  if (o.status === "cancelling") {
    const entered: Clock = { since: head.statusSince ?? now, exact: false };
    if (over(entered, limits.cancellingSeconds * 1000, now)) conditions.set("stalled-cancelling", entered.since + limits.cancellingSeconds * 1000);
  }
  if (!isTerminal(o.status) && now - o.createdAt > limits.maxRuntimeSeconds * 1000) {
    conditions.set("max-runtime", o.createdAt + limits.maxRuntimeSeconds * 1000);
  }

  const { escalations, recoveries } = settleEpisodes(head, conditions);
  head.terminal = isTerminal(o.status);
  const changed = transitions.length > 0 || escalations.length > 0 || recoveries.length > 0 || headDiffers(prev, head);
  if (changed) head.updatedAt = now;
  return { head: changed ? head : prev, transitions, escalations, recoveries, changed };
}

function vanished(prev: RunHead, now: Instant): Decision {
  const head: RunHead = { ...prev, episodes: { ...prev.episodes }, vanished: true, terminal: true, updatedAt: now };
  const { escalations } = settleEpisodes(head, new Map([["vanished", now]]), false);
  return { head, transitions: [], escalations, recoveries: [], changed: true };
}

/**
 * Opens an episode for every condition that is true and was not already open; ends every open
 * episode whose condition no longer holds (emitting `recovered`), except final ones.
 */
function settleEpisodes(head: RunHead, conditions: Map<EscalationReason, Instant>, endOthers = true): { escalations: Escalation[]; recoveries: Recovery[] } {
  const escalations: Escalation[] = [];
  const recoveries: Recovery[] = [];
  for (const [reason, ruleTrueAt] of conditions) {
    const ep = head.episodes[reason];
    if (ep?.active) continue;
    const episode = (ep?.episode ?? 0) + 1;
    head.episodes[reason] = { episode, active: true, since: ruleTrueAt };
    escalations.push({ reason, episode, ruleTrueAt });
  }
  if (endOthers) {
    for (const [reason, ep] of Object.entries(head.episodes) as [EscalationReason, NonNullable<RunHead["episodes"][EscalationReason]>][]) {
      if (!ep.active || conditions.has(reason) || FINAL_REASONS.has(reason)) continue;
      head.episodes[reason] = { ...ep, active: false };
      recoveries.push({ reason, episode: ep.episode });
    }
  }
  return { escalations, recoveries };
}

/**
 * When the run started waiting for tool output. Foundry opens an in-progress tool_calls step at
 * that moment, so with steps at hand the time is exact; otherwise it is our first sighting.
 */
function requiresActionEntry(steps: StepSummary[] | undefined, firstSeen: Instant, startedAt: Instant | undefined): Clock {
  const open = steps?.filter((s) => s.type === "tool_calls" && s.status === "in_progress" && s.createdAt !== undefined && (startedAt === undefined || s.createdAt >= startedAt));
  const latest = open?.length ? Math.max(...open.map((s) => s.createdAt as number)) : undefined;
  return latest !== undefined && latest <= firstSeen ? { since: latest, exact: true } : { since: firstSeen, exact: false };
}

function copyFacts(head: RunHead, o: Observation): void {
  head.createdAt = o.createdAt;
  head.startedAt = o.startedAt ?? head.startedAt;
  head.completedAt = o.completedAt;
  head.failedAt = o.failedAt;
  head.cancelledAt = o.cancelledAt;
  head.expiresAt = o.requiredAction?.expiresAt ?? o.expiresAt;
  head.agentId = head.agentId ?? o.agentId;
  head.agentName = o.agentName ?? head.agentName;
  head.agentVersion = o.agentVersion ?? head.agentVersion;
  head.model = o.model ?? head.model;
  head.usage = o.usage ?? head.usage;
  head.lastError = o.lastError;
  head.incompleteDetails = o.incompleteDetails;
  head.pendingToolCalls = o.requiredAction?.toolCalls;
  if (o.steps) head.steps = o.steps.slice(-MAX_STEPS_KEPT);
  head.finalMessageId = o.finalMessageId ?? head.finalMessageId;
}

const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** Field-by-field, so an unchanged run is recognized without serializing whole heads. */
function headDiffers(a: RunHead, b: RunHead): boolean {
  const scalar: (keyof RunHead)[] = [
    "status", "statusSince", "queuedSince", "progressAt", "progressMarker", "createdAt", "startedAt", "completedAt",
    "failedAt", "cancelledAt", "expiresAt", "agentId", "agentName", "agentVersion", "model", "finalMessageId", "terminal", "vanished",
  ];
  for (const k of scalar) if (a[k] !== b[k]) return true;
  if (a.usage?.totalTokens !== b.usage?.totalTokens || a.usage?.promptTokens !== b.usage?.promptTokens) return true;
  if (a.lastError?.code !== b.lastError?.code || a.lastError?.message !== b.lastError?.message) return true;
  if (a.incompleteDetails?.reason !== b.incompleteDetails?.reason) return true;
  if ((a.pendingToolCalls?.length ?? 0) !== (b.pendingToolCalls?.length ?? 0) || !same(a.pendingToolCalls, b.pendingToolCalls)) return true;
  if (a.steps !== b.steps && !same(a.steps, b.steps)) return true;
  return false;
}
