// Each sink against a local server that checks requests the way the real API documents them.
// The assertions are on what the server received.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { draftTicket } from "../../shared/tickets/draft.js";
import { buildEvidence } from "../../shared/tickets/evidence.js";
import { exampleEvidenceInput } from "../../shared/tickets/example.js";
import { type SinkConfigInput, SinkConfig, createSink, fileTicketId, type TicketDraft } from "../../shared/tickets/sinks/index.js";
import { type FakeServer, adfProblems, adfText, startFakeAzureDevOps, startFakeJira, startFakePagerDuty, startFakeServiceNow, startFakeWebhook } from "../support/fake-ticket-servers.js";

const RUN = "run_IcGHs5uLnkuryPW7UTB9EUP8";
const THREAD = "thread_PbA2PKEmQSFrYIjd4dYa9cTB";
const AGENT = "asst_1ldWQqiEfDpLQX2tgMSjgRdd";

const SECRETS: Record<string, string> = {
  SNOW_PASSWORD: "sn-pass-Q8v!x2Lr",
  SNOW_TOKEN: "sn-oauth-token-7f2c9a1b",
  JIRA_API_TOKEN: "ATATT3xFfGF0jira-token-value-123",
  ADO_PAT: "ado-pat-4n7q2w9e8r7t6y5u",
  PAGERDUTY_ROUTING_KEY: "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32",
  WEBHOOK_SECRET: "whsec-shared-secret-value",
};
const secrets = (name: string) => SECRETS[name];
const sink = (c: SinkConfigInput, opts?: Parameters<typeof createSink>[2]) => createSink(SinkConfig.parse(c), secrets, opts);

function draft(overrides: Partial<Parameters<typeof buildEvidence>[0]> = {}): TicketDraft {
  return draftTicket(buildEvidence(exampleEvidenceInput(overrides)), { reason: "failed", severity: "high", episode: 1 });
}

/** An error message written to break out of each target's markup. */
const HOSTILE = "Tool failed <script>alert(1)</script> *bold* [link](https://evil.example) {code}x{code} [code]<img src=x onerror=alert(2)>[/code]";
function hostileDraft(): TicketDraft {
  const input = exampleEvidenceInput();
  return draftTicket(buildEvidence({ ...input, head: { ...input.head, lastError: { code: "tool_error", message: HOSTILE } } }), { reason: "failed", severity: "high", episode: 1 });
}

const last = (f: FakeServer) => f.received[f.received.length - 1];

describe("ServiceNow sink", () => {
  let sn: Awaited<ReturnType<typeof startFakeServiceNow>>;
  beforeAll(async () => {
    sn = await startFakeServiceNow({ basic: { user: "svc-runmon", password: SECRETS.SNOW_PASSWORD }, bearer: SECRETS.SNOW_TOKEN });
  });
  afterAll(() => sn.close());

  it("opens an incident through the Table API and adds work notes", async () => {
    const s = sink({ name: "desk", kind: "servicenow", instanceUrl: sn.url, auth: { type: "basic", user: "svc-runmon", passwordSetting: "SNOW_PASSWORD" }, assignmentGroup: "AI Platform" });
    const d = draft();
    const opened = await s.open(d);
    const post = last(sn);
    expect(post.method).toBe("POST");
    expect(post.path).toBe("/api/now/table/incident");
    expect(post.headers.authorization).toBe("Basic " + Buffer.from(`svc-runmon:${SECRETS.SNOW_PASSWORD}`).toString("base64"));
    expect(post.json).toMatchObject({ short_description: d.title, urgency: "1", impact: "2", correlation_id: RUN, assignment_group: "AI Platform" });
    const description = (post.json as { description: string }).description;
    for (const id of [RUN, THREAD, AGENT, "failed", "server_error"]) expect(description).toContain(id);
    expect(opened.externalId).toMatch(/^[0-9a-f]{32}$/);
    expect(opened.url).toBe(`${sn.url}/nav_to.do?uri=incident.do%3Fsys_id%3D${opened.externalId}`);

    await s.update(opened.externalId, draftTicket(d.bundle, { reason: "stalled-in-progress", severity: "critical", episode: 2 }), "Escalated again: stalled-in-progress");
    const patch = last(sn);
    expect(patch.method).toBe("PATCH");
    expect(patch.path).toBe(`/api/now/table/incident/${opened.externalId}`);
    expect((patch.json as { work_notes: string }).work_notes).toContain("Escalated again: stalled-in-progress");
    expect(sn.incidents.get(opened.externalId)?.work_notes_history).toHaveLength(1);
    expect(sn.problems()).toEqual([]);
  });

  it("authenticates with a bearer token when configured", async () => {
    const s = sink({ name: "desk", kind: "servicenow", instanceUrl: sn.url, auth: { type: "bearer", tokenSetting: "SNOW_TOKEN" } });
    await s.open(draft());
    expect(last(sn).headers.authorization).toBe(`Bearer ${SECRETS.SNOW_TOKEN}`);
    expect(sn.problems()).toEqual([]);
  });

  it("entity-encodes markup and neutralizes [code] in the description", async () => {
    const s = sink({ name: "desk", kind: "servicenow", instanceUrl: sn.url, auth: { type: "bearer", tokenSetting: "SNOW_TOKEN" } });
    await s.open(hostileDraft());
    const description = (last(sn).json as { description: string }).description;
    expect(description).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(description).not.toMatch(/<script|<img|\[\/?code\]/i);
  });
});

