import { sanitize } from "../sanitize/index.js";
import type { ApiResponse } from "./types.js";

export type ApiErrorCode =
  | "bad-request"
  | "unauthenticated"
  | "forbidden"
  | "not-found"
  | "method-not-allowed"
  | "misconfigured"
  | "internal";

/** The one error body every API answer uses: `{ error: { code, message, problems? } }`. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; problems?: string[] };
}

// Compliance data: never let a proxy or a browser cache keep a copy.
export const NO_STORE = { "Cache-Control": "no-store" } as const;

/**
 * Messages can echo what a caller typed (an ID, a filter value) or, for internal errors, text that
 * came from stored run content. Run content was sanitized at write time; this is the second line.
 */
export function errorResponse(status: number, code: ApiErrorCode, message: string, problems?: string[]): ApiResponse {
  const error: ApiErrorBody["error"] = { code, message: sanitize(message) };
  if (problems && problems.length > 0) error.problems = problems.map((p) => sanitize(p));
  return { status, headers: { ...NO_STORE, "Content-Type": "application/json; charset=utf-8" }, json: { error } satisfies ApiErrorBody };
}

export const badRequest = (problems: string[]): ApiResponse =>
  errorResponse(400, "bad-request", problems.length === 1 ? problems[0] : `${problems.length} problems with the request`, problems);

export function jsonResponse(body: unknown, status = 200): ApiResponse {
  return { status, headers: { ...NO_STORE, "Content-Type": "application/json; charset=utf-8" }, json: body };
}
