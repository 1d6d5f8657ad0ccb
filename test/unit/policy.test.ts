// Detection policies: parsing names every bad field; resolution is first match wins over the defaults.
import { describe, expect, test } from "@jest/globals";
import { DEFAULT_POLICY, DEFAULT_THRESHOLDS, matches, parsePolicySet, parsePolicySetText, resolvePolicy, type PolicySubject } from "../../shared/detect/policy.js";
import { InputError } from "../../shared/errors.js";

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error("expected an InputError");
};

describe("parsePolicySet", () => {
  test("no policy: the documented defaults", () => {
    expect(parsePolicySetText(undefined)).toEqual({ defaults: DEFAULT_POLICY, overrides: [] });
    expect(parsePolicySetText("")).toEqual({ defaults: DEFAULT_POLICY, overrides: [] });
    expect(DEFAULT_THRESHOLDS).toEqual({ queuedSeconds: 300, inProgressSeconds: 900, requiresActionSeconds: 600, cancellingSeconds: 300, maxRuntimeSeconds: 3600 });
  });

  test("partial defaults are laid over the built-in ones", () => {
    const set = parsePolicySet({ defaults: { owner: "platform", thresholds: { queuedSeconds: 60 } } });
    expect(set.defaults).toEqual({ owner: "platform", severity: "medium", escalateCancelled: false, thresholds: { ...DEFAULT_THRESHOLDS, queuedSeconds: 60 } });
  });

  test("every bad field is named with its path, in one error", () => {
    const problems = problemsOf(() =>
      parsePolicySet({
        defaults: { severity: "urgent", thresholds: { queuedSeconds: -5, inProgressSeconds: 1.5 } },
        overrides: [{ match: { agentId: "asst_a" } }, { match: { agent: "asst_b" }, owner: "" }, { owner: "x" }],
        extra: true,
      }),
    );
    const paths = problems.map((p) => p.slice(0, p.indexOf(":")));
    expect(paths).toEqual(
      expect.arrayContaining([
        "MONITOR_POLICIES.defaults.severity",
        "MONITOR_POLICIES.defaults.thresholds.queuedSeconds",
        "MONITOR_POLICIES.defaults.thresholds.inProgressSeconds",
        "MONITOR_POLICIES.overrides[1].match",
        "MONITOR_POLICIES.overrides[1].owner",
        "MONITOR_POLICIES.overrides[2].match",
        "MONITOR_POLICIES",
      ]),
    );
    expect(problems.find((p) => p.startsWith("MONITOR_POLICIES.overrides[1].match"))).toMatch(/agent/);
    expect(problems.find((p) => p.startsWith("MONITOR_POLICIES:"))).toMatch(/extra/);
    expect(paths.some((p) => p.startsWith("MONITOR_POLICIES.overrides[0]"))).toBe(false);
  });

  test("the source name leads every problem (a blob, not the setting)", () => {
    expect(problemsOf(() => parsePolicySet({ defaults: { escalateCancelled: "yes" } }, "policies.json"))).toEqual([expect.stringMatching(/^policies\.json\.defaults\.escalateCancelled: /)]);
  });

  test("text that is not JSON says what is expected", () => {
    expect(problemsOf(() => parsePolicySetText("{owner: x}"))).toEqual([expect.stringMatching(/^MONITOR_POLICIES: expected JSON /)]);
  });
});

describe("resolvePolicy: first match wins", () => {
  const set = parsePolicySet({
    defaults: { owner: "platform", severity: "low", thresholds: { inProgressSeconds: 600 } },
    overrides: [
      { match: { agentId: "asst_payments" }, owner: "payments-team", severity: "high", thresholds: { inProgressSeconds: 120 } },
      { match: { api: "responses", tags: { tier: "gold" } }, escalateCancelled: true },
      { match: { project: "prod", threadId: "thread_vip" }, severity: "critical" },
      { match: { tags: { tier: "gold" } }, owner: "gold-desk" },
      { match: { agentId: "asst_payments", project: "prod" }, owner: "never-reached" },
    ],
  });
  const run = (over: Partial<PolicySubject> = {}): PolicySubject => ({ project: "prod", api: "classic", agentId: "asst_other", threadId: "thread_1", tags: {}, ...over });

  test("nothing matches: the defaults", () => {
    expect(resolvePolicy(set, run())).toBe(set.defaults);
  });

  test("agentId: the override's fields over the defaults, the rest from the defaults", () => {
    expect(resolvePolicy(set, run({ agentId: "asst_payments" }))).toEqual({
      owner: "payments-team",
      severity: "high",
      escalateCancelled: false,
      thresholds: { ...DEFAULT_THRESHOLDS, inProgressSeconds: 120 },
    });
  });

  test("an earlier match wins over a later, more specific one", () => {
    expect(resolvePolicy(set, run({ agentId: "asst_payments", tags: { tier: "gold" } })).owner).toBe("payments-team");
    expect(resolvePolicy(set, run({ agentId: "asst_payments" })).owner).not.toBe("never-reached");
  });

  test("api and tags must all match", () => {
    const gold = resolvePolicy(set, run({ api: "responses", tags: { tier: "gold", region: "eu" } }));
    expect(gold).toMatchObject({ escalateCancelled: true, owner: "platform", severity: "low" });
    expect(gold.thresholds.inProgressSeconds).toBe(600);
    // classic gold runs skip the responses rule and land on the tags-only one
    expect(resolvePolicy(set, run({ tags: { tier: "gold" } }))).toMatchObject({ owner: "gold-desk", escalateCancelled: false });
    expect(resolvePolicy(set, run({ api: "responses", tags: { tier: "silver" } }))).toBe(set.defaults);
  });

  test("project and threadId together", () => {
    expect(resolvePolicy(set, run({ threadId: "thread_vip" })).severity).toBe("critical");
    expect(resolvePolicy(set, run({ project: "staging", threadId: "thread_vip" })).severity).toBe("low");
  });

  test("matches: an empty match takes every run; a key the run lacks never matches", () => {
    expect(matches({}, run())).toBe(true);
    expect(matches({ agentId: "asst_a" }, run({ agentId: undefined }))).toBe(false);
    expect(matches({ tags: { owner: "x" } }, run({ tags: {} }))).toBe(false);
  });
});
