import fs from "node:fs";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { MalformedBodyError, normalizeResponse, normalizeResponseOutput, pickResponseFinalMessage } from "../../shared/foundry/normalize-response.js";
import { sharedDir } from "../support/paths.js";

const dir = () => path.join(sharedDir(), "fixtures", "foundry", "responses");
const fixture = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(dir(), name), "utf8"));
const s = (seconds: number) => seconds * 1000;

const RESPONSE_FILES = ["response-completed.json", "response-completed-function-call.json", "response-completed-after-function-output.json"];
const ITEM_FILES = ["conversation-items-list.json", "conversation-items-create.json", "conversation-item.json"];
const NOT_A_RESPONSE = [
  "agent-version.json",
  "agent-version-function-tool.json",
  "agent-version-deleted.json",
  "conversation.json",
  "conversation-with-metadata.json",
  "conversation-deleted.json",
  "conversation-item-delete-response.json",
  "error-400-unsupported-file.json",
  ...ITEM_FILES,
];

describe("v2 response fixtures", () => {
  test("every recorded file is classified", () => {
    const known = [...new Set([...RESPONSE_FILES, ...NOT_A_RESPONSE])].sort();
    expect(fs.readdirSync(dir()).filter((f) => f.endsWith(".json")).sort()).toEqual(known);
  });

  test("response-completed: status, times, usage, agent, conversation, final message", () => {
    const o = normalizeResponse(fixture("response-completed.json"), "p2");
    expect(o).toEqual({
      ref: { project: "p2", api: "responses", runId: "resp_c2d97b40f30568190069a88a75c1ac81908bb2fdb1eb358b65", threadId: "conv_c2d97b40f305681900piix31Vu8cfA6kszXjS30LSEZg3TzxBC" },
      status: "completed",
      agentId: "my-agent-basic",
      agentName: "my-agent-basic",
      agentVersion: "10",
      model: "gpt-5.2",
      createdAt: s(1772653174),
      completedAt: s(1772653180),
      usage: { promptTokens: 29, completionTokens: 71, totalTokens: 100 },
      steps: [{ id: "msg_c2d97b40f30568190069a88a79aca4819095fb22e0eeb43f93", type: "message", status: "completed", toolCalls: [], messageId: "msg_c2d97b40f30568190069a88a79aca4819095fb22e0eeb43f93" }],
      progressMarker: "1:completed",
      finalMessageId: "msg_c2d97b40f30568190069a88a79aca4819095fb22e0eeb43f93",
    });
  });

  test("the caller's conversation wins over the body's", () => {
    expect(normalizeResponse(fixture("response-completed.json"), "p2", "conv_registered").ref.threadId).toBe("conv_registered");
  });

  test("response-completed-function-call: a function call step with its name, no arguments, no final message", () => {
    const o = normalizeResponse(fixture("response-completed-function-call.json"), "p2");
    expect(o.status).toBe("completed");
    expect(o.ref.threadId).toBe("");
    expect(o.agentName).toBe("function-tool-agent");
    expect(o.agentVersion).toBe("1");
    expect(o.steps).toEqual([
      {
        id: "fc_062784c370dc75e50069a88a7a8b488194962ddd70d25c63a2",
        type: "function_call",
        status: "completed",
        toolCalls: [{ id: "call_Hxl50Dxi6sMJIVcf36nwYUkv", type: "function", name: "get_horoscope" }],
      },
    ]);
    expect(o.finalMessageId).toBeUndefined();
    expect(o.usage).toEqual({ promptTokens: 85, completionTokens: 21, totalTokens: 106 });
    expect(JSON.stringify(o)).not.toContain("Aquarius");
  });

  test("response-completed-after-function-output: final answer, conversation null", () => {
    const o = normalizeResponse(fixture("response-completed-after-function-output.json"), "p2");
    expect(o.ref.runId).toBe("resp_062784c370dc75e50069a88a7d3e688194bb8147a2d6159903");
    expect(o.completedAt! - o.createdAt).toBe(5000);
    expect(o.finalMessageId).toBe("msg_062784c370dc75e50069a88a8112748194b0511ce973b9e259");
    expect(o.usage?.totalTokens).toBe(156);
    const m = pickResponseFinalMessage(fixture("response-completed-after-function-output.json"));
    expect(m?.id).toBe(o.finalMessageId);
    expect(m?.role).toBe("assistant");
    expect(m?.text.length).toBeGreaterThan(0);
  });

  test("pickResponseFinalMessage: text of the last output message; none for a function call", () => {
    expect(pickResponseFinalMessage(fixture("response-completed.json"))?.text).toMatch(/^France has an area/);
    expect(pickResponseFinalMessage(fixture("response-completed-function-call.json"))).toBeUndefined();
  });

  test("conversation items normalize as steps", () => {
    const items = (fixture("conversation-items-list.json").data as unknown[]);
    expect(normalizeResponseOutput(items).map((x) => [x.type, x.messageId, x.status])).toEqual([
      ["message", "msg_4dae9ce33d75551900HWbwFZGDOIlakWP8LS839uzqvmS03e1o", "completed"],
      ["message", "msg_4dae9ce33d75551900RFatup7dfGnElgog1Xsh4kNXsuWc9dSi", "completed"],
    ]);
    expect(normalizeResponseOutput([fixture("conversation-item.json")])[0].id).toBe("msg_4dae9ce33d75551900RFatup7dfGnElgog1Xsh4kNXsuWc9dSi");
    expect(normalizeResponseOutput(fixture("conversation-items-create.json").data as unknown[])).toHaveLength(1);
  });

  test.each(NOT_A_RESPONSE)("%s is not a response", (name) => {
    expect(() => normalizeResponse(fixture(name), "p2")).toThrow(MalformedBodyError);
  });
});

