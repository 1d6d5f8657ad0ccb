// Scenario files (../shared/contracts/scenario.md, "Scenario"): the zod schema, the loader, and the
// semantic checks a schema cannot express. A bad file is an InputError with one line naming the field.

import fs from "node:fs";
import { z } from "zod";
import { InputError, ensureError } from "../../shared/errors.js";
import { RUN_STATUSES } from "../../shared/model/run.js";
import { formatIssue, valueAt } from "./issues.js";

/** A scenario speaks Foundry's classic statuses (v2 uses a subset of them). */
export const CLASSIC_STATUSES = RUN_STATUSES;
export type ScenarioStatus = (typeof CLASSIC_STATUSES)[number];

/** v2 responses have no tool-output wait and no expiry: those statuses cannot be meant for them. */
const CLASSIC_ONLY_STATUSES: ReadonlySet<string> = new Set(["requires_action", "expired"]);

export const STEP_STATUSES = ["in_progress", "completed", "failed", "cancelled", "expired"] as const;
export const FAULT_KINDS = ["http500", "http429", "timeout", "malformed"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const DEFAULT_THRESHOLDS = {
  queuedSeconds: 300,
  inProgressSeconds: 900,
  requiresActionSeconds: 600,
  cancellingSeconds: 300,
  maxRuntimeSeconds: 3600,
} as const;
export const DEFAULT_POLL_INTERVAL_SECONDS = 30;
export const DEFAULT_PROJECT = "default";

const seconds = z.number().finite().min(0, "expected a number of seconds ≥ 0");
const positiveSeconds = z.number().finite().positive("expected a number of seconds > 0");
const nonEmpty = z.string().min(1, "expected a non-empty string");
const tags = z.record(z.string(), z.string());

const thresholdsShape = {
  queuedSeconds: positiveSeconds.optional(),
  inProgressSeconds: positiveSeconds.optional(),
  requiresActionSeconds: positiveSeconds.optional(),
  cancellingSeconds: positiveSeconds.optional(),
  maxRuntimeSeconds: positiveSeconds.optional(),
};
const PartialThresholds = z.object(thresholdsShape).strict();

const Monitor = z
  .object({
    pollIntervalSeconds: positiveSeconds.default(DEFAULT_POLL_INTERVAL_SECONDS),
    thresholds: PartialThresholds.prefault({}).transform((t) => ({ ...DEFAULT_THRESHOLDS, ...stripUndefined(t) })),
    escalateCancelled: z.boolean().default(false),
  })
  .strict();

const Policy = z
  .object({
    match: z
      .object({
        project: nonEmpty.optional(),
        agentId: nonEmpty.optional(),
        threadId: nonEmpty.optional(),
        api: z.enum(["classic", "responses"]).optional(),
        tags: tags.optional(),
      })
      .strict(),
    owner: nonEmpty.optional(),
    severity: z.enum(["low", "medium", "high", "critical"]).optional(),
    thresholds: PartialThresholds.optional(),
    escalateCancelled: z.boolean().optional(),
  })
  .strict();

const Fault = z
  .object({
    from: seconds,
    to: seconds,
    kind: z.enum(FAULT_KINDS),
    ratio: z.number().min(0, "expected a ratio between 0 and 1").max(1, "expected a ratio between 0 and 1"),
  })
  .strict();

const Foundry = z
  .object({
    latencyMs: z.number().finite().min(0).max(60000).optional(),
    rateLimitPerSecond: z.number().finite().positive().optional(),
    faults: z.array(Fault).default([]),
  })
  .strict();

const Tickets = z
  .object({
    groupBy: z.array(z.enum(["agentId", "reason", "project", "api", "threadId", "model"])).min(1),
    threshold: z.number().int().min(1),
    windowSeconds: positiveSeconds,
  })
  .strict();

const ToolCall = z.object({ id: nonEmpty, name: nonEmpty }).strict();
const LastError = z.object({ code: nonEmpty, message: z.string() }).strict();
const Step = z
  .object({
    type: z.enum(["tool_calls", "message_creation"]),
    tool: nonEmpty.optional(),
    status: z.enum(STEP_STATUSES).default("completed"),
  })
  .strict();

// One object with every entry field optional, then a refinement: errors then name the field that is
// wrong instead of zod's "no union member matched".
const RawEntry = z
  .object({
    at: seconds,
    status: z.enum(CLASSIC_STATUSES).optional(),
    lastError: LastError.optional(),
    toolCalls: z.array(ToolCall).optional(),
    expiresAt: seconds.optional(),
    step: Step.optional(),
    vanish: z.literal(true).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const kinds = (["status", "step", "vanish"] as const).filter((k) => e[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: "custom", message: `expected exactly one of status, step, vanish, got ${kinds.length ? kinds.join(" and ") : "none"}` });
      return;
    }
    if (e.status === undefined) {
      for (const k of ["lastError", "toolCalls", "expiresAt"] as const) {
        if (e[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], message: "only allowed on a status entry" });
      }
    }
  });

const Usage = z
  .object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    total_tokens: z.number().int().min(0).optional(),
  })
  .strict()
  .transform((u) => ({ ...u, total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens }));

const Run = z
  .object({
    api: z.enum(["classic", "responses"]),
    project: nonEmpty.optional(),
    runId: nonEmpty,
    threadId: z.string(),
    agentId: nonEmpty,
    model: nonEmpty.default("gpt-4o"),
    session: z.string().optional(),
    tags: tags.optional(),
    registerAt: seconds.optional(),
    timeline: z.array(RawEntry).min(1, "expected at least one entry"),
    usage: Usage.optional(),
    finalMessage: z.string().optional(),
  })
  .strict();

