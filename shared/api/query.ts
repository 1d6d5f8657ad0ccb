import { ESCALATION_REASONS, RUN_STATUSES, type EscalationReason, type Instant, type RunStatus } from "../model/run.js";
import type { RunQuery } from "../store/types.js";

// Query-string parsing for the API: every problem is named by parameter and reason, all at once,
// so a caller fixes a request in one go.

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** `code` is how Azure Functions accepts a function key in the query string; every route allows it. */
const ALWAYS_ALLOWED = new Set(["code"]);

export const SEARCH_LIMIT_MIN = 1;
export const SEARCH_LIMIT_MAX = 200;
export const SEARCH_LIMIT_DEFAULT = 50;
/** Continuation tokens are short opaque strings; a long one is garbage or an attack. */
const MAX_TOKEN_LENGTH = 2048;

const SEARCH_PARAMS = ["runId", "threadId", "session", "agentId", "owner", "project", "status", "reason", "api", "from", "to", "limit", "continuationToken"] as const;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** ISO-8601 date (`2026-03-02`, midnight UTC) or date-time with a zone (`…T09:00:00Z`, `…+01:00`). */
export function parseIsoInstant(text: string): Instant | undefined {
  if (!ISO.test(text)) return undefined;
  // Date.parse rolls 2026-02-30 over into March; a compliance query must not silently shift.
  const [y, m, d] = text.slice(0, 10).split("-").map(Number);
  if (m < 1 || m > 12 || d < 1 || d > new Date(Date.UTC(y, m, 0)).getUTCDate()) return undefined;
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Single-valued params only; unknown ones are errors so a typo (`thread=`) never silently widens a search. */
function readParams(params: URLSearchParams, allowed: readonly string[], problems: string[]): Map<string, string> {
  const values = new Map<string, string>();
  const known = new Set(allowed);
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (ALWAYS_ALLOWED.has(name)) continue;
    if (!known.has(name)) {
      problems.push(`${name}: unknown parameter; expected one of ${allowed.join(", ")}`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`${name}: given more than once`);
      continue;
    }
    seen.add(name);
    // An empty value (a blank form field) means "no filter".
    if (value !== "") values.set(name, value);
  }
  return values;
}

function readRange(values: Map<string, string>, problems: string[]): { from?: Instant; to?: Instant } {
  const range: { from?: Instant; to?: Instant } = {};
  for (const name of ["from", "to"] as const) {
    const raw = values.get(name);
    if (raw === undefined) continue;
    const at = parseIsoInstant(raw);
    if (at === undefined) problems.push(`${name}: expected an ISO-8601 time such as 2026-03-02T09:00:00Z, got ${JSON.stringify(raw)}`);
    else range[name] = at;
  }
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) problems.push("from: must not be after to");
  return range;
}

export function parseSearchQuery(params: URLSearchParams): Parsed<RunQuery> {
  const problems: string[] = [];
  const v = readParams(params, SEARCH_PARAMS, problems);
  const q: RunQuery = {};
  for (const name of ["runId", "threadId", "session", "agentId", "owner", "project"] as const) {
    const value = v.get(name);
    if (value === undefined) continue;
    if (value.length > 256) problems.push(`${name}: longer than 256 characters`);
    else q[name] = value;
  }
  const status = v.get("status");
  if (status !== undefined) {
    if ((RUN_STATUSES as readonly string[]).includes(status)) q.status = status as RunStatus;
    else problems.push(`status: expected one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(status)}`);
  }
  const reason = v.get("reason");
  if (reason !== undefined) {
    if ((ESCALATION_REASONS as readonly string[]).includes(reason)) q.reason = reason as EscalationReason;
    else problems.push(`reason: expected one of ${ESCALATION_REASONS.join(", ")}, got ${JSON.stringify(reason)}`);
  }
  const api = v.get("api");
  if (api !== undefined) {
    if (api === "classic" || api === "responses") q.api = api;
    else problems.push(`api: expected classic or responses, got ${JSON.stringify(api)}`);
  }
  Object.assign(q, readRange(v, problems));
  const limit = v.get("limit");
  if (limit === undefined) q.limit = SEARCH_LIMIT_DEFAULT;
  else if (!/^\d+$/.test(limit) || Number(limit) < SEARCH_LIMIT_MIN || Number(limit) > SEARCH_LIMIT_MAX) {
    problems.push(`limit: expected an integer from ${SEARCH_LIMIT_MIN} to ${SEARCH_LIMIT_MAX}, got ${JSON.stringify(limit)}`);
  } else q.limit = Number(limit);
  const token = v.get("continuationToken");
  if (token !== undefined) {
    if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_\-=.~+/%]+$/.test(token)) problems.push("continuationToken: not a token this search returned");
    else q.continuationToken = token;
  }
  return problems.length ? { ok: false, problems } : { ok: true, value: q };
}

export type EvidenceFormat = "json" | "md";

export function parseEvidenceQuery(params: URLSearchParams): Parsed<{ format: EvidenceFormat }> {
  const problems: string[] = [];
  const v = readParams(params, ["format"], problems);
  const format = v.get("format") ?? "json";
  if (format !== "json" && format !== "md") problems.push(`format: expected json or md, got ${JSON.stringify(format)}`);
  return problems.length ? { ok: false, problems } : { ok: true, value: { format: format as EvidenceFormat } };
}

/** Routes that take no parameters still reject unknown ones. */
export function parseNoQuery(params: URLSearchParams): Parsed<Record<string, never>> {
  const problems: string[] = [];
  readParams(params, [], problems);
  return problems.length ? { ok: false, problems } : { ok: true, value: {} };
}

export const BUCKETS = { "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "6h": 21_600_000, "1d": 86_400_000 } as const;
export type BucketName = keyof typeof BUCKETS;
/** A chart wider than this is unreadable, and the answer must stay small. */
export const MAX_BUCKETS = 400;
const DAY = 86_400_000;

export interface StatsQuery {
  from: Instant;
  to: Instant;
  bucket: BucketName;
  project?: string;
}

/** The smallest bucket that draws the range in at most 60 bars. */
export function defaultBucket(rangeMs: number): BucketName {
  for (const name of Object.keys(BUCKETS) as BucketName[]) if (rangeMs / BUCKETS[name] <= 60) return name;
  return "1d";
}

export function parseStatsQuery(params: URLSearchParams, now: Instant): Parsed<StatsQuery> {
  const problems: string[] = [];
  const v = readParams(params, ["from", "to", "bucket", "project"], problems);
  const range = readRange(v, problems);
  const to = range.to ?? now;
  const from = range.from ?? to - DAY;
  if (range.from === undefined && range.to !== undefined && from > to) problems.push("from: must not be after to");
  const raw = v.get("bucket");
  let bucket: BucketName = defaultBucket(to - from);
  if (raw !== undefined) {
    if (raw in BUCKETS) bucket = raw as BucketName;
    else problems.push(`bucket: expected one of ${Object.keys(BUCKETS).join(", ")}, got ${JSON.stringify(raw)}`);
  }
  if (problems.length === 0 && Math.ceil((to - from + 1) / BUCKETS[bucket]) > MAX_BUCKETS) {
    problems.push(`bucket: ${bucket} makes more than ${MAX_BUCKETS} buckets for this range; choose a larger bucket or a shorter range`);
  }
  const project = v.get("project");
  return problems.length ? { ok: false, problems } : { ok: true, value: { from, to, bucket, ...(project ? { project } : {}) } };
}
