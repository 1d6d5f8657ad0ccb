// The one place sinks touch the network: global fetch with a timeout, status → typed outcome,
// and error messages that cannot leak credentials.
import { ensureError } from "../../errors.js";
import { sanitize } from "../../sanitize/index.js";
import { SinkError, isPermanentStatus } from "./types.js";

export interface SinkRequest {
  method: "POST" | "PATCH" | "PUT";
  url: string;
  headers: Record<string, string>;
  /** Already serialized: the webhook signs exactly these bytes. */
  body: string;
  timeoutMs: number;
  /** How the request is named in an error message: method + path without query, or a fixed label when the URL itself is secret. */
  label: string;
  /** Credential values to scrub from anything we put in an error message (a target may echo them back). */
  secrets: readonly string[];
}

export interface SinkResponse {
  status: number;
  text: string;
  json: unknown;
}

/** Removes credential values (and their base64 forms, as used in Basic auth) from a message. */
export function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    for (const form of [s, Buffer.from(s).toString("base64")]) out = out.split(form).join("[REDACTED:credential]");
  }
  return sanitize(out);
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function requestLabel(method: string, url: string): string {
  return `${method} ${new URL(url).pathname}`;
}

export async function send(sink: string, req: SinkRequest): Promise<SinkResponse> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs),
      // A redirect means a wrong base URL; following it would replay credentials somewhere else.
      redirect: "manual",
    });
  } catch (e) {
    // Read fields structurally: fetch's errors may come from another realm (e.g. a test VM), where `instanceof Error` is false.
    const err = (typeof e === "object" && e !== null ? e : {}) as { name?: string; message?: string; cause?: { code?: string } };
    const timedOut = err.name === "TimeoutError" || err.name === "AbortError";
    const detail = timedOut ? `timed out after ${req.timeoutMs} ms` : `network error: ${scrub(String(err.cause?.code ?? err.message ?? e), req.secrets)}`;
    throw new SinkError(sink, `${req.label} ${detail}`, { permanent: false });
  }
  let text = "";
  try {
    text = await res.text();
  } catch (e) {
    throw new SinkError(sink, `${req.label} response body unreadable: ${scrub(ensureError(e).message, req.secrets)}`, { permanent: false, status: res.status });
  }
  if (res.status < 200 || res.status >= 300) {
    const snippet = scrub(text.replace(/\s+/g, " ").slice(0, 300), req.secrets);
    throw new SinkError(sink, `${req.label} answered HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`, {
      permanent: isPermanentStatus(res.status),
      status: res.status,
      retryAfterMs: retryAfterMs(res.headers.get("retry-after")),
    });
  }
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, text, json };
}

/** A 2xx whose body lacks what the API documents: the request may have worked, so retrying could duplicate; treat as permanent and say why. */
export function unexpectedBody(sink: string, label: string, what: string): SinkError {
  return new SinkError(sink, `${label} succeeded but the response has no ${what}`, { permanent: true });
}

export const basicAuth = (user: string, secret: string): string => "Basic " + Buffer.from(`${user}:${secret}`).toString("base64");

/** Joins a configured base URL and an API path, keeping any path prefix on the base (e.g. a proxy or an ADO collection). */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}
