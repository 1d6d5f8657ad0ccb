// Carries out one remediation plan exactly once per ledger key: the ledger row is inserted
// (insert-only) before Foundry is called, and completed after. A row left "started" by a crashed
// executor is resumed once it is stale: a cancel first looks whether the run is already cancelling,
// a retry first looks on the thread for the run it may already have created.
import type { RemediationClient, WriteOutcome } from "../foundry/remediation-client.js";
import type { InsightsStore } from "../insights/store.js";
import type { Instant } from "../model/run.js";
import { RETRY_ATTEMPT_TAG, RETRY_OF_TAG } from "./decide.js";
import type { RemediationPlan, RemediationRecord } from "./types.js";

export interface RetryRegistration {
  project: string;
  api: "classic";
  runId: string;
  threadId: string;
  agentId?: string;
  tags: Record<string, string>;
}

export interface RemediationExecutorDeps {
  ledger: Pick<InsightsStore, "claimRemediation" | "finishRemediation">;
  /** The write client of a project; undefined = no remediation there. */
  clientFor(project: string): RemediationClient | undefined;
  now(): Instant;
  /** Registers a retry run with the monitor, so it is watched and its own failure continues the lineage. */
  register?(request: RetryRegistration): Promise<unknown>;
  /** A "started" row older than this was left by a crashed executor (default 60 s). */
  staleAfterMs?: number;
  log?(line: string): void;
}

const DEFAULT_STALE_MS = 60_000;
/** Statuses in which a cancel still has work to do. */
const ACTIVE: ReadonlySet<string> = new Set(["queued", "in_progress", "requires_action"]);
/** Foundry's created_at is in whole seconds. */
const CLOCK_SLACK_MS = 1_000;

export async function executeRemediation(deps: RemediationExecutorDeps, plan: RemediationPlan): Promise<RemediationRecord> {
  const started: RemediationRecord = {
    project: plan.ref.project,
    runId: plan.ref.runId,
    threadId: plan.ref.threadId,
    rootRunId: plan.rootRunId,
    action: plan.action,
    attempt: plan.attempt,
    because: plan.because,
    state: "started",
    startedAt: deps.now(),
  };
  const claim = await deps.ledger.claimRemediation(started);
  let record = started;
  let resuming = false;
  if (claim.kind === "exists") {
    const stale = deps.now() - claim.record.startedAt >= (deps.staleAfterMs ?? DEFAULT_STALE_MS);
    if (claim.record.state !== "started" || !stale) {
      // Finished before (a replayed publish), or held by a live executor. A finished retry's run is
      // registered again (a no-op when it is known): the process that created it may have died first.
      await registerRetry(deps, plan, claim.record);
      return claim.record;
    }
    record = claim.record;
    resuming = true;
  }
  const client = deps.clientFor(plan.ref.project);
  if (!client) return finish(deps, { ...record, state: "failed", finishedAt: deps.now(), detail: "no Foundry client for the project" }, claim.etag);

  const done = await act(client, plan, record, resuming, deps.now);
  const final = await finish(deps, done, claim.etag);
  await registerRetry(deps, plan, final);
  deps.log?.(`remediation: ${plan.action} ${plan.ref.runId} (attempt ${plan.attempt}, because ${plan.because}) → ${final.state}${final.detail ? ` (${final.detail})` : ""}`);
  return final;
}

/** Calls Foundry (or, resuming a dead executor's row, first checks what it already did) and returns the finished row. */
async function act(client: RemediationClient, plan: RemediationPlan, record: RemediationRecord, resuming: boolean, now: () => Instant): Promise<RemediationRecord> {
  if (plan.action === "cancel" && resuming) {
    const settled = await settledRun(client, plan);
    // Cancelling or cancelled: the dead executor's cancel went through. Anything else: the run ended on its own.
    if (settled) return { ...record, state: settled.status === "cancelling" || settled.status === "cancelled" ? "done" : "refused", finishedAt: now(), detail: `found ${settled.status} when resumed` };
  }
  let outcome: WriteOutcome;
  if (plan.action === "cancel") outcome = await client.cancelRun(plan.ref.threadId, plan.ref.runId);
  else {
    const earlier = resuming ? await findCreatedRetry(client, record, plan) : undefined;
    outcome = earlier ? { kind: "ok", run: earlier } : await client.createRun(plan.ref.threadId, plan.agentId ?? "");
  }
  const finishedAt = now();
  if (outcome.kind === "ok") return { ...record, state: "done", finishedAt, ...(plan.action === "retry" ? { newRunId: outcome.run.id } : {}) };
  if (outcome.kind === "refused") return { ...record, state: "refused", finishedAt, detail: `HTTP ${outcome.status}${outcome.code ? ` ${outcome.code}` : ""}` };
  return { ...record, state: "failed", finishedAt, detail: outcome.detail };
}

/** Registers a created retry run with the monitor (idempotent: an already registered run is left as it is). */
async function registerRetry(deps: RemediationExecutorDeps, plan: RemediationPlan, record: RemediationRecord): Promise<void> {
  if (record.action !== "retry" || record.state !== "done" || !record.newRunId || !deps.register) return;
  try {
    await deps.register({
      project: plan.ref.project,
      api: "classic",
      runId: record.newRunId,
      threadId: plan.ref.threadId,
      agentId: plan.agentId,
      tags: { [RETRY_OF_TAG]: plan.rootRunId, [RETRY_ATTEMPT_TAG]: String(plan.attempt) },
    });
  } catch (e) {
    deps.log?.(`remediation: retry run ${record.newRunId} of ${plan.rootRunId} could not be registered: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function finish(deps: RemediationExecutorDeps, record: RemediationRecord, etag: string): Promise<RemediationRecord> {
  // A conflict means another executor resumed and finished the row: its answer stands.
  const result = await deps.ledger.finishRemediation(record, etag);
  if (result === "ok") return record;
  const again = await deps.ledger.claimRemediation(record);
  return again.kind === "exists" ? again.record : record;
}

/**
 * A resumed cancel first looks at the run: a dead executor may have sent the cancel already, and
 * Foundry accepts a second cancel of a cancelling run — one action must stay one request.
 * Undefined: the run still needs the cancel (or its state cannot be read, and a cancel is harmless).
 */
async function settledRun(client: RemediationClient, plan: RemediationPlan) {
  const run = (await client.listRuns(plan.ref.threadId))?.find((r) => r.id === plan.ref.runId);
  return run && !ACTIVE.has(run.status) ? run : undefined;
}

/** A run of the same agent on the thread created after the row was claimed (and not the failed run itself). */
async function findCreatedRetry(client: RemediationClient, record: RemediationRecord, plan: RemediationPlan) {
  const runs = await client.listRuns(plan.ref.threadId);
  return runs?.find((r) => r.id !== plan.ref.runId && (r.createdAt ?? 0) >= record.startedAt - CLOCK_SLACK_MS && (!plan.agentId || r.assistantId === plan.agentId));
}
