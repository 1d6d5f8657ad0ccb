import { z } from "zod";
import { InputError } from "../errors.js";
import type { Api } from "../model/run.js";
import type { EffectivePolicy, PolicyMatch, PolicySet, Thresholds } from "./policy-types.js";

export const DEFAULT_THRESHOLDS: Thresholds = {
  queuedSeconds: 300,
  inProgressSeconds: 900,
  requiresActionSeconds: 600,
  cancellingSeconds: 300,
  maxRuntimeSeconds: 3600,
};

export const DEFAULT_POLICY: EffectivePolicy = {
  owner: "platform-team",
  severity: "medium",
  thresholds: DEFAULT_THRESHOLDS,
  escalateCancelled: false,
};

const seconds = z.number().int().positive().max(30 * 24 * 3600);
const ThresholdsSchema = z
  .object({
    queuedSeconds: seconds,
    inProgressSeconds: seconds,
    requiresActionSeconds: seconds,
    cancellingSeconds: seconds,
    maxRuntimeSeconds: seconds,
  })
  .strict();
const Severity = z.enum(["low", "medium", "high", "critical"]);
const Match = z
  .object({
    project: z.string().optional(),
    agentId: z.string().optional(),
    threadId: z.string().optional(),
    api: z.enum(["classic", "responses"]).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();

const ToolNames = z.array(z.string().min(1).max(128)).max(200);
const InsightsSchema = z
  .object({
    sideEffectTools: ToolNames.optional(),
    readOnlyTools: ToolNames.optional(),
    partialSideEffectSeverity: Severity.optional(),
    failureRateTarget: z.number().min(0).max(1).optional(),
    remediation: z
      .object({ cancelStuck: z.boolean().optional(), retryFailed: z.boolean().optional(), maxRetries: z.number().int().min(0).max(5).optional() })
      .strict()
      .optional(),
  })
  .strict();
const PriceSchema = z.object({ inputPer1K: z.number().min(0), outputPer1K: z.number().min(0) }).strict();

export const PolicySetSchema = z
  .object({
    defaults: z
      .object({
        owner: z.string().min(1).optional(),
        severity: Severity.optional(),
        thresholds: ThresholdsSchema.partial().optional(),
        escalateCancelled: z.boolean().optional(),
        insights: InsightsSchema.optional(),
      })
      .strict()
      .optional(),
    overrides: z
      .array(
        z
          .object({
            match: Match,
            owner: z.string().min(1).optional(),
            severity: Severity.optional(),
            thresholds: ThresholdsSchema.partial().optional(),
            escalateCancelled: z.boolean().optional(),
            insights: InsightsSchema.optional(),
          })
          .strict(),
      )
      .optional(),
    prices: z.record(z.string(), PriceSchema).optional(),
  })
  .strict();

/** Parses a policy document (the MONITOR_POLICIES setting or a blob), naming every bad field. */
export function parsePolicySet(doc: unknown, source = "MONITOR_POLICIES"): PolicySet {
  const parsed = PolicySetSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${source}${i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}: ${i.message}`);
    throw new InputError(problems.join("; "), problems);
  }
  const d = parsed.data.defaults ?? {};
  return {
    defaults: {
      owner: d.owner ?? DEFAULT_POLICY.owner,
      severity: d.severity ?? DEFAULT_POLICY.severity,
      thresholds: { ...DEFAULT_THRESHOLDS, ...d.thresholds },
      escalateCancelled: d.escalateCancelled ?? false,
      ...(d.insights ? { insights: d.insights } : {}),
    },
    overrides: parsed.data.overrides ?? [],
    ...(parsed.data.prices ? { prices: parsed.data.prices } : {}),
  };
}

export function parsePolicySetText(text: string | undefined, source = "MONITOR_POLICIES"): PolicySet {
  if (!text) return { defaults: DEFAULT_POLICY, overrides: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InputError(`${source}: expected JSON {"defaults":{…},"overrides":[{"match":{…},…}]}`);
  }
  return parsePolicySet(doc, source);
}

export interface PolicySubject {
  project: string;
  api: Api;
  agentId?: string;
  threadId?: string;
  tags: Record<string, string>;
}

export function matches(m: PolicyMatch, run: PolicySubject): boolean {
  if (m.project !== undefined && m.project !== run.project) return false;
  if (m.agentId !== undefined && m.agentId !== run.agentId) return false;
  if (m.threadId !== undefined && m.threadId !== run.threadId) return false;
  if (m.api !== undefined && m.api !== run.api) return false;
  if (m.tags) for (const [k, v] of Object.entries(m.tags)) if (run.tags[k] !== v) return false;
  return true;
}

/** The first matching override laid over the defaults (ordered; first match wins). */
export function resolvePolicy(set: PolicySet, run: PolicySubject): EffectivePolicy {
  const o = set.overrides.find((x) => matches(x.match, run));
  if (!o) return set.defaults;
  return {
    owner: o.owner ?? set.defaults.owner,
    severity: o.severity ?? set.defaults.severity,
    thresholds: { ...set.defaults.thresholds, ...o.thresholds },
    escalateCancelled: o.escalateCancelled ?? set.defaults.escalateCancelled,
    ...(o.insights || set.defaults.insights ? { insights: { ...set.defaults.insights, ...o.insights } } : {}),
  };
}
