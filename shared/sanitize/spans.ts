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

/** Stronger first, then longer, then earlier: the order candidates claim their spans in. */
const claimOrder = (a: Candidate, b: Candidate): number => b.rank - a.rank || b.end - b.start - (a.end - a.start) || a.start - b.start;
export const positionOrder = (a: Range, b: Range): number => a.start - b.start;

/**
 * A sorted copy of `list`, stable. A text usually has a handful of candidates: those are sorted by
 * insertion here, without the engine calling back into `order` for each comparison.
 */
export function sortedCopy<T>(list: readonly T[], order: (a: T, b: T) => number): T[] {
  const out = list.slice();
  if (out.length > 16) return out.sort(order);
  for (let i = 1; i < out.length; i++) {
    const c = out[i];
    let j = i - 1;
    for (; j >= 0 && order(c, out[j]) < 0; j--) out[j + 1] = out[j];
    out[j + 1] = c;
  }
  return out;
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

  /** Appends a range that begins after every range already held. */
  append(start: number, end: number): void {
    this.starts.push(start);
    this.ends.push(end);
  }

  /** Inserts a range that overlaps none held; returns its index in position order. */
  insert(start: number, end: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.starts.length) this.append(start, end);
    else {
      this.starts.splice(lo, 0, start);
      this.ends.splice(lo, 0, end);
    }
    return lo;
  }
}

/** The findings chosen so far. */
interface Chosen {
  overlaps(start: number, end: number): boolean;
  take(c: Candidate): void;
  /** in position order */
  findings(): Finding[];
}

/** Kept in position order as they come (they never overlap, so that order is their ranges' order): for a handful of findings. */
class ChosenInOrder extends RangeSet implements Chosen {
  private readonly list: Finding[] = [];

  take(c: Candidate): void {
    const at = this.insert(c.start, c.end);
    const f = { kind: c.kind, start: c.start, end: c.end };
    if (at === this.list.length) this.list.push(f);
    else this.list.splice(at, 0, f);
  }

  findings(): Finding[] {
    return this.list;
  }
}

/**
 * One flag per character of the text: for many candidates (a 64 KB piece holds hundreds), where
 * inserting into sorted arrays would cost quadratic time. Overlap tests read only the candidate's
 * own characters.
 */
class ChosenByCharacter implements Chosen {
  private readonly taken: Uint8Array;
  private readonly list: Finding[] = [];

  constructor(length: number) {
    this.taken = new Uint8Array(length);
  }

  overlaps(start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (this.taken[i] === 1) return true;
    return false;
  }

  take(c: Candidate): void {
    this.taken.fill(1, c.start, c.end);
    this.list.push({ kind: c.kind, start: c.start, end: c.end });
  }

  findings(): Finding[] {
    return this.list.sort(positionOrder);
  }
}

/** Above this many candidates settle() marks characters rather than keeping sorted arrays. */
const MANY_CANDIDATES = 32;

/** Picks the findings to redact, sorted by position, no two overlapping. */
export function settle(candidates: readonly Candidate[], protectedRanges: readonly Range[]): Finding[] {
  // the common case of one candidate needs no ordering and no index of the protected ranges
  if (candidates.length === 1) {
    const c = candidates[0];
    if (c.rank <= VETOABLE_UP_TO) for (const r of protectedRanges) if (r.start < c.end && c.start < r.end) return [];
    return [{ kind: c.kind, start: c.start, end: c.end }];
  }
  const guarded = new RangeSet();
  for (const r of mergeRanges(protectedRanges)) guarded.append(r.start, r.end);
  let chosen: Chosen;
  if (candidates.length <= MANY_CANDIDATES) chosen = new ChosenInOrder();
  else {
    let length = 0;
    for (const c of candidates) length = Math.max(length, c.end);
    chosen = new ChosenByCharacter(length);
  }
  for (const c of sortedCopy(candidates, claimOrder)) {
    if (c.rank <= VETOABLE_UP_TO && guarded.overlaps(c.start, c.end)) continue;
    if (chosen.overlaps(c.start, c.end)) continue;
    chosen.take(c);
  }
  return chosen.findings();
}

function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = sortedCopy(ranges, positionOrder);
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
  // concatenation builds a rope flattened once on first use: cheaper than an array of parts and join
  let out = "";
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + "[REDACTED:" + f.kind + "]";
    at = f.end;
  }
  return out + text.slice(at);
}
