import { describe, expect, test } from "@jest/globals";
import { parseScenario } from "../../local/scenario/schema.js";
import { CANCEL_SECONDS, createSimulation } from "../../local/foundry-sim/index.js";

/** A parsed JSON body, read loosely in assertions. */
type Json = ReturnType<typeof JSON.parse>;

const T0 = Date.parse("2026-03-02T09:00:00Z") / 1000;

const scenario = parseScenario({
  name: "core",
  start: "2026-03-02T09:00:00Z",
  duration: 3600,
  runs: [
    {
      api: "classic",
      runId: "run_tool",
      threadId: "thread_tool",
      agentId: "asst_pay",
      model: "gpt-4o",
      timeline: [
        { at: 10, status: "queued" },
        { at: 15, status: "in_progress" },
        { at: 40, step: { type: "tool_calls", tool: "crm_search", status: "completed" } },
        { at: 60, status: "requires_action", toolCalls: [{ id: "call_abc", name: "get_portfolio" }], expiresAt: 660 },
        { at: 100, status: "queued" },
        { at: 104, status: "in_progress" },
        { at: 120, step: { type: "message_creation", status: "completed" } },
        { at: 130, status: "completed" },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 20 },
      finalMessage: "All done.",
    },
    {
      api: "classic",
      runId: "run_fail",
      threadId: "thread_fail",
      agentId: "asst_pay",
      timeline: [
        { at: 0, status: "queued" },
        { at: 5, status: "in_progress" },
        { at: 50, status: "failed", lastError: { code: "tool_error", message: "boom" } },
      ],
    },
    {
      api: "classic",
      runId: "run_gone",
      threadId: "thread_gone",
      agentId: "asst_other",
      timeline: [
        { at: 0, status: "queued" },
        { at: 5, status: "in_progress" },
        { at: 200, vanish: true },
      ],
    },
    { api: "classic", runId: "run_inc", threadId: "thread_inc", agentId: "asst_other", timeline: [{ at: 0, status: "queued" }, { at: 30, status: "incomplete" }] },
    { api: "classic", runId: "run_long", threadId: "thread_long", agentId: "asst_other", timeline: [{ at: 0, status: "queued" }, { at: 1, status: "in_progress" }] },
    {
      api: "responses",
      runId: "resp_one",
      threadId: "conv_one",
      agentId: "kb-v2",
      model: "gpt-4.1-mini",
      timeline: [
        { at: 0, status: "queued" },
        { at: 10, status: "in_progress" },
        { at: 20, step: { type: "tool_calls", tool: "search", status: "completed" } },
        { at: 30, step: { type: "message_creation", status: "completed" } },
        { at: 40, status: "completed" },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
      finalMessage: "Answer.",
    },
    {
      api: "responses",
      runId: "resp_fail",
      threadId: "conv_one",
      agentId: "kb-v2",
      timeline: [{ at: 50, status: "queued" }, { at: 60, status: "failed", lastError: { code: "server_error", message: "x" } }],
    },
  ],
});

const get = (sim: ReturnType<typeof createSimulation>, path: string, at: number, query?: Record<string, string>) => sim.handle({ method: "GET", path, query }, at);
const body = (r: { body?: unknown }) => r.body as Record<string, Json>;

describe("foundry-sim core: classic runs", () => {
  const sim = createSimulation(scenario);
  const run = (at: number) => get(sim, "/threads/thread_tool/runs/run_tool", at);

  test("404 with Foundry's error body before the first entry", () => {
    const r = run(9);
    expect(r.status).toBe(404);
    expect(body(r).error.code).toBe("not_found");
    expect(typeof body(r).error.message).toBe("string");
  });

  test("queued: created_at from the first entry, not started, expiring later", () => {
    const b = body(run(12));
    expect(b).toMatchObject({ id: "run_tool", object: "thread.run", status: "queued", created_at: T0 + 10, started_at: null, thread_id: "thread_tool", assistant_id: "asst_pay", model: "gpt-4o", usage: null });
    expect(b.expires_at).toBeGreaterThan(T0 + 3600);
  });

  test("requires_action carries its tool calls and expires_at", () => {
    const b = body(run(61));
    expect(b.status).toBe("requires_action");
    expect(b.started_at).toBe(T0 + 15);
    expect(b.expires_at).toBe(T0 + 660);
    expect(b.required_action).toEqual({
      type: "submit_tool_outputs",
      submit_tool_outputs: { tool_calls: [{ id: "call_abc", type: "function", function: { name: "get_portfolio", arguments: "{}" } }] },
    });
  });

  test("queued again after tool output keeps created_at and the old started_at; resuming resets started_at", () => {
    expect(body(run(101))).toMatchObject({ status: "queued", created_at: T0 + 10, started_at: T0 + 15, required_action: null });
    expect(body(run(105))).toMatchObject({ status: "in_progress", started_at: T0 + 104 });
  });

  test("an entry applies from its second on (inclusive)", () => {
    expect(body(run(129.9)).status).toBe("in_progress");
    expect(body(run(130)).status).toBe("completed");
  });

  test("completed: completed_at, usage, no expiry", () => {
    const b = body(run(131));
    expect(b).toMatchObject({ status: "completed", completed_at: T0 + 130, expires_at: null, failed_at: null });
    expect(b.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 });
  });

  test("failed: last_error and failed_at", () => {
    const b = body(get(sim, "/threads/thread_fail/runs/run_fail", 51));
    expect(b).toMatchObject({ status: "failed", failed_at: T0 + 50, last_error: { code: "tool_error", message: "boom" } });
    expect(body(get(sim, "/threads/thread_fail/runs/run_fail", 49)).last_error).toBeNull();
  });

  test("incomplete: incomplete_details.reason", () => {
    expect(body(get(sim, "/threads/thread_inc/runs/run_inc", 31)).incomplete_details).toEqual({ reason: expect.any(String) });
  });

  test("a vanished run answers 404 from its vanish time on, and leaves the thread's list", () => {
    expect(get(sim, "/threads/thread_gone/runs/run_gone", 199).status).toBe(200);
    expect(get(sim, "/threads/thread_gone/runs/run_gone", 200).status).toBe(404);
    expect(body(get(sim, "/threads/thread_gone/runs", 199)).data).toHaveLength(1);
    expect(body(get(sim, "/threads/thread_gone/runs", 200)).data).toHaveLength(0);
  });

  test("a run read through the wrong thread is not found", () => {
    expect(get(sim, "/threads/thread_fail/runs/run_tool", 131).status).toBe(404);
    expect(get(sim, "/threads/thread_x/runs/run_nope", 131).status).toBe(404);
  });

  test("steps appear at their time with the details the SDK needs, ids stable", () => {
    expect(body(get(sim, "/threads/thread_tool/runs/run_tool/steps", 39)).data).toHaveLength(0);
    const page = body(get(sim, "/threads/thread_tool/runs/run_tool/steps", 131));
    expect(page).toMatchObject({ object: "list", has_more: false });
    const [newest, oldest] = page.data;
    expect(oldest).toMatchObject({ object: "thread.run.step", type: "tool_calls", status: "completed", created_at: T0 + 40, completed_at: T0 + 40, run_id: "run_tool" });
    expect(oldest.step_details.tool_calls[0]).toMatchObject({ type: "function", function: { name: "crm_search", arguments: "{}" } });
    expect(newest).toMatchObject({ type: "message_creation", step_details: { type: "message_creation" } });
    expect(newest.step_details.message_creation.message_id).toMatch(/^msg_/);
    expect(body(get(sim, "/threads/thread_tool/runs/run_tool/steps", 500)).data.map((s: Json) => s.id)).toEqual(page.data.map((s: Json) => s.id));
    const one = get(sim, `/threads/thread_tool/runs/run_tool/steps/${oldest.id}`, 131);
    expect(body(one).id).toBe(oldest.id);
  });

  test("list pages honour order, limit and after", () => {
    const asc = body(get(sim, "/threads/thread_tool/runs/run_tool/steps", 131, { order: "asc", limit: "1" }));
    expect(asc.data).toHaveLength(1);
    expect(asc.data[0].type).toBe("tool_calls");
    expect(asc.has_more).toBe(true);
    const next = body(get(sim, "/threads/thread_tool/runs/run_tool/steps", 131, { order: "asc", limit: "1", after: asc.last_id }));
    expect(next.data[0].type).toBe("message_creation");
    expect(next.has_more).toBe(false);
  });

  test("the final message appears once the run completed, with the id its step created", () => {
    expect(body(get(sim, "/threads/thread_tool/messages", 129)).data).toHaveLength(0);
    const msgs = body(get(sim, "/threads/thread_tool/messages", 131)).data;
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ object: "thread.message", role: "assistant", run_id: "run_tool", content: [{ type: "text", text: { value: "All done." } }] });
    const steps = body(get(sim, "/threads/thread_tool/runs/run_tool/steps", 131)).data;
    expect(msgs[0].id).toBe(steps[0].step_details.message_creation.message_id);
  });

  test("assistants are served, unknown ones are 404", () => {
    expect(body(get(sim, "/assistants/asst_pay", 0))).toMatchObject({ id: "asst_pay", object: "assistant", model: "gpt-4o" });
    expect(get(sim, "/assistants/asst_nobody", 0).status).toBe(404);
  });
});