const ScenarioFile = z
  .object({
    name: nonEmpty,
    start: z.string().refine((s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)), "expected an ISO date-time such as 2026-03-02T09:00:00Z"),
    duration: positiveSeconds,
    monitor: Monitor.prefault({}),
    policies: z.array(Policy).default([]),
    foundry: Foundry.prefault({}),
    tickets: Tickets.optional(),
    runs: z.array(Run),
  })
  .strict();

export interface StatusEntry {
  at: number;
  status: ScenarioStatus;
  lastError?: { code: string; message: string };
  toolCalls?: { id: string; name: string }[];
  expiresAt?: number;
}
export interface StepEntry {
  at: number;
  step: { type: "tool_calls" | "message_creation"; tool?: string; status: (typeof STEP_STATUSES)[number] };
}
export interface VanishEntry {
  at: number;
  vanish: true;
}
export type TimelineEntry = StatusEntry | StepEntry | VanishEntry;
export const isStatusEntry = (e: TimelineEntry): e is StatusEntry => "status" in e;
export const isStepEntry = (e: TimelineEntry): e is StepEntry => "step" in e;
export const isVanishEntry = (e: TimelineEntry): e is VanishEntry => "vanish" in e;

type ParsedFile = z.output<typeof ScenarioFile>;
export type ScenarioRun = Omit<ParsedFile["runs"][number], "timeline" | "registerAt"> & {
  project: string;
  registerAt: number;
  /** In file order, with `at` never decreasing (see normalizeTimeline). */
  timeline: TimelineEntry[];
};
export type Scenario = Omit<ParsedFile, "runs"> & { runs: ScenarioRun[]; startEpochSeconds: number };
export type ScenarioThresholds = Scenario["monitor"]["thresholds"];
export type ScenarioFault = Scenario["foundry"]["faults"][number];
export type ScenarioPolicy = Scenario["policies"][number];

/**
 * An entry never applies before the entries listed above it: its effective time is the largest `at`
 * so far. Generated files sometimes list a step after a terminal status with an earlier `at`; read
 * this way, a run's state at time t is "every entry up to the first one later than t", which is also
 * how the shared simulator checker reads a timeline. In-order timelines are unchanged.
 */
export function normalizeTimeline(entries: readonly TimelineEntry[]): TimelineEntry[] {
  let latest = 0;
  return entries.map((e) => {
    latest = Math.max(latest, e.at);
    return e.at === latest ? e : { ...e, at: latest };
  });
}

export function parseScenario(json: unknown, source = "scenario"): Scenario {
  const parsed = ScenarioFile.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => formatIssue(i, valueAt(json, i.path)));
    throw new InputError(`${source}: ${problems[0]}`, problems);
  }
  const file = parsed.data;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  file.runs.forEach((run, i) => {
    const where = `runs[${i}]`;
    const before = seen.get(run.runId);
    if (before !== undefined) problems.push(`${where}.runId: duplicate of runs[${before}].runId ${JSON.stringify(run.runId)}`);
    else seen.set(run.runId, i);
    if (run.api === "classic" && run.threadId === "") problems.push(`${where}.threadId: a classic run needs its thread ID`);
    const firstNonStep = run.timeline.findIndex((e) => e.step === undefined);
    if (firstNonStep < 0) problems.push(`${where}.timeline: expected at least one status entry`);
    else if (run.timeline[firstNonStep].status === undefined) {
      problems.push(`${where}.timeline[${firstNonStep}]: the first entry that is not a step must set a status (the run does not exist yet)`);
    }
    run.timeline.forEach((e, j) => {
      if (run.api === "responses" && e.status !== undefined && CLASSIC_ONLY_STATUSES.has(e.status)) {
        problems.push(`${where}.timeline[${j}].status: "${e.status}" does not exist for v2 responses (expected one of queued, in_progress, cancelling, cancelled, failed, completed, incomplete)`);
      }
    });
  });
  file.foundry.faults.forEach((f, i) => {
    if (f.to <= f.from) problems.push(`foundry.faults[${i}].to: expected a time after from (${f.from}), got ${f.to}`);
  });
  if (problems.length) throw new InputError(`${source}: ${problems[0]}`, problems);

  return {
    ...file,
    startEpochSeconds: Math.floor(Date.parse(file.start) / 1000),
    runs: file.runs.map((run) => {
      const timeline = normalizeTimeline(run.timeline.map(toEntry));
      const firstStatus = timeline.find(isStatusEntry);
      return { ...run, project: run.project ?? DEFAULT_PROJECT, registerAt: run.registerAt ?? firstStatus?.at ?? 0, timeline };
    }),
  };
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`${path}: cannot read the scenario file (${ensureError(e).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${ensureError(e).message})`);
  }
  return parseScenario(json, path);
}

function toEntry(e: z.output<typeof RawEntry>): TimelineEntry {
  if (e.step !== undefined) return { at: e.at, step: e.step };
  if (e.vanish !== undefined) return { at: e.at, vanish: true };
  // the refinement guarantees a status here
  return stripUndefined({ at: e.at, status: e.status as ScenarioStatus, lastError: e.lastError, toolCalls: e.toolCalls, expiresAt: e.expiresAt });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
