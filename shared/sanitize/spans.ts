/**
 * Candidate findings and how overlapping candidates are settled.
 *
 * Several detectors often see the same bytes (a URL password also looks like an e-mail local
 * part, an OpenAI key sits behind OPENAI_API_KEY=). Higher rank wins, then the longer span.
 * Spans that protect operational identifiers (run IDs, GUIDs, timestamps, labelled digests)
 * veto only the weaker detectors: a provider key or `password=` value is redacted regardless.
 */

/** One sensitive span of the input, half-open [start, end). */
export interface Finding {
  kind: string;
  start: number;
  end: number;
}

/** How sure a detector is: a provider key format beats a keyed assignment beats a checksummed number beats a heuristic. */
export const Rank = {
  heuristic: 1,
  structured: 2,
  assignment: 3,
  format: 4,
} as const;
export type Rank = (typeof Rank)[keyof typeof Rank];

/** Ranks at or below this give way to protected identifiers. */
const VETOABLE_UP_TO: Rank = Rank.structured;

export interface Candidate extends Finding {
  rank: Rank;
}

export interface Range {
  start: number;
  end: number;
}

/** Collects candidates; the only mutable thing a detector touches. */
export class Candidates {
  readonly list: Candidate[] = [];
  add(kind: string, start: number, end: number, rank: Rank): void {
    if (end > start) this.list.push({ kind, start, end, rank });
  }
}

/** Sorted, non-overlapping ranges with a binary-search overlap test (texts can hold thousands of findings). */
class RangeSet {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  overlaps(start: number, end: number): boolean {
    // first range whose end is past `start`
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.starts.length && this.starts[lo] < end;
  }

  insert(start: number, end: number): void {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    this.starts.splice(lo, 0, start);
    this.ends.splice(lo, 0, end);
  }
}

/** Picks the findings to redact, sorted by position, no two overlapping. */
export function settle(candidates: readonly Candidate[], protectedRanges: readonly Range[]): Finding[] {
  const guarded = new RangeSet();
  for (const r of mergeRanges(protectedRanges)) guarded.insert(r.start, r.end);
  const ordered = [...candidates].sort(
    (a, b) => b.rank - a.rank || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const taken = new RangeSet();
  const out: Finding[] = [];
  for (const c of ordered) {
    if (c.rank <= VETOABLE_UP_TO && guarded.overlaps(c.start, c.end)) continue;
    if (taken.overlaps(c.start, c.end)) continue;
    taken.insert(c.start, c.end);
    out.push({ kind: c.kind, start: c.start, end: c.end });
  }
  return out.sort((a, b) => a.start - b.start);
}

function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: Range[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start < last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ start: r.start, end: r.end });
  }
  return merged;
}

/** Replaces each finding with `[REDACTED:<kind>]`. Findings must be sorted and disjoint. */
export function redact(text: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return text;
  const parts: string[] = [];
  let at = 0;
  for (const f of findings) {
    parts.push(text.slice(at, f.start), `[REDACTED:${f.kind}]`);
    at = f.end;
  }
  parts.push(text.slice(at));
  return parts.join("");
}