describe("foundry-sim core: v2 responses", () => {
  const sim = createSimulation(scenario);
  const resp = (id: string, at: number) => get(sim, `/openai/v1/responses/${id}`, at);

  test("a background response body per the recordings", () => {
    const b = body(resp("resp_one", 11));
    expect(b).toMatchObject({ id: "resp_one", object: "response", status: "in_progress", background: true, created_at: T0, completed_at: null, model: "gpt-4.1-mini", usage: null, error: null });
    expect(b.conversation).toEqual({ id: "conv_one" });
    expect(b.agent).toMatchObject({ type: "agent_id", name: "kb-v2" });
    expect(b.agent_reference).toMatchObject({ type: "agent_reference", name: "kb-v2" });
    expect(b.output).toEqual([]);
  });

  test("steps become output items; completion adds the final text and usage", () => {
    expect(body(resp("resp_one", 25)).output.map((i: Json) => i.type)).toEqual(["function_call"]);
    const b = body(resp("resp_one", 41));
    expect(b).toMatchObject({ status: "completed", completed_at: T0 + 40 });
    expect(b.output.map((i: Json) => i.type)).toEqual(["function_call", "message"]);
    expect(b.output[0]).toMatchObject({ name: "search", arguments: "{}", call_id: expect.stringMatching(/^call_/) });
    expect(b.output[1].content[0]).toMatchObject({ type: "output_text", text: "Answer." });
    expect(b.usage).toMatchObject({ input_tokens: 7, output_tokens: 3, total_tokens: 10 });
  });

  test("failed responses carry error {code, message}; 404 before they exist", () => {
    expect(resp("resp_fail", 49).status).toBe(404);
    expect(body(resp("resp_fail", 61)).error).toEqual({ code: "server_error", message: "x" });
    expect(resp("resp_nope", 61).status).toBe(404);
  });

  test("conversation items list the responses' output, newest first", () => {
    const items = body(get(sim, "/openai/v1/conversations/conv_one/items", 61)).data;
    expect(items.map((i: Json) => i.type)).toEqual(["message", "function_call"]);
    expect(get(sim, "/openai/v1/conversations/conv_nope/items", 61).status).toBe(404);
  });
});

