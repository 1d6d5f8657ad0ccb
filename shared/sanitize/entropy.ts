/**
 * Random-looking strings. Near a credential word ("secret", "token", "api key" …) a shorter
 * random token is enough; with no such word only a long, mixed-alphabet, high-entropy token counts.
 * Both are heuristics, so operational IDs and labelled digests veto them (see protected.ts).
 */
import { charClasses, shannonEntropy } from "./checksums.js";
import type { TextProfile } from "./profile.js";
import { codeAt } from "./scan.js";
import { Candidates, Rank, positionOrder, sortedCopy, type Range } from "./spans.js";

// A token is a whole run of 16 or more [A-Za-z0-9+/_~-] (found by profile.ts) plus up to two "=" of base64 padding.
const CREDENTIAL_WORD = /pass(?:word|wd|phrase)?|pwd|secret|token(?!s)|api[-_ ]?key|\bkey\b|credential|bearer|signature|\bsig\b|\bauth\b/i;
const CONTEXT_CHARS = 40;

/** A credential word in the CONTEXT_CHARS before `at`, on the same line. */
function nearCredentialWord(text: string, at: number): boolean {
  const context = text.slice(Math.max(0, at - CONTEXT_CHARS), at);
  const nl = context.lastIndexOf("\n");
  return CREDENTIAL_WORD.test(nl >= 0 ? context.slice(nl + 1) : context);
}

/** Answers "does a stronger detector's span contain [start, end)?" by binary search (a text can hold thousands of candidates). */
class Claimed {
  private readonly starts: number[];
  /** largest end among candidates up to and including index i (by start) */
  private readonly reach: number[];
  constructor(list: readonly Range[]) {
    const sorted = sortedCopy(list, positionOrder);
    this.starts = [];
    this.reach = [];
    let far = -1;
    for (const c of sorted) {
      this.starts.push(c.start);
      this.reach.push((far = Math.max(far, c.end)));
    }
  }
  contains(start: number, end: number): boolean {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && this.reach[lo - 1] >= end;
  }
}

export function detectHighEntropy(p: TextProfile, out: Candidates): void {
  const text = p.text;
  const runs = p.tokenRuns;
  if (p.digits === 0 || runs.length === 0) return;
  // tokens never contain one another, so the spans claimed before this loop are all that matter
  const claimed = new Claimed(out.list);
  for (let r = 0; r < runs.length; r += 2) {
    let end = runs[r + 1];
    if (codeAt(text, end) === 61) end += codeAt(text, end + 1) === 61 ? 2 : 1; // base64 padding
    judgeToken(text, runs[r], end, claimed, out);
  }
}

const HEX_LETTERS = /^[0-9a-fA-F]+$/;
const LONG_WORD_SEGMENT = /^[A-Za-z]{5,}$/;

function judgeToken(text: string, start: number, end: number, claimed: Claimed, out: Candidates): void {
  if (claimed.contains(start, end)) return;
  const c = charClasses(text, start, end);
  if (c.digit === 0 || c.upper + c.lower === 0) return;
  const length = end - start;
  let hit = false;
  if (length >= 32 && c.upper >= 2 && c.lower >= 2 && c.digit >= 2 && text.charCodeAt(start) !== 47) {
    hit = shannonEntropy(text, start, end) >= 4.2 && text.slice(start, end).split("/").filter((seg) => LONG_WORD_SEGMENT.test(seg)).length < 2;
  }
  if (!hit && nearCredentialWord(text, start)) {
    const isHex = c.other === 0 && (c.upper === 0 || c.lower === 0) && HEX_LETTERS.test(text.slice(start, end));
    const mixed = (c.upper > 0 && c.lower > 0) || c.other > 0 || (isHex && length >= 32);
    hit = mixed && shannonEntropy(text, start, end) >= 3.2;
  }
  if (hit) out.add("high-entropy", start, end, Rank.heuristic);
}
