// How a Foundry answer (or the lack of one) becomes a PollOutcome. Both adapters use this, so a
// 429 from the classic API and one from the v2 API are judged the same way.

import type { Observation, PollOutcome, RunRef } from "../model/run.js";
import { MalformedBodyError } from "./wire.js";

export type NonObservation = Exclude<PollOutcome, { kind: "observed" }>;

/** Used when a 429 says nothing about when to come back. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** Header lookup that works for Fetch `Headers`, Azure `HttpHeaders` and plain records. */
export type HeaderSource = { get(name: string): string | null | undefined } | Record<string, string | undefined>;

function header(headers: HeaderSource | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return (headers as { get(n: string): string | null | undefined }).get(name) ?? undefined;
  const record = headers as Record<string, string | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : record[key];
}

/** Milliseconds to wait after a 429: `retry-after-ms`/`x-ms-retry-after-ms`, else `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(headers: HeaderSource | undefined, now: number = Date.now()): number {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const v = Number(header(headers, name));
    if (header(headers, name) !== undefined && Number.isFinite(v) && v >= 0) return Math.round(v);
  }
  const retryAfter = header(headers, "retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return DEFAULT_RETRY_AFTER_MS;
}

/**
 * Foundry answered with an HTTP status other than 200. Expected trouble becomes an outcome; other
 * 4xx (bad request, no permission) are our bug or our configuration, thrown as FoundryRequestError.
 */
export function outcomeForStatus(status: number, headers: HeaderSource | undefined, what: string): NonObservation {
  if (status === 404) return { kind: "not-found" };
  if (status === 429) return { kind: "throttled", retryAfterMs: retryAfterMs(headers) };
  if (status === 408) return { kind: "transient", cause: "timeout", detail: `${what}: HTTP 408` };
  if (status >= 500) return { kind: "transient", cause: "http-5xx", detail: `${what}: HTTP ${status}` };
  if (status >= 200 && status < 300) return { kind: "transient", cause: "malformed", detail: `${what}: HTTP ${status} without a readable body` };
  throw new FoundryRequestError(status, `${what}: Foundry answered HTTP ${status}${status === 401 || status === 403 ? " (check the monitor identity's role on the project)" : ""}`);
}

/** A 200 body we could not read. */
export const malformedOutcome = (what: string, e: MalformedBodyError | string): NonObservation => ({
  kind: "transient",
  cause: "malformed",
  detail: `${what}: ${typeof e === "string" ? e : e.message}`,
});

/**
 * No HTTP answer reached us: our timeout or the caller's abort fired (`aborted`), or the
 * connection failed. Only error names/codes go into the detail, never a body.
 */
export function outcomeForFailure(e: unknown, aborted: boolean, what: string): NonObservation {
  if (e instanceof MalformedBodyError) return malformedOutcome(what, e);
  const err = e as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | undefined;
  const name = typeof err?.name === "string" ? err.name : "Error";
  const code = typeof err?.code === "string" ? err.code : undefined;
  if (aborted || name === "AbortError" || name === "APIUserAbortError" || name === "APIConnectionTimeoutError" || code === "ETIMEDOUT") {
    return { kind: "transient", cause: "timeout", detail: `${what}: no answer in time` };
  }
  // By name: a SyntaxError from fetch's body parser may come from another realm (jest vm, undici).
  if (code === "PARSE_ERROR" || name === "SyntaxError") return malformedOutcome(what, "the body is not JSON");
  const cause = err?.cause as { code?: unknown } | undefined;
  const causeCode = typeof cause?.code === "string" ? cause.code : undefined;
  return { kind: "transient", cause: "network", detail: `${what}: ${[name, code, causeCode].filter(Boolean).join(" ")}` };
}

/** Foundry refused a request for a reason that retrying will not fix (400, 401, 403, …). */
export class FoundryRequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "FoundryRequestError";
  }
}

/** Thrown by the evidence reads (listSteps, finalMessage) when Foundry gave no usable answer. */
export class FoundryReadError extends Error {
  constructor(readonly outcome: NonObservation) {
    super(outcome.kind === "transient" ? outcome.detail : outcome.kind === "throttled" ? `throttled, retry after ${outcome.retryAfterMs} ms` : "not found");
    this.name = "FoundryReadError";
  }
}

/** Evidence reads throw one error type for every unreadable answer. */
export function readEvidence<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof MalformedBodyError) throw new FoundryReadError(malformedOutcome(what, e));
    throw e;
  }
}

/** Normalizes, keeping the caller's ref (the identity the monitor tracks); a body about another run is malformed. */
export function observe(what: string, normalize: () => Observation, ref: RunRef): PollOutcome {
  try {
    const observation = normalize();
    if (observation.ref.runId !== ref.runId) throw new MalformedBodyError(`the body is about another run`);
    observation.ref = { ...ref, threadId: ref.threadId || observation.ref.threadId };
    return { kind: "observed", observation };
  } catch (e) {
    if (e instanceof MalformedBodyError) return malformedOutcome(what, e);
    throw e;
  }
}
