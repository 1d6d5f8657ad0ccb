/**
 * Operational identifiers support needs verbatim. A heuristic or PII detector that overlaps one of
 * these gives way (a GUID's digit groups are not a phone number; a sha256 digest is not a key).
 */
import { includesAny, type TextProfile } from "./profile.js";
import type { Range } from "./spans.js";

/** Foundry / OpenAI object ID prefixes (classic threads and v2 responses) plus a few common siblings. */
const ID_PREFIXES =
  "run|thread|asst|msg|step|call|resp|conv|file|vs|vsfb|batch|ftjob|ftckpt|req|fc|rs|ci|mcpr|mcpl|evt|item|cmpl|chatcmpl|caresp|agent";
/** A prefixed object ID, e.g. run_EiwaEw5Cj97zEZilBZzdYnNw, chatcmpl-AbC123…, resp_68af…. */
export const PREFIXED_ID = new RegExp(`\\b(?:${ID_PREFIXES})[_-][A-Za-z0-9][A-Za-z0-9_-]{5,}`, "g");
const PREFIXED_ID_WHOLE = new RegExp(`^(?:${ID_PREFIXES})[_-][A-Za-z0-9][A-Za-z0-9_-]{5,}$`);

const GUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const GUID_WHOLE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** ISO 8601 dates and timestamps (2026-09-17, 2026-09-17T18:52:39.000Z, 2026-09-17 18:52:39+02:00). */
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\d])/g;

/** A digest that says it is one: "sha256 9f86…", "etag: 0x8D…", "md5=…", "sha256-<base64>". */
const LABELLED_DIGEST =
  /\b(?:sha-?(?:1|224|256|384|512)|md5|hash|digest|checksum|etag|commit)\b["']?[\s:=#(-]{0,4}["']?(?:0x)?(?:[0-9a-fA-F]{32,128}\b|[A-Za-z0-9+/]{40,88}={0,2})/gi;

/** Azure resource IDs: names of things, not credentials. */
const RESOURCE_ID = /\/subscriptions\/[0-9a-fA-F-]{36}(?:\/[A-Za-z0-9._()-]+)*/g;

const DIGEST_WORDS = ["sha", "md5", "hash", "digest", "checksum", "etag", "commit"];

/** Each pattern with the cheap test that must pass before it is worth running. */
const PATTERNS: readonly [RegExp, (p: TextProfile) => boolean][] = [
  [PREFIXED_ID, (p) => p.text.includes("_") || p.text.includes("-")],
  [GUID, (p) => p.text.includes("-")],
  [ISO_TIME, (p) => p.digits >= 8 && p.text.includes("-")],
  [LABELLED_DIGEST, (p) => includesAny(p.lower, DIGEST_WORDS)],
  [RESOURCE_ID, (p) => p.text.includes("/subscriptions/")],
];

export function protectedRanges(p: TextProfile): Range[] {
  const text = p.text;
  const out: Range[] = [];
  for (const [re, worth] of PATTERNS) {
    if (!worth(p)) continue;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) out.push({ start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** True when a whole value is an operational ID (so `"next_token": "run_abc…"` stays). */
export function isOperationalId(value: string): boolean {
  return PREFIXED_ID_WHOLE.test(value) || GUID_WHOLE.test(value);
}
