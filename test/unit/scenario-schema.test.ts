import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { InputError } from "../../shared/errors.js";
import { DEFAULT_THRESHOLDS, loadScenario, parseScenario } from "../../local/scenario/schema.js";
import { sharedDir } from "../support/paths.js";

/** A parsed JSON body, read loosely in assertions. */
type Json = ReturnType<typeof JSON.parse>;

const examples = ["terminal-outcomes", "stalls", "flaky-foundry", "fleet"];
const examplePath = (name: string) => path.join(sharedDir(), "contracts", "scenarios", `${name}.json`);

function minimal(): Record<string, unknown> {
  return {
    name: "t",
    start: "2026-03-02T09:00:00Z",
    duration: 600,
    runs: [
      {
        api: "classic",
        runId: "run_a",
        threadId: "thread_a",
        agentId: "asst_a",
        timeline: [
          { at: 0, status: "queued" },
          { at: 5, status: "in_progress" },
        ],
      },
    ],
  };
}

/** The one-line message parseScenario throws for the scenario after `mutate`. */
function problem(mutate: (s: Json) => void): string {
  const s = minimal();
  mutate(s);
  try {
    parseScenario(s, "s.json");
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const message = (e as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("expected the scenario to be rejected");
}

describe("scenario schema", () => {
  test.each(examples)("loads the example %s", (name) => {
    const s = loadScenario(examplePath(name));
    expect(s.runs.length).toBeGreaterThan(0);
    expect(s.startEpochSeconds).toBe(Date.parse(s.start) / 1000);
    for (const run of s.runs) {
      expect(run.project).toBe("default");
      for (let i = 1; i < run.timeline.length; i++) expect(run.timeline[i].at).toBeGreaterThanOrEqual(run.timeline[i - 1].at);
    }
  });

  test("fills the documented defaults", () => {
    const s = parseScenario(minimal());
    expect(s.monitor).toEqual({ pollIntervalSeconds: 30, thresholds: DEFAULT_THRESHOLDS, escalateCancelled: false });
    expect(DEFAULT_THRESHOLDS).toEqual({ queuedSeconds: 300, inProgressSeconds: 900, requiresActionSeconds: 600, cancellingSeconds: 300, maxRuntimeSeconds: 3600 });
    expect(s.policies).toEqual([]);
    expect(s.foundry.faults).toEqual([]);
    expect(s.runs[0]).toMatchObject({ model: "gpt-4o", registerAt: 0, project: "default" });
  });

  test("partial thresholds keep the other defaults", () => {
    const s = parseScenario({ ...minimal(), monitor: { thresholds: { queuedSeconds: 60 } } });
    expect(s.monitor.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, queuedSeconds: 60 });
  });

  test("usage without total_tokens gets their sum", () => {
    const s = minimal();
    (s.runs as Json[])[0].usage = { prompt_tokens: 10, completion_tokens: 5 };
    expect(parseScenario(s).runs[0].usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  });

  test("an entry listed after a later one never applies before it", () => {
    // as in flaky-foundry.json: a step at 480 listed before "completed" at 475
    const s = minimal();
    (s.runs as Json[])[0].timeline = [
      { at: 0, status: "queued" },
      { at: 10, status: "in_progress" },
      { at: 480, step: { type: "message_creation", status: "completed" } },
      { at: 475, status: "completed" },
    ];
    const t = parseScenario(s).runs[0].timeline;
    expect(t.map((e) => e.at)).toEqual([0, 10, 480, 480]);
    expect(t[3]).toEqual({ at: 480, status: "completed" });
  });

  test("a run may name its project", () => {
    const s = minimal();
    (s.runs as Json[])[0].project = "contoso";
    expect(parseScenario(s).runs[0].project).toBe("contoso");
  });

  test.each<[string, (s: Json) => void, string]>([
    ["a status outside the list", (s) => (s.runs[0].timeline[1].status = "running"), 's.json: runs[0].timeline[1].status: expected one of queued, in_progress, requires_action, cancelling, cancelled, failed, completed, expired, incomplete, got "running"'],
    ["an unknown field on an entry", (s) => (s.runs[0].timeline[0].color = "red"), "runs[0].timeline[0].color: unknown field"],
    ["an unknown top-level field", (s) => (s.extra = 1), "extra: unknown field"],
    ["a negative time", (s) => (s.runs[0].timeline[1].at = -5), "runs[0].timeline[1].at: expected a number of seconds ≥ 0, got -5"],
    ["a missing runId", (s) => delete s.runs[0].runId, "runs[0].runId: required"],
    ["a duplicate runId", (s) => s.runs.push({ ...s.runs[0] }), 'runs[1].runId: duplicate of runs[0].runId "run_a"'],
    ["an entry with two kinds", (s) => (s.runs[0].timeline[1].vanish = true), "runs[0].timeline[1]: expected exactly one of status, step, vanish, got status and vanish"],
    ["an entry with no kind", (s) => (s.runs[0].timeline[1] = { at: 3 }), "runs[0].timeline[1]: expected exactly one of status, step, vanish, got none"],
    ["a vanish before the run exists", (s) => s.runs[0].timeline.unshift({ at: 0, vanish: true }), "runs[0].timeline[0]: the first entry that is not a step must set a status"],
    ["tool calls on a step", (s) => s.runs[0].timeline.push({ at: 9, step: { type: "tool_calls" }, toolCalls: [] }), "runs[0].timeline[2].toolCalls: only allowed on a status entry"],
    ["requires_action on a v2 response", (s) => { s.runs[0].api = "responses"; s.runs[0].timeline[1].status = "requires_action"; }, 'runs[0].timeline[1].status: "requires_action" does not exist for v2 responses'],
    ["a bad fault kind", (s) => (s.foundry = { faults: [{ from: 0, to: 10, kind: "boom", ratio: 0.1 }] }), 'foundry.faults[0].kind: expected one of http500, http429, timeout, malformed, got "boom"'],
    ["a ratio above 1", (s) => (s.foundry = { faults: [{ from: 0, to: 10, kind: "http500", ratio: 1.5 }] }), "foundry.faults[0].ratio: expected a ratio between 0 and 1"],
    ["a fault window that ends before it starts", (s) => (s.foundry = { faults: [{ from: 10, to: 5, kind: "http500", ratio: 0.1 }] }), "foundry.faults[0].to: expected a time after from (10), got 5"],
    ["a start that is not a date", (s) => (s.start = "monday"), 'start: expected an ISO date-time such as 2026-03-02T09:00:00Z, got "monday"'],
    ["an unknown threshold", (s) => (s.monitor = { thresholds: { queuedSecs: 3 } }), "monitor.thresholds.queuedSecs: unknown field"],
    ["a wrong type", (s) => (s.duration = "1h"), 'duration: expected number, got "1h"'],
    ["an unknown policy match key", (s) => (s.policies = [{ match: { agent: "x" } }]), "policies[0].match.agent: unknown field"],
  ])("rejects %s with one line naming the field", (_name, mutate, expected) => {
    expect(problem(mutate)).toContain(expected);
  });

  test("loadScenario names the file for unreadable or non-JSON input", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scenario-"));
    try {
      const bad = path.join(dir, "bad.json");
      fs.writeFileSync(bad, "{ not json");
      expect(() => loadScenario(bad)).toThrow(/bad\.json: not valid JSON/);
      expect(() => loadScenario(path.join(dir, "missing.json"))).toThrow(/missing\.json: cannot read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
