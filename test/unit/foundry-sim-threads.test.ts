// GET /threads on the simulator core: the list shape Foundry sends (thread.json items in a
// list-empty-page.json envelope), newest first, limit/after paging, and faults like a run read.
import { describe, expect, test } from "@jest/globals";
import { createSimulation } from "../../local/foundry-sim/index.js";
import { parseScenario } from "../../local/scenario/schema.js";

const START = "2026-03-02T09:00:00Z";
const T0 = Date.parse(START) / 1000;
type Json = ReturnType<typeof JSON.parse>;

const scenarioWith = (extra: Record<string, unknown> = {}) =>
  parseScenario({
    name: "threads",
    start: START,
    duration: 3600,
    ...extra,
    runs: [
      { api: "classic", runId: "run_1", threadId: "thread_1", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }] },
      { api: "classic", runId: "run_2", threadId: "thread_2", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }] },
      { api: "responses", runId: "resp_3", threadId: "conv_3", agentId: "v2", timeline: [{ at: 0, status: "queued" }] },
      { api: "classic", runId: "run_4", threadId: "thread_4", agentId: "asst_a", timeline: [{ at: 0, status: "queued" }] },
    ],
  });

describe("GET /threads", () => {
  test("classic threads only, newest first, in Foundry's list shape", () => {
    const sim = createSimulation(scenarioWith());
    const res = sim.handle({ method: "GET", path: "/threads", query: { limit: "20", order: "desc" } }, 10);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      object: "list",
      data: ["thread_4", "thread_2", "thread_1"].map((id) => ({ id, object: "thread", created_at: T0, metadata: {}, tool_resources: {} })),
      first_id: "thread_4",
      last_id: "thread_1",
      has_more: false,
    });
    expect(sim.stats().requests["threads.list"]).toBe(1);
  });

  test("limit and after page through; a thread created later is the newest", () => {
    const sim = createSimulation(scenarioWith());
    const created = sim.handle({ method: "POST", path: "/threads" }, 100).body as Json;
    const ids = (q: Record<string, string>, at = 120) => sim.handle({ method: "GET", path: "/threads", query: q }, at).body as Json;
    const first = ids({ limit: "2" });
    expect([first.data.map((t: Json) => t.id), first.has_more, first.last_id]).toEqual([[created.id, "thread_4"], true, "thread_4"]);
    const second = ids({ limit: "2", after: first.last_id });
    expect([second.data.map((t: Json) => t.id), second.has_more]).toEqual([["thread_2", "thread_1"], false]);
    expect(ids({ limit: "20", order: "asc" }).data.map((t: Json) => t.id)).toEqual(["thread_1", "thread_2", "thread_4", created.id]);
    // before it was created, the thread is not listed
    expect(ids({ limit: "20" }, 50).data).toHaveLength(3);
  });

  test("scenario faults hit the threads list in their window, and only there", () => {
    const sim = createSimulation(scenarioWith({ foundry: { faults: [{ from: 100, to: 200, kind: "http500", ratio: 1 }, { from: 200, to: 300, kind: "http429", ratio: 1 }] } }));
    const status = (at: number) => sim.handle({ method: "GET", path: "/threads", query: { limit: "20" } }, at);
    expect(status(150).status).toBe(500);
    const throttled = status(250);
    expect([throttled.status, throttled.headers["retry-after"]]).toEqual([429, "1"]);
    expect(status(300).status).toBe(200);
    // the runs list of a thread is not a fault target (unchanged behaviour)
    expect(sim.handle({ method: "GET", path: "/threads/thread_1/runs" }, 150).status).toBe(200);
  });
});
