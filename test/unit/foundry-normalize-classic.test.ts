import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { MalformedBodyError, normalizeClassicRun, normalizeClassicSteps, pickClassicFinalMessage } from "../../shared/foundry/normalize-classic.js";
import { sharedDir } from "../support/paths.js";

const dir = () => path.join(sharedDir(), "fixtures", "foundry", "classic");
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(dir(), name), "utf8"));
const list = (name: string): Record<string, unknown>[] => (fixture(name) as { data: Record<string, unknown>[] }).data;
const s = (seconds: number) => seconds * 1000;

// Every file in the folder is in exactly one of these lists: a new recording fails the guard test
// below until someone decides what it is and what it must normalize to.
const RUN_FILES = ["run-queued.json", "run-in_progress.json", "run-completed.json", "run-requires_action.json", "run-in_progress-deep-research.json", "runs-list.json"];
const STEP_FILES = ["run-steps-list.json", "run-steps-list-azure-function.json", "run-steps-list-message-only.json", "run-step-tool_calls.json", "list-empty-page.json"];
const MESSAGE_FILES = ["messages-list.json", "messages-list-with-citation.json"];
const SEQUENCE_FILES = ["poll-sequence-simple-completed.json", "poll-sequence-function-tool.json"];
const NOT_A_RUN = ["thread.json", "agent.json", "thread-deleted.json", "agent-deleted.json"];