describe("foundry-sim core: client actions", () => {
  test("cancel: cancelling, then cancelled a few seconds later; later reads reflect it", () => {
    const sim = createSimulation(scenario);
    const path = "/threads/thread_long/runs/run_long";
    const r = sim.handle({ method: "POST", path: `${path}/cancel` }, 100);
    expect(r.status).toBe(200);
    expect(body(r).status).toBe("cancelling");
    expect(body(get(sim, path, 100 + CANCEL_SECONDS - 0.5)).status).toBe("cancelling");
    expect(body(get(sim, path, 100 + CANCEL_SECONDS))).toMatchObject({ status: "cancelled", cancelled_at: T0 + 100 + CANCEL_SECONDS });
    expect(sim.handle({ method: "POST", path: `${path}/cancel` }, 200).status).toBe(400);
    // another simulation of the same scenario is untouched
    expect(body(get(createSimulation(scenario), path, 200)).status).toBe("in_progress");
  });

  test("create a run: queued, then completed with a message; a second run on an active thread is refused", () => {
    const sim = createSimulation(scenario);
    const created = sim.handle({ method: "POST", path: "/threads/thread_fail/runs", body: { assistant_id: "asst_pay" } }, 100);
    expect(created.status).toBe(200);
    const id = body(created).id as string;
    expect(body(created)).toMatchObject({ status: "queued", thread_id: "thread_fail", assistant_id: "asst_pay" });
    const again = sim.handle({ method: "POST", path: "/threads/thread_fail/runs", body: { assistant_id: "asst_pay" } }, 101);
    expect(again.status).toBe(400);
    expect(body(get(sim, `/threads/thread_fail/runs/${id}`, 110)).status).toBe("completed");
    expect(body(get(sim, "/threads/thread_fail/messages", 110)).data[0].run_id).toBe(id);
    expect(sim.handle({ method: "POST", path: "/threads/thread_fail/runs", body: {} }, 120).status).toBe(400);
    expect(sim.handle({ method: "POST", path: "/threads/thread_none/runs", body: { assistant_id: "a" } }, 120).status).toBe(404);
  });

  test("runsAt and request counts", () => {
    const sim = createSimulation(scenario);
    get(sim, "/threads/thread_tool/runs/run_tool", 1);
    get(sim, "/openai/v1/responses/resp_one", 1);
    get(sim, "/openai/v1/responses/resp_one", 1);
    expect(sim.stats().requests).toMatchObject({ "run.get": 1, "response.get": 2 });
    const snap = new Map(sim.runsAt(201).map((r) => [r.runId, r]));
    expect(snap.get("run_tool")?.status).toBe("completed");
    expect(snap.get("run_gone")).toMatchObject({ status: undefined, vanished: true });
    expect(snap.get("resp_fail")?.status).toBe("failed");
  });

  test("a project option serves only that project's runs; unnamed runs serve any other name", () => {
    const multi = parseScenario({
      name: "m",
      start: "2026-03-02T09:00:00Z",
      duration: 60,
      runs: [
        { api: "classic", project: "east", runId: "run_e", threadId: "thread_e", agentId: "a", timeline: [{ at: 0, status: "queued" }] },
        { api: "classic", runId: "run_d", threadId: "thread_d", agentId: "a", timeline: [{ at: 0, status: "queued" }] },
      ],
    });
    const ids = (project?: string) => createSimulation(multi, { project }).runsAt(1).map((r) => r.runId).sort();
    expect(ids("east")).toEqual(["run_e"]);
    expect(ids("anything")).toEqual(["run_d"]);
    expect(ids(undefined)).toEqual(["run_d", "run_e"]);
  });
});
