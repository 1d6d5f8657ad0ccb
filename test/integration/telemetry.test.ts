// Application Insights telemetry end to end: scenarios run through the real core (poll → outbox
// → Service Bus via the local AMQP broker → ticket handler → sinks) in a child process whose SDK
// sends to a local HTTPS ingestion endpoint; the envelopes it receives are checked for names,
// dimensions, metrics, Entra ID auth, one operation ID from poll to ticket, and for the absence of
// every secret and personal datum the fault and secret scenarios feed in.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { EVENT_DIMENSIONS, EVENT_NAMES, METRIC_DIMENSIONS, METRIC_NAMES } from "../../shared/telemetry/names.js";
import { parseTraceparent } from "../../shared/telemetry/trace-context.js";
import { eventsNamed, metricsNamed, runTelemetryChild, startIngestionServer, type Envelope, type IngestionServer } from "../support/ingestion-server.js";
import type { TelemetryChildReport } from "../support/telemetry-child.js";
import { sharedDir } from "../support/paths.js";

const scenario = (name: string) => path.join(sharedDir(), "contracts", "scenarios", `${name}.json`);
const SINK_ERROR = "answered HTTP 503: queue full, call Jane at jane.doe@contoso.com";
const SYSTEM_ERROR = "ledger table missing (connection string AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0Cg==)";

let server: IngestionServer;
let report: TelemetryChildReport;
let envelopes: Envelope[];
let childLog = "";

beforeAll(async () => {
  server = await startIngestionServer();
  const run = await runTelemetryChild(server, {
    scenarios: [scenario("terminal-outcomes"), scenario("stalls"), scenario("flaky-foundry")],
    bus: "broker",
    flakySinkMessage: SINK_ERROR,
    systemErrorMessage: SYSTEM_ERROR,
  });
  if (run.code !== 0) throw new Error(`telemetry child exited ${run.code}:\n${run.stderr}`);
  childLog = run.stderr;
  report = JSON.parse(run.stdout.trim().split("\n").pop()!) as TelemetryChildReport;
  envelopes = server.envelopes;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

const props = (e: Envelope): Record<string, string> => e.data.baseData.properties ?? {};

describe("what reaches the ingestion endpoint", () => {
  test("the SDK posts to /v2.1/track with the identity's bearer token (local auth is off in Azure)", () => {
    const track = server.requests.filter((r) => r.path === "/v2.1/track");
    expect(track.length).toBeGreaterThan(0);
    for (const r of track) expect(r.headers.authorization).toBe("Bearer local-ingestion-token");
    expect(envelopes.every((e) => e.iKey === "11111111-2222-3333-4444-555555555555")).toBe(true);
  });

  test("every event name is sent, each with the contract's dimensions", () => {
    for (const name of EVENT_NAMES) {
      const sent = eventsNamed(envelopes, name);
      expect([name, sent.length > 0]).toEqual([name, true]);
      for (const e of sent) for (const d of EVENT_DIMENSIONS[name]) expect([name, d, typeof props(e)[d]]).toEqual([name, d, "string"]);
    }
  });

  test("every metric name is sent with its dimensions", () => {
    for (const name of METRIC_NAMES) {
      const points = metricsNamed(envelopes, name);
      expect([name, points.length > 0]).toEqual([name, true]);
      for (const p of points) for (const d of METRIC_DIMENSIONS[name]) expect([name, d, typeof p.properties[d]]).toEqual([name, d, "string"]);
    }
  });

  test("escalations match what was published: reasons, IDs, detection latency", () => {
    const escalated = eventsNamed(envelopes, "RunEscalated");
    const published = report.published.filter((p) => p.kind === "escalation");
    expect(escalated.map((e) => props(e).messageId).sort()).toEqual(published.map((p) => p.messageId).sort());
    const failed = escalated.find((e) => props(e).runId === "run_ckFq13IWIsWIWqLE1cA9GYI2");
    expect(failed && props(failed)).toMatchObject({ reason: "failed", project: expect.any(String), threadId: expect.stringMatching(/^thread_/) });
    for (const e of escalated) expect(e.data.baseData.measurements?.detectionLatencyMs).toBeGreaterThanOrEqual(0);
    const byReason = metricsNamed(envelopes, "Escalations").reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.properties.reason]: (acc[p.properties.reason] ?? 0) + p.value }), {});
    expect(byReason["stalled-in-progress"]).toBe(escalated.filter((e) => props(e).reason === "stalled-in-progress").length);
    expect(eventsNamed(envelopes, "RunRecovered").map((e) => props(e).runId)).toContain("run_083x0iSMPvSL7RzpFloB1AUC");
  });

  test("transitions carry from/to and IDs that survived the sanitizer verbatim", () => {
    const t = eventsNamed(envelopes, "RunTransition").filter((e) => props(e).runId === "run_ckFq13IWIsWIWqLE1cA9GYI2");
    expect(t.map((e) => props(e).to)).toContain("failed");
    expect(props(t[0]).from).toBe("(none)");
  });

  test("polls are counted with latency, and the ActiveRuns gauge is reported", () => {
    const polls = metricsNamed(envelopes, "Polls").reduce((n, p) => n + p.value, 0);
    expect(polls).toBeGreaterThan(50);
    expect(metricsNamed(envelopes, "PollLatencyMs").every((p) => p.value >= 0)).toBe(true);
    expect(metricsNamed(envelopes, "ActiveRuns").some((p) => p.properties.status === "in_progress")).toBe(true);
  });

  test("a failing sink shows as TicketSinkFailed with a code and a sanitized message, then the retry opens the ticket", () => {
    expect(report.sinkFailures).toBe(1);
    const failed = eventsNamed(envelopes, "TicketSinkFailed");
    expect(failed).toHaveLength(1);
    expect(props(failed[0])).toMatchObject({ sink: "flaky-desk", errorCode: "http-503" });
    expect(props(failed[0]).message).toContain("[REDACTED:");
    expect(eventsNamed(envelopes, "TicketOpened").filter((e) => props(e).sink === "flaky-desk").length).toBeGreaterThan(0);
    const outcomes = metricsNamed(envelopes, "TicketSinkOutcomes");
    expect(outcomes.some((p) => p.properties.outcome === "failed" && p.properties.sink === "flaky-desk")).toBe(true);
  });

  test("system errors arrive as exceptions, sanitized", () => {
    const ex = envelopes.filter((e) => e.data.baseType === "ExceptionData");
    expect(ex).toHaveLength(1);
    const text = JSON.stringify(ex[0]);
    expect(text).toContain("ledger table missing");
    expect(text).not.toContain("c2VjcmV0c2VjcmV0");
  });
});