describe("classic fixtures", () => {
  test("every recorded file is classified", () => {
    const known = [...RUN_FILES, ...STEP_FILES, ...MESSAGE_FILES, ...SEQUENCE_FILES, ...NOT_A_RUN].sort();
    expect(fs.readdirSync(dir()).filter((f) => f.endsWith(".json")).sort()).toEqual(known);
  });

  test("run-queued: queued, not started, expires 600 s after creation", () => {
    const o = normalizeClassicRun(fixture("run-queued.json"), "p1");
    expect(o).toEqual({
      ref: { project: "p1", api: "classic", runId: "run_IcGHs5uLnkuryPW7UTB9EUP8", threadId: "thread_PbA2PKEmQSFrYIjd4dYa9cTB" },
      status: "queued",
      agentId: "asst_1ldWQqiEfDpLQX2tgMSjgRdd",
      model: "gpt-4o",
      createdAt: s(1749159556),
      expiresAt: s(1749160156),
    });
  });

  test("run-in_progress: started_at in ms", () => {
    const o = normalizeClassicRun(fixture("run-in_progress.json"), "p1");
    expect(o.status).toBe("in_progress");
    expect(o.startedAt).toBe(s(1749159556));
    expect(o.completedAt).toBeUndefined();
    expect(o.steps).toBeUndefined();
    expect(o.progressMarker).toBeUndefined();
  });

  test("run-completed: completed_at, usage, expires_at cleared", () => {
    const o = normalizeClassicRun(fixture("run-completed.json"), "p1");
    expect(o.status).toBe("completed");
    expect(o.completedAt).toBe(s(1749159557));
    expect(o.expiresAt).toBeUndefined();
    expect(o.usage).toEqual({ promptTokens: 63, completionTokens: 27, totalTokens: 90 });
    expect(o.lastError).toBeUndefined();
  });

  test("run-requires_action: pending tool call names, never arguments; expiry from the run", () => {
    const o = normalizeClassicRun(fixture("run-requires_action.json"), "p1");
    expect(o.status).toBe("requires_action");
    expect(o.requiredAction).toEqual({
      toolCalls: [{ id: "call_Nc0WYAnka8BG3hz1b7n6kw3L", type: "function", name: "getCurrentDateTime" }],
      expiresAt: s(1751270949),
    });
    expect(o.expiresAt).toBe(s(1751234949 + 36000));
    expect(JSON.stringify(o)).not.toContain("arguments");
  });

  test("run-in_progress-deep-research: expires 1800 s after creation", () => {
    const o = normalizeClassicRun(fixture("run-in_progress-deep-research.json"), "p1");
    expect(o.status).toBe("in_progress");
    expect(o.expiresAt! - o.createdAt).toBe(1800_000);
    expect(o.agentId).toBe("asst_zkkE8hHuCj5WhDcPDeC2Ev0W");
  });

  test("runs-list: its run normalizes (old hub endpoint, same shape)", () => {
    const o = normalizeClassicRun(list("runs-list.json")[0], "p1");
    expect(o.status).toBe("in_progress");
    expect(o.ref.threadId).toBe("thread_iSwUZDnV4xZxB8RGnynxe6NQ");
    expect(o.startedAt).toBe(s(1746168354));
  });

  test("run-steps-list: oldest first, file_search call without results, message id", () => {
    const steps = normalizeClassicSteps(fixture("run-steps-list.json"));
    expect(steps).toEqual([
      {
        id: "step_oJYuKsWSGT5TYO7LukUwaWnk",
        type: "tool_calls",
        status: "completed",
        createdAt: s(1749596940),
        completedAt: s(1749596943),
        toolCalls: [{ id: "call_jrR6b6bM6LocQDr0roe83sb5", type: "file_search" }],
      },
      {
        id: "step_y0UREOEXZ32nqtgyBuVCRmME",
        type: "message_creation",
        status: "completed",
        createdAt: s(1749596943),
        completedAt: s(1749596943),
        toolCalls: [],
        messageId: "msg_r9BsOUXCDSTRto75Wh7NiGX1",
      },
    ]);
    expect(JSON.stringify(steps)).not.toContain("azureml://");
  });

  test("run-steps-list-azure-function: tool name kept, arguments and output dropped", () => {
    const steps = normalizeClassicSteps(fixture("run-steps-list-azure-function.json"));
    expect(steps.map((x) => x.type)).toEqual(["tool_calls", "message_creation"]);
    expect(steps[0].toolCalls).toEqual([{ id: "call_iw0mBa2r0zjr1u98QkGtz9BX", type: "azure_function", name: "foo" }]);
    expect(steps[0].completedAt! - steps[0].createdAt!).toBe(45_000);
    expect(steps[1].messageId).toBe("msg_8jo09kSzCkrXc4apMD5f9SaE");
    const text = JSON.stringify(steps);
    expect(text).not.toContain("outputqueueuri");
    expect(text).not.toContain("Bar");
  });

  test("run-steps-list-message-only and a single step body", () => {
    expect(normalizeClassicSteps(fixture("run-steps-list-message-only.json"))).toEqual([
      { id: "step_8tqHdZLKdN3YRvEXefa1jAes", type: "message_creation", status: "completed", createdAt: s(1749159538), completedAt: s(1749159539), toolCalls: [], messageId: "msg_HO2gzKfIpjITAq4NOye0NjTH" },
    ]);
    const single = normalizeClassicSteps(fixture("run-step-tool_calls.json"));
    expect(single.map((x) => [x.id, x.type, x.toolCalls[0].type])).toEqual([["step_oJYuKsWSGT5TYO7LukUwaWnk", "tool_calls", "file_search"]]);
  });

  test("list-empty-page: no steps", () => {
    expect(normalizeClassicSteps(fixture("list-empty-page.json"))).toEqual([]);
    const o = normalizeClassicRun(fixture("run-in_progress.json"), "p1", fixture("list-empty-page.json"));
    expect(o.steps).toEqual([]);
    expect(o.progressMarker).toBe("0");
    expect(o.lastProgressAt).toBeUndefined();
  });

  test("a run with steps: latest progress time and a marker naming the newest step", () => {
    const o = normalizeClassicRun(fixture("run-in_progress.json"), "p1", fixture("run-steps-list.json"));
    expect(o.lastProgressAt).toBe(s(1749596943));
    expect(o.progressMarker).toBe("2:step_y0UREOEXZ32nqtgyBuVCRmME:completed");
    expect(o.finalMessageId).toBeUndefined();
    const items = normalizeClassicRun(fixture("run-in_progress.json"), "p1", list("run-steps-list.json").slice(1));
    expect(items.progressMarker).toBe("1:step_oJYuKsWSGT5TYO7LukUwaWnk:completed");
  });

  test("a completed run with steps names its final message", () => {
    const o = normalizeClassicRun(fixture("run-completed.json"), "p1", fixture("run-steps-list-azure-function.json"));
    expect(o.finalMessageId).toBe("msg_8jo09kSzCkrXc4apMD5f9SaE");
  });

  test("messages-list: the run's assistant message", () => {
    expect(pickClassicFinalMessage(fixture("messages-list.json"), "run_ltzLKBrMDxdN0NBzUVxij1i6")).toEqual({
      id: "msg_CHz2lr14xqVqoeQwY43n5rkq",
      role: "assistant",
      text: "The current date and time is October 10, 2024, 12:30 PM.",
    });
    expect(pickClassicFinalMessage(fixture("messages-list.json"), "run_other")).toBeUndefined();
  });

  test("messages-list-with-citation: picked by the step's message id", () => {
    const m = pickClassicFinalMessage(fixture("messages-list-with-citation.json"), "run_MiLarYK81QcFucnPXzUxH2ZW", "msg_r9BsOUXCDSTRto75Wh7NiGX1");
    expect(m?.id).toBe("msg_r9BsOUXCDSTRto75Wh7NiGX1");
    expect(m?.text.startsWith("Contoso Galaxy Innovations")).toBe(true);
  });

  test.each(NOT_A_RUN)("%s is not a run", (name) => {
    expect(() => normalizeClassicRun(fixture(name), "p1")).toThrow(MalformedBodyError);
  });
});

