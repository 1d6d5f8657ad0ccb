import { z } from "zod";
import { detect, type Decision } from "../detect/detect.js";
import { withFinalSteps } from "../insights/final-steps.js";
import type { RunHead } from "../store/types.js";
import { notifyCommitted, type TrackerDeps } from "./deps.js";
import { outboxFor, policyFor } from "./poll-run.js";
import { publishOutbox } from "./publish.js";
import { shardOf } from "./shard.js";

// Foundry IDs are short tokens (run_…, thread_…, resp_…, conv_…, asst_…); anything else is a typo
// or an injection attempt, and it would end up in Table keys and ticket titles.
const FoundryId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{2,127}$/, "expected a Foundry ID such as run_abc123 (letters, digits, _ . : -, 3–128 characters)");

/** Azure Table entities are at most 1 MB and Service Bus messages 256 KB: keep what callers attach small. */
const MAX_TAGS = 20;
const TAG_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// Tag names are checked here rather than as the record's key schema: zod reports a bad key only
// as "Invalid key in record", and the caller needs to know what a name may be.
const Tags = z.record(z.string(), z.string().max(256, "expected tag values of at most 256 characters")).superRefine((tags, ctx) => {
  const names = Object.keys(tags);
  if (names.length > MAX_TAGS) ctx.addIssue({ code: "custom", message: `expected at most ${MAX_TAGS} tags` });
  for (const name of names) {
    if (!TAG_NAME.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "expected tag names of letters, digits, _ . - (1–64 characters)" });
  }
});

export const RegistrationRequest = z
  .object({
    project: z.string().min(1, "expected the Foundry project name"),
    api: z.enum(["classic", "responses"]).default("classic"),
    runId: FoundryId,
    threadId: FoundryId.optional(),
    agentId: z.string().max(256).optional(),
    session: z.string().max(256, "expected a session ID of at most 256 characters").optional(),
    tags: Tags.optional(),
  })
  .strict()
  .superRefine(
    (r, ctx) => {
      if (r.api === "classic" && !r.threadId) ctx.addIssue({ code: "custom", path: ["threadId"], message: "is required for classic runs" });
    },
    // Also when other fields failed, so one answer names every bad field (zod skips refinements otherwise).
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  );
export type RegistrationRequest = z.infer<typeof RegistrationRequest>;

export type RegistrationResult =
  | { kind: "registered"; head: RunHead }
  | { kind: "exists"; head: RunHead }
  | { kind: "invalid"; problems: string[] }
  | { kind: "unknown-project"; problems: string[] }
  | { kind: "not-found"; problems: string[] }
  | { kind: "over-capacity"; problems: string[] };

export function parseRegistration(body: unknown): { ok: true; value: RegistrationRequest } | { ok: false; problems: string[] } {
  const parsed = RegistrationRequest.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.code === "invalid_type" && i.input === undefined ? "is required" : i.message}`),
  };
}

/**
 * Registers a run for monitoring, idempotent on project + runId. Reads the run once: Foundry's 404
 * rejects it, a transient error still registers it (the next sweep reads it), an observation sets
 * its first status.
 */
export async function registerRun(deps: TrackerDeps, request: RegistrationRequest): Promise<RegistrationResult> {
  if (!deps.settings.projects.includes(request.project)) {
    return { kind: "unknown-project", problems: [`project: unknown project ${JSON.stringify(request.project)}; configured: ${deps.settings.projects.join(", ")}`] };
  }
  const existing = await deps.store.getHead(request.project, request.runId);
  if (existing) {
    // A registration cut short by a crash (head written, index entry not yet) is retried by the
    // caller: createRun on an existing run finishes it, or the run would never be polled.
    await deps.store.createRun({ head: existing.head, transitions: [], outbox: [] });
    return { kind: "exists", head: existing.head };
  }
  const active = await deps.store.countActive(request.project);
  if (active >= deps.settings.maxActiveRunsPerProject) {
    return { kind: "over-capacity", problems: [`project ${request.project} already has ${active} active runs; the cap MAX_ACTIVE_RUNS_PER_PROJECT is ${deps.settings.maxActiveRunsPerProject}`] };
  }
  const now = deps.clock.now();
  const ref = { project: request.project, api: request.api, runId: request.runId, threadId: request.threadId ?? "" };
  const head: RunHead = {
    ref,
    agentId: request.agentId,
    session: request.session,
    tags: request.tags ?? {},
    registeredAt: now,
    episodes: {},
    seq: 0,
    terminal: false,
    pendingOutbox: [],
    shard: shardOf(ref.project, ref.runId, deps.settings.shardCount),
    updatedAt: now,
  };
  await deps.limiter.acquire();
  const outcome = await deps.source.poll(ref);
  if (outcome.kind === "not-found") {
    return { kind: "not-found", problems: [`runId: Foundry project ${ref.project} has no run ${ref.runId}${ref.threadId ? ` on thread ${ref.threadId}` : ""}`] };
  }
  let committed: Decision | undefined;
  let initial = { head, transitions: [] as ReturnType<typeof detect>["transitions"], outbox: [] as ReturnType<typeof outboxFor> };
  if (outcome.kind === "observed") {
    const o = outcome.observation;
    const observation = o.lastError ? { ...o, lastError: { code: o.lastError.code, message: deps.sanitize(o.lastError.message) } } : o;
    const policy = policyFor(deps, head);
    const decision = await withFinalSteps(deps.source, detect(head, { kind: "observed", observation }, policy, now), policy);
    committed = decision;
    const outbox = outboxFor(deps, decision);
    initial = { head: { ...decision.head, pendingOutbox: outbox.map((x) => x.messageId) }, transitions: decision.transitions, outbox };
  }
  const created = await deps.store.createRun(initial);
  if (created === "exists") {
    const again = await deps.store.getHead(request.project, request.runId);
    return { kind: "exists", head: again?.head ?? initial.head };
  }
  deps.events.registered(initial.head, now);
  for (const t of initial.transitions) deps.events.transition(t, initial.head);
  if (committed) await notifyCommitted(deps, { ...committed, head: initial.head });
  if (initial.outbox.length > 0) await publishOutbox(deps, { only: initial.outbox });
  return { kind: "registered", head: initial.head };
}