describe("one operation from poll to ticket", () => {
  test("each escalation carries the poll's traceparent through Service Bus (Diagnostic-Id and CloudEvent)", () => {
    const escalations = report.published.filter((p) => p.kind === "escalation");
    expect(escalations.length).toBeGreaterThan(5);
    for (const p of escalations) expect(parseTraceparent(p.traceparent)).toBeDefined();
    for (const d of report.delivered) {
      const sent = report.published.find((p) => p.messageId === d.messageId);
      expect(d.diagnosticId).toBe(sent?.traceparent);
      expect(d.cloudEventTraceparent).toBe(sent?.traceparent);
    }
    expect(report.delivered.length).toBe(report.published.length);
  });

  test("the poll's RunEscalated and the handler's TicketOpened share ai.operation.id", () => {
    const escalated = eventsNamed(envelopes, "RunEscalated");
    const opened = eventsNamed(envelopes, "TicketOpened");
    expect(opened.length).toBeGreaterThan(0);
    for (const e of escalated) {
      const tp = parseTraceparent(report.published.find((p) => p.messageId === props(e).messageId)?.traceparent);
      expect(e.tags["ai.operation.id"]).toBe(tp?.traceId);
      expect(e.tags["ai.operation.parentId"]).toBe(tp?.spanId);
    }
    // Each opened ticket's operation is the operation of that run's first escalation.
    for (const t of opened) {
      const runId = props(t).ticketKey;
      const first = escalated.find((e) => props(e).runId === runId && props(e).reason === props(t).reason);
      expect([runId, t.tags["ai.operation.id"]]).toEqual([runId, first?.tags["ai.operation.id"]]);
    }
    // Different runs, different operations.
    expect(new Set(escalated.map((e) => e.tags["ai.operation.id"])).size).toBe(new Set(escalated.map((e) => props(e).messageId)).size);
  });
});

describe("user data never reaches telemetry unsanitized", () => {
  const forbidden = (name: string): string[] => (JSON.parse(fs.readFileSync(path.join(sharedDir(), "contracts", "scenarios", `${name}.expect.json`), "utf8")) as { forbidden: string[] }).forbidden;
  const strings = [...forbidden("terminal-outcomes"), ...forbidden("flaky-foundry"), "jane.doe@contoso.com", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0Cg=="];

  test("the scenarios did feed user text to the telemetry path (sanitized details arrived)", () => {
    // flaky-foundry's failed run quotes a Service Bus connection string and a phone number in its error.
    const failed = eventsNamed(envelopes, "RunTransition").find((e) => props(e).runId === "run_3DLnXcbqq5l3UPjrlEu0MJlN" && props(e).to === "failed");
    expect(failed && props(failed)).toMatchObject({ errorCode: "tool_error", errorMessage: expect.stringContaining("[REDACTED:") });
    expect(eventsNamed(envelopes, "MonitorDegraded").length).toBeGreaterThan(0);
    expect(metricsNamed(envelopes, "PollErrors").map((p) => p.properties.kind)).toEqual(expect.arrayContaining(["foundry-5xx"]));
  });

  test("no forbidden string from the scenarios' expectations appears in any request body or envelope", () => {
    expect(strings.length).toBeGreaterThan(5);
    const bodies = server.requests.map((r) => r.body).join("\n");
    const decoded = JSON.stringify(envelopes);
    for (const s of strings) {
      expect([s, bodies.includes(s)]).toEqual([s, false]);
      expect([s, decoded.includes(s)]).toEqual([s, false]);
    }
    // The child saw no SDK errors worth a look either (they would show here).
    expect(childLog).not.toMatch(/Error:|Unhandled/);
  });
});