describe("poll sequences replay in order", () => {
  type Exchange = { method: string; url: string; statusCode: number; body: unknown };
  const replay = (name: string) =>
    (fixture(name) as Exchange[]).filter((e) => e.statusCode === 200).map((e) => normalizeClassicRun(e.body, "p1"));

  test("simple: queued → in_progress → completed", () => {
    const seen = replay("poll-sequence-simple-completed.json");
    expect(seen.map((o) => o.status)).toEqual(["queued", "in_progress", "completed"]);
    expect(new Set(seen.map((o) => o.ref.runId)).size).toBe(1);
    expect(seen[2].completedAt! - seen[1].startedAt!).toBe(1000);
  });

  test("function tool: queued → requires_action → queued → completed, started_at moves on resume", () => {
    const seen = replay("poll-sequence-function-tool.json");
    expect(seen.map((o) => o.status)).toEqual(["queued", "requires_action", "queued", "completed"]);
    expect(seen[1].requiredAction?.toolCalls.map((c) => c.name)).toEqual(["getCurrentDateTime"]);
    expect(seen[2].requiredAction).toBeUndefined();
    expect(seen[1].startedAt).toBe(s(1751234949));
    expect(seen[3].startedAt).toBe(s(1751234952));
    // Foundry keeps the original created_at when a run is queued again after tool output.
    expect(new Set(seen.map((o) => o.createdAt)).size).toBe(1);
  });
});

describe("bodies that are not runs", () => {
  const base = fixture("run-in_progress.json") as Record<string, unknown>;
  test.each([
    ["no id", { ...base, id: undefined }],
    ["no status", { ...base, status: undefined }],
    ["unknown status", { ...base, status: "thinking" }],
    ["status of the wrong type", { ...base, status: 3 }],
    ["created_at a word", { ...base, created_at: "soon" }],
    ["no created_at", { ...base, created_at: null }],
    ["started_at of the wrong type", { ...base, started_at: true }],
    ["usage not an object", { ...base, usage: "lots" }],
    ["another object", { ...base, object: "thread.message" }],
    ["a string", "<html>gateway</html>"],
    ["null", null],
    ["an array", [base]],
  ])("%s → MalformedBodyError", (_label, body) => {
    expect(() => normalizeClassicRun(body, "p1")).toThrow(MalformedBodyError);
  });

  test("the error message never echoes free text from the body", () => {
    const secret = "Customer Jane Doe card 4111 1111 1111 1111";
    for (const body of [{ ...base, status: secret }, secret, { ...base, object: secret }, { ...base, created_at: secret }]) {
      expect(() => normalizeClassicRun(body, "p1")).toThrow(MalformedBodyError);
      expect(() => normalizeClassicRun(body, "p1")).not.toThrow(/Jane/);
    }
  });

  test("steps without data are malformed", () => {
    expect(() => normalizeClassicSteps({ object: "list" })).toThrow(MalformedBodyError);
    expect(() => normalizeClassicSteps([{ id: "step_1" }])).toThrow(MalformedBodyError);
  });
});