describe("Jira Cloud sink", () => {
  let jira: Awaited<ReturnType<typeof startFakeJira>>;
  beforeAll(async () => {
    jira = await startFakeJira({ email: "runmon@contoso.com", token: SECRETS.JIRA_API_TOKEN }, "OPS");
  });
  afterAll(() => jira.close());
  const config: SinkConfigInput = { name: "jira", kind: "jira", baseUrl: "", email: "runmon@contoso.com", tokenSetting: "JIRA_API_TOKEN", projectKey: "OPS", labels: ["ai platform"] };

  it("creates an issue with an ADF description and comments on it", async () => {
    const s = sink({ ...config, baseUrl: jira.url });
    const d = draft();
    const opened = await s.open(d);
    expect(opened).toEqual({ externalId: "OPS-1", url: `${jira.url}/browse/OPS-1` });
    const post = jira.received[0];
    expect(post.method).toBe("POST");
    expect(post.path).toBe("/rest/api/3/issue");
    expect(post.headers.authorization).toBe("Basic " + Buffer.from(`runmon@contoso.com:${SECRETS.JIRA_API_TOKEN}`).toString("base64"));
    const fields = (post.json as { fields: Record<string, unknown> }).fields;
    expect(fields).toMatchObject({ project: { key: "OPS" }, issuetype: { name: "Bug" }, summary: d.title, labels: ["ai-platform", "foundry-run-monitor", "failed", "severity-high"] });
    expect(fields.description).toMatchObject({ type: "doc", version: 1 });
    expect(adfProblems(fields.description)).toEqual([]);
    for (const id of [RUN, THREAD, AGENT, "server_error"]) expect(adfText(fields.description)).toContain(id);

    await s.update("OPS-1", d, "Escalated again: max-runtime");
    const comment = last(jira);
    expect(comment.path).toBe("/rest/api/3/issue/OPS-1/comment");
    expect(adfText((comment.json as { body: unknown }).body)).toContain("Escalated again: max-runtime");
    expect(jira.issues.get("OPS-1")?.comments).toHaveLength(1);
    expect(jira.problems()).toEqual([]);
  });

  it("puts hostile text in plain ADF text nodes (no marks, no links)", async () => {
    const s = sink({ ...config, baseUrl: jira.url });
    await s.open(hostileDraft());
    const description = (last(jira).json as { fields: { description: unknown } }).fields.description;
    expect(adfProblems(description)).toEqual([]);
    const raw = JSON.stringify(description);
    expect(raw).not.toContain("evil.example\"}"); // never a link href
    expect(adfText(description)).toContain(HOSTILE);
    expect(jira.problems()).toEqual([]);
  });
});

