/**
 * Redacts secrets and personal data from text that is about to leave the monitor (tickets, logs,
 * telemetry, evidence exports). Pure: no I/O, no clock, no configuration.
 *
 *   sanitize("password=hunter2 from 10.1.2.3") === "password=[REDACTED:password] from [REDACTED:ip]"
 *
 * Operational identifiers stay verbatim because support needs them: run_/thread_/asst_/msg_/step_/
 * call_/resp_/conv_ IDs, GUIDs, ISO timestamps, error codes, model and deployment names, Azure
 * resource names and labelled digests.
 */
import { detectHighEntropy } from "./entropy.js";
import { detectPersonalData } from "./personal.js";
import { profile } from "./profile.js";
import { protectedRanges } from "./protected.js";
import { detectSecrets } from "./secrets.js";
import { Candidates, Rank, redact, settle, type Candidate, type Finding } from "./spans.js";

export type { Finding } from "./spans.js";

/** Every sensitive span in `text`, sorted by position and non-overlapping; `kind` is what replaces it. */
export function findSensitive(text: string): Finding[] {
  if (text.length === 0) return [];
  const p = profile(text);
  const candidates = new Candidates();
  detectSecrets(p, candidates);
  detectPersonalData(p, candidates);
  detectHighEntropy(p, candidates);
  if (candidates.list.length === 0) return [];
  // only the weaker detectors consult the protected identifiers; skip finding them when none fired
  return settle(candidates.list, candidates.list.some(isVetoable) ? protectedRanges(p) : []);
}

const isVetoable = (c: Candidate): boolean => c.rank <= Rank.structured;

/** `text` with each secret or personal datum replaced by `[REDACTED:<kind>]`. */
export function sanitize(text: string): string {
  return redact(text, findSensitive(text));
}

/**
 * A deep copy of `value` with every string inside (object values, array items, nested) sanitized.
 * Object keys, numbers, booleans and null are kept; class instances other than plain objects and
 * arrays (Date, Map, Buffer…) are returned as they are; cycles are preserved, not followed forever.
 */
export function sanitizeValue<T>(value: T): T {
  return walk(value, new WeakMap()) as T;
}

function walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === "string") return sanitize(value);
  if (value === null || typeof value !== "object") return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(walk(item, seen));
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = proto === null ? Object.create(null) : {};
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) copy[k] = walk(v, seen);
  return copy;
}
