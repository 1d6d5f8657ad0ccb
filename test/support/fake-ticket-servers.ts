// Local stand-ins for the ticket targets. Each one checks a request the way the real API documents
// it (method, path, query, auth, content type, payload shape), answers like the real API — including
// its error bodies — and records what it received so tests can assert on it.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  /** Decoded path without the query. */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  json: unknown;
  /** What the fake found wrong with the request (empty when it matched the API's documentation). */
  problems: string[];
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A canned reply, a reply computed from the request (e.g. echoing it back), or no reply at all. */
export type Fault = Reply | ((req: Received) => Reply) | "hang";

export interface FakeServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  received: Received[];
  /** Every problem found in every request so far. */
  problems(): string[];
  /** The next `times` requests get this answer instead (or never get one: "hang"). */
  failNext(fault: Fault, times?: number): void;
  close(): Promise<void>;
}

type Handler = (req: Received) => Reply;

async function startFake(handle: Handler): Promise<FakeServer> {
  const received: Received[] = [];
  const faults: Fault[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://fake");
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let json: unknown = undefined;
      try {
        json = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        json = undefined;
      }
      const rec: Received = {
        method: req.method ?? "",
        path: decodeURIComponent(u.pathname),
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        rawBody,
        json,
        problems: [],
      };
      received.push(rec);
      const fault = faults.shift();
      if (fault === "hang") return; // keep the socket open; close() destroys it
      const reply = typeof fault === "function" ? fault(rec) : (fault ?? handle(rec));
      const body = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { "Content-Type": "application/json; charset=utf-8", ...reply.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    problems: () => received.flatMap((r) => r.problems.map((p) => `${r.method} ${r.path}: ${p}`)),
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------- shared checks ----------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function expectHeader(r: Received, name: string, test: (v: string) => boolean, want: string): boolean {
  const v = r.headers[name.toLowerCase()];
  const value = Array.isArray(v) ? v.join(",") : v;
  if (value === undefined || !test(value)) {
    r.problems.push(`header ${name}: expected ${want}`);
    return false;
  }
  return true;
}

const mediaType = (want: string) => (v: string) => v.split(";")[0].trim().toLowerCase() === want;
const basic = (user: string, secret: string) => "Basic " + Buffer.from(`${user}:${secret}`).toString("base64");

// ---------- Atlassian Document Format ----------

const ADF_BLOCKS = new Set(["paragraph", "heading", "bulletList", "orderedList", "listItem", "codeBlock", "table", "tableRow", "tableHeader", "tableCell", "blockquote", "rule", "panel"]);
const ADF_MARKS = new Set(["strong", "em", "code", "link", "strike", "underline", "subsup", "textColor"]);

/** Structural checks from the ADF JSON schema (the parts Jira rejects with 400 when wrong). */
export function adfProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(doc) || doc.type !== "doc" || doc.version !== 1 || !Array.isArray(doc.content)) return ['expected an ADF document {type:"doc", version:1, content:[…]}'];
  const walk = (node: unknown, where: string): void => {
    if (!isObject(node) || typeof node.type !== "string") return void problems.push(`${where}: not a node`);
    if (node.type === "text") {
      if (typeof node.text !== "string" || node.text.length === 0) problems.push(`${where}: text node needs non-empty text`);
      if (node.content !== undefined) problems.push(`${where}: text node cannot have content`);
      for (const m of (node.marks as unknown[] | undefined) ?? []) {
        if (!isObject(m) || !ADF_MARKS.has(String(m.type))) problems.push(`${where}: unknown mark ${JSON.stringify(m)}`);
        else if (m.type === "link" && !(isObject(m.attrs) && typeof m.attrs.href === "string")) problems.push(`${where}: link mark needs attrs.href`);
      }
      const marks = ((node.marks as { type: string }[] | undefined) ?? []).map((m) => m.type);
      if (marks.includes("code") && marks.some((m) => m !== "code" && m !== "link")) problems.push(`${where}: code mark combines only with link`);
      return;
    }
    if (!ADF_BLOCKS.has(node.type)) return void problems.push(`${where}: unknown node type ${node.type}`);
    if (node.type === "heading" && !(isObject(node.attrs) && typeof node.attrs.level === "number" && node.attrs.level >= 1 && node.attrs.level <= 6)) problems.push(`${where}: heading needs attrs.level 1–6`);
    if (node.type === "codeBlock") {
      for (const child of (node.content as unknown[] | undefined) ?? []) if (!isObject(child) || child.type !== "text" || child.marks) problems.push(`${where}: codeBlock holds unmarked text only`);
    }
    if (node.type === "table" && !(node.content as unknown[] | undefined)?.every((r) => isObject(r) && r.type === "tableRow")) problems.push(`${where}: table holds tableRow nodes`);
    if ((node.type === "tableCell" || node.type === "tableHeader" || node.type === "listItem") && !(node.content as unknown[] | undefined)?.length) problems.push(`${where}: ${node.type} needs block content`);
    ((node.content as unknown[] | undefined) ?? []).forEach((child, i) => walk(child, `${where}.content[${i}]`));
  };
  doc.content.forEach((n, i) => walk(n, `content[${i}]`));
  return problems;
}

/** All text of an ADF document, in order (what a Jira user would read). */
export function adfText(node: unknown): string {
  if (!isObject(node)) return "";
  if (node.type === "text") return String(node.text);
  return ((node.content as unknown[] | undefined) ?? []).map(adfText).join(node.type === "paragraph" || node.type === "heading" ? "" : "\n");
}

// ---------- ServiceNow Table API ----------

export interface ServiceNowAuth {
  basic?: { user: string; password: string };
  bearer?: string;
}

export async function startFakeServiceNow(auth: ServiceNowAuth): Promise<FakeServer & { incidents: Map<string, Record<string, unknown>> }> {
  const incidents = new Map<string, Record<string, unknown>>();
  let next = 10001;
  const fail = (status: number, message: string, detail: string): Reply => ({ status, body: { error: { message, detail }, status: "failure" } });
  const fake = await startFake((r) => {
    const authorized = (auth.basic && r.headers.authorization === basic(auth.basic.user, auth.basic.password)) || (auth.bearer && r.headers.authorization === `Bearer ${auth.bearer}`);
    if (!authorized) return fail(401, "User Not Authenticated", "Required to provide Auth information");
    expectHeader(r, "Accept", mediaType("application/json"), "application/json");
    expectHeader(r, "Content-Type", mediaType("application/json"), "application/json");
    const body = r.json;
    if (!isObject(body)) r.problems.push("body: expected a JSON object of field values");
    const b = isObject(body) ? body : {};
    const id = r.path.match(/^\/api\/now\/table\/incident\/([0-9a-f]{32})$/)?.[1];
    if (r.method === "POST" && r.path === "/api/now/table/incident") {
      if (typeof b.short_description !== "string" || !b.short_description || b.short_description.length > 160) r.problems.push("short_description: expected 1–160 characters");
      if (typeof b.description !== "string" || b.description.length > 4000) r.problems.push("description: expected a string of at most 4000 characters");
      for (const f of ["urgency", "impact"]) if (!["1", "2", "3"].includes(String(b[f]))) r.problems.push(`${f}: expected 1, 2 or 3`);
      if (typeof b.correlation_id !== "string" || !b.correlation_id) r.problems.push("correlation_id: expected the ticket key");
      if (r.problems.length) return fail(400, "Invalid request", r.problems.join("; "));
      const sysId = randomBytes(16).toString("hex");
      const number = `INC00${next++}`;
      incidents.set(sysId, { ...b, sys_id: sysId, number, work_notes_history: [] });
      return { status: 201, body: { result: { sys_id: sysId, number } }, headers: { Location: `${fake.url}/api/now/table/incident/${sysId}` } };
    }
    if (r.method === "PATCH" && id) {
      const incident = incidents.get(id);
      if (!incident) return fail(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval");
      if (typeof b.work_notes !== "string" || !b.work_notes || b.work_notes.length > 4000) r.problems.push("work_notes: expected 1–4000 characters");
      if (r.problems.length) return fail(400, "Invalid request", r.problems.join("; "));
      (incident.work_notes_history as string[]).push(b.work_notes as string);
      return { status: 200, body: { result: { sys_id: id } } };
    }
    r.problems.push("no such route");
    return fail(400, "Requested URI does not represent any resource", r.path);
  });
  return Object.assign(fake, { incidents });
}

// ---------- Jira Cloud REST v3 ----------

export async function startFakeJira(auth: { email: string; token: string }, projectKey: string): Promise<FakeServer & { issues: Map<string, { fields: Record<string, unknown>; comments: unknown[] }> }> {
  const issues = new Map<string, { fields: Record<string, unknown>; comments: unknown[] }>();
  let next = 1;
  const fail = (status: number, errorMessages: string[], errors: Record<string, string> = {}): Reply => ({ status, body: { errorMessages, errors } });
  const fake = await startFake((r) => {
    // Jira answers 401 without a body hint about which part was wrong.
    if (r.headers.authorization !== basic(auth.email, auth.token)) return fail(401, ["You are not authenticated. Authentication required to perform this operation."]);
    expectHeader(r, "Content-Type", mediaType("application/json"), "application/json");
    expectHeader(r, "Accept", mediaType("application/json"), "application/json");
    const body = isObject(r.json) ? r.json : {};
    if (r.method === "POST" && r.path === "/rest/api/3/issue") {
      const fields = isObject(body.fields) ? body.fields : {};
      const errors: Record<string, string> = {};
      if (!isObject(fields.project) || fields.project.key !== projectKey) errors.project = "valid project is required";
      if (!isObject(fields.issuetype) || (typeof fields.issuetype.name !== "string" && typeof fields.issuetype.id !== "string")) errors.issuetype = "valid issue type is required";
      if (typeof fields.summary !== "string" || !fields.summary) errors.summary = "You must specify a summary of the issue.";
      else if (fields.summary.length > 255) errors.summary = "Summary must be less than 255 characters.";
      else if (/[\r\n]/.test(fields.summary)) errors.summary = "The summary is invalid because it contains newline characters.";
      const adf = adfProblems(fields.description);
      if (adf.length) errors.description = "Operation value must be an Atlassian Document: " + adf.join("; ");
      if (fields.labels !== undefined && (!Array.isArray(fields.labels) || fields.labels.some((l) => typeof l !== "string" || /\s/.test(l)))) errors.labels = "The label must not contain spaces.";
      r.problems.push(...Object.entries(errors).map(([k, v]) => `${k}: ${v}`));
      if (r.problems.length) return fail(400, [], errors);
      const id = String(10000 + next);
      const key = `${projectKey}-${next++}`;
      issues.set(key, { fields, comments: [] });
      return { status: 201, body: { id, key, self: `${fake.url}/rest/api/3/issue/${id}` } };
    }
    const commentOn = r.path.match(/^\/rest\/api\/3\/issue\/([A-Z][A-Z0-9_]+-\d+)\/comment$/)?.[1];
    if (r.method === "POST" && commentOn) {
      const issue = issues.get(commentOn);
      if (!issue) return fail(404, ["Issue does not exist or you do not have permission to see it."]);
      const adf = adfProblems(body.body);
      r.problems.push(...adf.map((p) => `body: ${p}`));
      if (r.problems.length) return fail(400, [], { comment: "Comment body is not valid ADF" });
      issue.comments.push(body.body);
      return { status: 201, body: { id: String(issue.comments.length), self: `${fake.url}/rest/api/3/issue/${commentOn}/comment/${issue.comments.length}`, body: body.body } };
    }
    r.problems.push("no such route");
    return fail(404, ["Not found"]);
  });
  return Object.assign(fake, { issues });
}

// ---------- Azure DevOps work items ----------

export const ADO_SEVERITIES = ["1 - Critical", "2 - High", "3 - Medium", "4 - Low"];

export async function startFakeAzureDevOps(
  org: string,
  project: string,
  auth: { bearer?: string; pat?: string },
): Promise<FakeServer & { workItems: Map<number, { type: string; fields: Record<string, string>; comments: string[] }> }> {
  const workItems = new Map<number, { type: string; fields: Record<string, string>; comments: string[] }>();
  let next = 101;
  const fail = (status: number, message: string, typeKey = "InvalidArgumentValueException"): Reply => ({
    status,
    body: { $id: "1", innerException: null, message, typeName: `Microsoft.TeamFoundation.${typeKey}, Microsoft.TeamFoundation.WorkItemTracking.Server`, typeKey, errorCode: 0, eventId: 3000 },
  });
  const fake = await startFake((r) => {
    const authorized = (auth.bearer && r.headers.authorization === `Bearer ${auth.bearer}`) || (auth.pat && r.headers.authorization === basic("", auth.pat));
    // The real service answers 203 with a sign-in page to a bad PAT and 401 to a bad token; 401 is what clients should see.
    if (!authorized) return { status: 401, body: "" };
    const prefix = `/${org}/${project}/_apis/wit/`;
    if (!r.path.startsWith(prefix)) {
      r.problems.push(`expected a path under ${prefix}`);
      return fail(404, "The resource cannot be found.", "ResourceNotFoundException");
    }
    const rest = r.path.slice(prefix.length);
    const create = rest.match(/^workitems\/\$([^/]+)$/);
    if (r.method === "POST" && create) {
      if (r.query["api-version"] !== "7.1") r.problems.push("api-version: expected 7.1");
      if (!expectHeader(r, "Content-Type", mediaType("application/json-patch+json"), "application/json-patch+json")) return fail(415, "The request indicated a Content-Type of application/json for method type POST which is not supported. Valid content types for this method are: application/json-patch+json.", "VssRequestContentTypeNotSupportedException");
      const ops = r.json;
      if (!Array.isArray(ops) || ops.length === 0) r.problems.push("body: expected a JSON Patch array");
      const fields: Record<string, string> = {};
      for (const [i, op] of (Array.isArray(ops) ? ops : []).entries()) {
        if (!isObject(op) || !["add", "replace", "remove", "test", "copy", "move"].includes(String(op.op))) r.problems.push(`[${i}].op: expected a JSON Patch operation`);
        else if (typeof op.path !== "string" || !op.path.startsWith("/fields/")) r.problems.push(`[${i}].path: expected /fields/{referenceName}`);
        else if (op.op === "add" && typeof op.value !== "string") r.problems.push(`[${i}].value: expected a string`);
        else fields[op.path.slice("/fields/".length)] = String(op.value);
      }
      if (!fields["System.Title"] || fields["System.Title"].length > 255) r.problems.push("System.Title: required, at most 255 characters");
      const sev = fields["Microsoft.VSTS.Common.Severity"];
      if (sev !== undefined && !ADO_SEVERITIES.includes(sev)) r.problems.push(`Microsoft.VSTS.Common.Severity: '${sev}' is not in the list of supported values`);
      if (r.problems.length) return fail(400, `TF401320: Rule Error for field. ${r.problems.join("; ")}`, "RuleValidationException");
      const id = next++;
      workItems.set(id, { type: decodeURIComponent(create[1]), fields, comments: [] });
      const self = `${fake.url}/${org}/${project}/_apis/wit/workItems/${id}`;
      return { status: 200, body: { id, rev: 1, fields, _links: { self: { href: self }, html: { href: `${fake.url}/${org}/${project}/_workitems/edit/${id}` } }, url: self } };
    }
    const comment = rest.match(/^workItems\/(\d+)\/comments$/);
    if (r.method === "POST" && comment) {
      if (r.query["api-version"] !== "7.1-preview.4") r.problems.push("api-version: expected 7.1-preview.4");
      expectHeader(r, "Content-Type", mediaType("application/json"), "application/json");
      const item = workItems.get(Number(comment[1]));
      if (!item) return fail(404, `TF401232: Work item ${comment[1]} does not exist, or you do not have permissions to read it.`, "WorkItemUnauthorizedAccessException");
      const text = isObject(r.json) ? r.json.text : undefined;
      if (typeof text !== "string" || !text) r.problems.push("text: expected the comment HTML");
      if (r.problems.length) return fail(400, r.problems.join("; "));
      item.comments.push(text as string);
      return { status: 200, body: { workItemId: Number(comment[1]), id: item.comments.length, version: 1, text } };
    }
    r.problems.push("no such route");
    return fail(404, "The resource cannot be found.", "ResourceNotFoundException");
  });
  return Object.assign(fake, { workItems });
}

// ---------- PagerDuty Events API v2 ----------

export async function startFakePagerDuty(): Promise<FakeServer & { alerts: Map<string, { status: "triggered" | "resolved"; events: Record<string, unknown>[] }> }> {
  const alerts = new Map<string, { status: "triggered" | "resolved"; events: Record<string, unknown>[] }>();
  const fake = await startFake((r) => {
    if (r.method !== "POST" || r.path !== "/v2/enqueue") {
      r.problems.push("no such route");
      return { status: 404, body: { status: "Not Found" } };
    }
    expectHeader(r, "Content-Type", mediaType("application/json"), "application/json");
    const e = isObject(r.json) ? r.json : {};
    const errors: string[] = [];
    if (typeof e.routing_key !== "string" || e.routing_key.length !== 32) errors.push("'routing_key' must be 32 characters");
    if (!["trigger", "acknowledge", "resolve"].includes(String(e.event_action))) errors.push("'event_action' is invalid");
    if (e.dedup_key !== undefined && (typeof e.dedup_key !== "string" || e.dedup_key.length > 255)) errors.push("'dedup_key' must be at most 255 characters");
    if (e.event_action !== "trigger" && typeof e.dedup_key !== "string") errors.push("'dedup_key' is required for acknowledge and resolve");
    if (e.event_action === "trigger") {
      const p = isObject(e.payload) ? e.payload : {};
      if (typeof p.summary !== "string" || !p.summary || p.summary.length > 1024) errors.push("'payload.summary' is missing or too long");
      if (typeof p.source !== "string" || !p.source) errors.push("'payload.source' is missing");
      if (!["critical", "error", "warning", "info"].includes(String(p.severity))) errors.push("'payload.severity' must be one of critical, error, warning, info");
      if (p.custom_details !== undefined && !isObject(p.custom_details)) errors.push("'payload.custom_details' must be an object");
    }
    r.problems.push(...errors);
    if (errors.length) return { status: 400, body: { status: "invalid event", message: "Event object is invalid", errors } };
    const dedupKey = typeof e.dedup_key === "string" ? e.dedup_key : randomBytes(16).toString("hex");
    const alert = alerts.get(dedupKey) ?? { status: "triggered" as const, events: [] };
    alert.events.push(e);
    if (e.event_action === "resolve") alert.status = "resolved";
    else if (e.event_action === "trigger" && alert.status !== "triggered") alert.status = "triggered";
    alerts.set(dedupKey, alert);
    return { status: 202, body: { status: "success", message: "Event processed", dedup_key: dedupKey } };
  });
  return Object.assign(fake, { alerts });
}

// ---------- generic webhook receiver ----------

/** Verifies like a careful receiver: constant-time HMAC compare and a 5-minute freshness window. */
export async function startFakeWebhook(secret: string, now: () => number = Date.now): Promise<FakeServer> {
  let next = 1;
  return startFake((r) => {
    if (r.method !== "POST") r.problems.push("expected POST");
    expectHeader(r, "Content-Type", mediaType("application/json"), "application/json");
    const ts = String(r.headers["x-signature-timestamp"] ?? "");
    const sig = String(r.headers["x-signature"] ?? "");
    const want = "sha256=" + createHmac("sha256", secret).update(`${ts}.${r.rawBody}`, "utf8").digest("hex");
    const ok = sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
    if (!ok) r.problems.push("X-Signature does not verify with the shared secret");
    if (!/^\d+$/.test(ts) || Math.abs(now() / 1000 - Number(ts)) > 300) r.problems.push("X-Signature-Timestamp missing or older than 5 minutes");
    if (!isObject(r.json) || typeof r.json.action !== "string" || typeof r.json.key !== "string") r.problems.push("body: expected {action, key, …}");
    if (r.problems.length) return { status: ok ? 400 : 401, body: { error: r.problems.join("; ") } };
    return { status: 200, body: (r.json as { action: string }).action === "open" ? { id: `WH-${next++}` } : {} };
  });
}