describe("Azure DevOps sink", () => {
  let ado: Awaited<ReturnType<typeof startFakeAzureDevOps>>;
  beforeAll(async () => {
    ado = await startFakeAzureDevOps("contoso", "Payments Platform", { pat: SECRETS.ADO_PAT, bearer: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.mi-token" });
  });
  afterAll(() => ado.close());

  it("creates a Bug with a JSON Patch document and comments on it (PAT)", async () => {
    const s = sink({ name: "boards", kind: "azure-devops", organizationUrl: `${ado.url}/contoso`, project: "Payments Platform", areaPath: "Payments Platform\\AI", auth: { type: "pat", patSetting: "ADO_PAT" } });
    const d = draft();
    const opened = await s.open(d);
    expect(opened).toEqual({ externalId: "101", url: `${ado.url}/contoso/Payments Platform/_workitems/edit/101` });
    const post = ado.received[0];
    expect(post.method).toBe("POST");
    expect(post.path).toBe("/contoso/Payments Platform/_apis/wit/workitems/$Bug");
    expect(post.query["api-version"]).toBe("7.1");
    expect(post.headers["content-type"]).toBe("application/json-patch+json");
    expect(post.headers.authorization).toBe("Basic " + Buffer.from(`:${SECRETS.ADO_PAT}`).toString("base64"));
    const ops = post.json as { op: string; path: string; value: string }[];
    const field = (name: string) => ops.find((o) => o.path === `/fields/${name}`)?.value;
    expect(ops.every((o) => o.op === "add")).toBe(true);
    expect(field("System.Title")).toBe(d.title);
    expect(field("Microsoft.VSTS.Common.Severity")).toBe("2 - High");
    expect(field("System.Tags")).toBe(`foundry-run-monitor; failed; ${RUN}`);
    expect(field("System.AreaPath")).toBe("Payments Platform\\AI");
    for (const id of [RUN, THREAD, AGENT]) expect(field("System.Description")).toContain(id);
    expect(field("Microsoft.VSTS.TCM.ReproSteps")).toBe(field("System.Description"));

    await s.update("101", d, "Escalated again: vanished");
    const comment = last(ado);
    expect(comment.path).toBe("/contoso/Payments Platform/_apis/wit/workItems/101/comments");
    expect(comment.query["api-version"]).toBe("7.1-preview.4");
    expect((comment.json as { text: string }).text).toContain("Escalated again: vanished");
    expect(ado.problems()).toEqual([]);
  });

  it("uses a managed-identity bearer token for the Azure DevOps resource", async () => {
    const scopes: string[] = [];
    const s = sink(
      { name: "boards", kind: "azure-devops", organizationUrl: `${ado.url}/contoso`, project: "Payments Platform", workItemType: "Task", auth: { type: "managed-identity" } },
      { getToken: (scope) => (scopes.push(scope), Promise.resolve("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.mi-token")) },
    );
    await s.open(draft());
    expect(last(ado).headers.authorization).toBe("Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.mi-token");
    expect(last(ado).path).toBe("/contoso/Payments Platform/_apis/wit/workitems/$Task");
    expect(scopes).toEqual(["499b84ac-1321-427f-aa17-267ca6975798/.default"]);
    expect(ado.problems()).toEqual([]);
  });

  it("HTML-escapes hostile text in System.Description", async () => {
    const s = sink({ name: "boards", kind: "azure-devops", organizationUrl: `${ado.url}/contoso`, project: "Payments Platform", auth: { type: "pat", patSetting: "ADO_PAT" } });
    await s.open(hostileDraft());
    const description = (last(ado).json as { path: string; value: string }[]).find((o) => o.path === "/fields/System.Description")!.value;
    expect(description).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(description).not.toMatch(/<script|<img/);
  });
});

describe("PagerDuty sink", () => {
  let pd: Awaited<ReturnType<typeof startFakePagerDuty>>;
  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(() => pd.close());

  it("triggers with dedup_key run:reason, re-triggers on update and resolves on recovery", async () => {
    const s = sink({ name: "oncall", kind: "pagerduty", baseUrl: pd.url, routingKeySetting: "PAGERDUTY_ROUTING_KEY" });
    const d = draft();
    const opened = await s.open(d);
    expect(opened.externalId).toBe(`${RUN}:failed`);
    const trigger = pd.received[0];
    expect(trigger.method).toBe("POST");
    expect(trigger.path).toBe("/v2/enqueue");
    expect(trigger.headers.authorization).toBeUndefined();
    expect(trigger.json).toMatchObject({
      routing_key: SECRETS.PAGERDUTY_ROUTING_KEY,
      event_action: "trigger",
      dedup_key: `${RUN}:failed`,
      payload: { summary: d.title, source: "foundry-run-monitor", severity: "error", component: AGENT, group: "prod", class: "failed", custom_details: { run_id: RUN, thread_id: THREAD, agent_id: AGENT, error_code: "server_error" } },
      links: [{ href: d.bundle.links.dashboard, text: "Run in the monitor dashboard" }, { href: d.bundle.links.api, text: "Run evidence (API)" }],
    });
    await s.update(opened.externalId, d, "again");
    await s.resolve!(opened.externalId, d);
    expect(pd.received.map((r) => (r.json as { event_action: string }).event_action)).toEqual(["trigger", "trigger", "resolve"]);
    expect(pd.alerts.get(`${RUN}:failed`)?.status).toBe("resolved");
    expect(pd.alerts.size).toBe(1);
    expect(pd.problems()).toEqual([]);
  });
});

describe("generic webhook sink", () => {
  let wh: FakeServer;
  beforeAll(async () => {
    wh = await startFakeWebhook(SECRETS.WEBHOOK_SECRET);
  });
  afterAll(() => wh.close());

  it("POSTs signed JSON the receiver verifies with the shared secret", async () => {
    const s = sink({ name: "hook", kind: "webhook", url: `${wh.url}/hooks/runmon`, secretSetting: "WEBHOOK_SECRET" });
    const d = draft();
    const opened = await s.open(d);
    expect(opened.externalId).toBe("WH-1");
    await s.update("WH-1", d, "again");
    await s.resolve!("WH-1", d);
    expect(wh.problems()).toEqual([]);
    expect(wh.received.map((r) => [r.path, (r.json as { action: string }).action])).toEqual([
      ["/hooks/runmon", "open"],
      ["/hooks/runmon", "update"],
      ["/hooks/runmon", "resolve"],
    ]);
    const first = wh.received[0];
    expect(first.headers["x-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(first.headers["x-signature-timestamp"]).toMatch(/^\d{10}$/);
    expect(first.json).toMatchObject({ action: "open", key: RUN, title: d.title, severity: "high", reason: "failed", body: d.body, bundle: { run: { runId: RUN } } });
    expect(first.rawBody).not.toContain(SECRETS.WEBHOOK_SECRET);
  });

  it("a receiver with another secret rejects the signature (401, permanent)", async () => {
    const s = createSink(SinkConfig.parse({ name: "hook", kind: "webhook", url: wh.url, secretSetting: "OTHER" }), () => "not-the-shared-secret");
    await expect(s.open(draft())).rejects.toMatchObject({ name: "SinkError", permanent: true, status: 401 });
  });

  it("sends the Markdown body with hostile text escaped", async () => {
    const s = sink({ name: "hook", kind: "webhook", url: wh.url, secretSetting: "WEBHOOK_SECRET" });
    await s.open(hostileDraft());
    const body = (last(wh).json as { body: string }).body;
    expect(body).not.toMatch(/<script|<img/);
    expect(body).toContain("\\*bold\\* \\[link\\](https://evil.example) \\{code\\}");
  });
});

describe("file sink", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "runmon-tickets-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("appends one JSON line per action with an ID derived from the key", async () => {
    const file = path.join(dir, "nested", "tickets.jsonl");
    const s = sink({ name: "local", kind: "file", path: file }, { now: () => Date.UTC(2025, 5, 5, 22, 0, 0) });
    const d = draft();
    const opened = await s.open(d);
    expect(opened.externalId).toBe(fileTicketId(RUN));
    expect((await s.open(d)).externalId).toBe(opened.externalId);
    await s.update(opened.externalId, d, "again");
    await s.resolve!(opened.externalId, d);
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.action)).toEqual(["open", "open", "update", "resolve"]);
    expect(lines[0]).toEqual({ at: "2025-06-05T22:00:00.000Z", action: "open", key: RUN, externalId: opened.externalId, title: d.title, body: d.body });
    expect(lines[2].note).toBe("again");
  });
});
