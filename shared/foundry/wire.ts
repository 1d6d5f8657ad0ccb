// Small readers for raw Foundry JSON (snake_case, exactly as the REST API sends it). They either
// return a value of the expected type, `undefined` for an absent/null field, or throw
// MalformedBodyError: a body we cannot read must never become a guessed status.

import type { Instant } from "../model/run.js";

/** A 200 answer whose body is not the object we asked for (not a run, not a step list…). */
export class MalformedBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedBodyError";
  }
}

export type WireObject = Record<string, unknown>;

export const isWireObject = (v: unknown): v is WireObject => typeof v === "object" && v !== null && !Array.isArray(v);

export function requireObject(v: unknown, what: string): WireObject {
  if (!isWireObject(v)) throw new MalformedBodyError(`${what}: expected a JSON object, got ${describe(v)}`);
  return v;
}

export function requireString(o: WireObject, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string" || v === "") throw new MalformedBodyError(`${what}.${key}: expected a non-empty string, got ${describe(v)}`);
  return v;
}

export function optionalString(o: WireObject, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new MalformedBodyError(`${what}.${key}: expected a string, got ${describe(v)}`);
  return v;
}

export function optionalNumber(o: WireObject, key: string, what: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new MalformedBodyError(`${what}.${key}: expected a number, got ${describe(v)}`);
  return v;
}

export function optionalObject(o: WireObject, key: string, what: string): WireObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return requireObject(v, `${what}.${key}`);
}

export function optionalArray(o: WireObject, key: string, what: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new MalformedBodyError(`${what}.${key}: expected an array, got ${describe(v)}`);
  return v;
}

/**
 * Foundry sends epoch seconds (classic runs and steps, v2 `created_at`); some places send ISO
 * strings. Inside the monitor every time is epoch milliseconds.
 */
export function optionalInstant(o: WireObject, key: string, what: string): Instant | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === "string") {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new MalformedBodyError(`${what}.${key}: expected epoch seconds or an ISO time, got ${describe(v)}`);
}

export function requireInstant(o: WireObject, key: string, what: string): Instant {
  const t = optionalInstant(o, key, what);
  if (t === undefined) throw new MalformedBodyError(`${what}.${key}: is required`);
  return t;
}

/** Describes a value for an error message without echoing its content (it may be run data). */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  // Only identifier-like strings are echoed: anything else might be message text.
  if (typeof v === "string") return /^[\w.:-]{1,40}$/.test(v) ? JSON.stringify(v) : `a string of ${v.length} characters`;
  return typeof v;
}
