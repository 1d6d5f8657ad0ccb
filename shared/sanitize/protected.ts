/**
 * Operational identifiers support needs verbatim. A heuristic or PII detector that overlaps one of
 * these gives way (a GUID's digit groups are not a phone number; a sha256 digest is not a key).
 */
import { cue, type TextProfile } from "./profile.js";
import { asciiTable, execAt, inTable, stickyCopy } from "./scan.js";
import type { Range } from "./spans.js";

/** Foundry / OpenAI object ID prefixes (classic threads and v2 responses) plus a few common siblings. */
const ID_PREFIXES =
  "run|thread|asst|msg|step|call|resp|conv|file|vs|vsfb|batch|ftjob|ftckpt|req|fc|rs|ci|mcpr|mcpl|evt|item|cmpl|chatcmpl|caresp|agent";
/** A prefixed object ID, e.g. run_EiwaEw5Cj97zEZilBZzdYnNw, chatcmpl-AbC123…, resp_68af…. */
const PREFIXED_ID = new RegExp(`\\b(?:${ID_PREFIXES})[_-][A-Za-z0-9][A-Za-z0-9_-]{5,}`, "y");
const PREFIXED_ID_CUE = cue(ID_PREFIXES.split("|"));
const PREFIXED_ID_WHOLE = new RegExp(`^(?:${ID_PREFIXES})[_-][A-Za-z0-9][A-Za-z0-9_-]{5,}$`);

const GUID = stickyCopy(/\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/);
const HEX = asciiTable(/[0-9a-fA-F]/);
const WORD = asciiTable(/\w/);

/** A GUID's first dash is 8 hex digits after its start, and that start follows no word character. */
function guidStarts(text: string): number[] {
  const starts: number[] = [];
  for (let d = text.indexOf("-", 8); d >= 0; d = text.indexOf("-", d + 1)) {
    const s = d - 8;
    if (s > 0 && inTable(WORD, text.charCodeAt(s - 1))) continue;
    let i = s;
    while (i < d && inTable(HEX, text.charCodeAt(i))) i++;
    if (i === d) starts.push(s);
  }
  return starts;
}
const GUID_WHOLE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** ISO 8601 dates and timestamps (2026-09-17, 2026-09-17T18:52:39.000Z, 2026-09-17 18:52:39+02:00). */
const ISO_TIME = stickyCopy(/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\d])/);

/** A digest that says it is one: "sha256 9f86…", "etag: 0x8D…", "md5=…", "sha256-<base64>". */
const LABELLED_DIGEST = stickyCopy(
  /\b(?:sha-?(?:1|224|256|384|512)|md5|hash|digest|checksum|etag|commit)\b["']?[\s:=#(-]{0,4}["']?(?:0x)?(?:[0-9a-fA-F]{32,128}\b|[A-Za-z0-9+/]{40,88}={0,2})/i,
);
const DIGEST_CUE = cue(["sha", "md5", "hash", "digest", "checksum", "etag", "commit"]);

/** Azure resource IDs: names of things, not credentials. */
const RESOURCE_ID = /\/subscriptions\/[0-9a-fA-F-]{36}(?:\/[A-Za-z0-9._()-]+)*/g;


const pushRange = (m: RegExpExecArray, out: Range[]): void => void out.push({ start: m.index, end: m.index + m[0].length });
/** A four-digit run followed by "-": where an ISO date can begin. */
const isoYear = (_s: number, length: number, next: number): boolean => length === 4 && next === 45;

function scanAll(re: RegExp, text: string, out: Range[]): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ start: m.index, end: m.index + m[0].length });
}

export function protectedRanges(p: TextProfile): Range[] {
  const text = p.text;
  const out: Range[] = [];
  execAt(PREFIXED_ID, text, p.cues(PREFIXED_ID_CUE), pushRange, out);
  execAt(GUID, text, guidStarts(text), pushRange, out);
  if (p.digits >= 8) execAt(ISO_TIME, text, p.numbers(isoYear), pushRange, out);
  execAt(LABELLED_DIGEST, text, p.cues(DIGEST_CUE), pushRange, out);
  if (text.includes("/subscriptions/")) scanAll(RESOURCE_ID, text, out);
  return out;
}

/** True when a whole value is an operational ID (so `"next_token": "run_abc…"` stays). */
export function isOperationalId(value: string): boolean {
  return PREFIXED_ID_WHOLE.test(value) || GUID_WHOLE.test(value);
}