describe("v2 statuses the recordings lack, shaped from the REST reference", () => {
  const base = fixture("response-completed.json");
  const only = (extra: Record<string, unknown>) => normalizeResponse({ ...base, output: [], completed_at: null, usage: null, ...extra }, "p2");

  test.each(["queued", "in_progress", "completed", "failed", "cancelled", "incomplete"])("%s is read as is", (status) => {
    expect(only({ status }).status).toBe(status);
  });

  test("failed: error → lastError, end time → failedAt", () => {
    const o = only({ status: "failed", error: { code: "server_error", message: "boom" }, completed_at: 1772653190 });
    expect(o.lastError).toEqual({ code: "server_error", message: "boom" });
    expect(o.failedAt).toBe(s(1772653190));
    expect(o.completedAt).toBeUndefined();
    expect(o.finalMessageId).toBeUndefined();
  });

  test("incomplete: incomplete_details.reason", () => {
    expect(only({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } }).incompleteDetails).toEqual({ reason: "max_output_tokens" });
  });

  test("in_progress: the marker follows output items", () => {
    const a = only({ status: "in_progress" });
    const b = only({ status: "in_progress", output: [{ type: "web_search_call", id: "ws_1", status: "in_progress" }] });
    expect(a.progressMarker).toBe("0");
    expect(b.progressMarker).toBe("1:in_progress");
    expect(b.steps?.[0].toolCalls).toEqual([{ id: "ws_1", type: "web_search" }]);
  });

  test.each([
    ["requires_action (no such v2 status)", { status: "requires_action" }],
    ["unknown status", { status: "done" }],
    ["no id", { id: undefined }],
    ["created_at of the wrong type", { created_at: {} }],
    ["output not a list", { output: {} }],
    ["an output item without id", { output: [{ type: "message" }] }],
  ])("%s → MalformedBodyError", (_label, extra) => {
    expect(() => only(extra)).toThrow(MalformedBodyError);
  });
});
