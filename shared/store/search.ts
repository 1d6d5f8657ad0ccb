import { InputError } from "../errors.js";
import type { Instant } from "../model/run.js";
import {
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  lookupFor,
  matchesQuery,
  newestFirst,
  type LookupKind,
} from "./store-rules.js";
import type { RunHead, RunQuery } from "./types.js";

export interface LookupHit {
  project: string;
  runId: string;
  registeredAt: Instant;
  /** Sort tie-breaker: the run's key. */
  key: string;
}

/** What a store provides to the shared search algorithm (each call is counted by the store). */
export interface SearchSource {
  /** All lookup rows of one kind/value, optionally only one project's. */
  lookup(kind: LookupKind, value: string, project: string | undefined): Promise<LookupHit[]>;
  getHead(project: string, runId: string): Promise<RunHead | undefined>;
  /** Head rows matching the query's column filters (`matchesScanColumns`), at most MAX_SEARCH_SCAN. */
  scanHeads(q: RunQuery): Promise<{ head: RunHead; key: string }[]>;
}

// The token is an offset into the newest-first candidate list: opaque to callers, and re-running
// the same query with it continues where the last page stopped (runs registered in between may
// shift a page, which a search UI tolerates).
export function encodeContinuation(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset }), "utf8").toString("base64url");
}

export function decodeContinuation(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown };
    if (typeof parsed.o === "number" && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // fall through to the input error
  }
  throw new InputError("continuationToken: not a token this search returned");
}

export async function searchRuns(source: SearchSource, q: RunQuery): Promise<{ runs: RunHead[]; continuationToken?: string }> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_SEARCH_LIMIT), 1), MAX_SEARCH_LIMIT);
  const offset = decodeContinuation(q.continuationToken);
  const lookup = lookupFor(q);
  if (lookup) {
    const hits = (await source.lookup(lookup.kind, lookup.value, q.project)).sort(newestFirst);
    const runs: RunHead[] = [];
    let i = offset;
    // Lookup partitions are small (one thread, one session, one agent): read heads one by one
    // until the page is full, so a page costs at most `limit` + misses head reads.
    while (i < hits.length && runs.length < limit) {
      const hit = hits[i++];
      const head = await source.getHead(hit.project, hit.runId);
      if (head && matchesQuery(head, q)) runs.push(head);
    }
    return i < hits.length ? { runs, continuationToken: encodeContinuation(i) } : { runs };
  }
  const matches = (await source.scanHeads(q))
    .filter((r) => matchesQuery(r.head, q))
    .map((r) => ({ ...r, registeredAt: r.head.registeredAt }))
    .sort(newestFirst);
  const page = matches.slice(offset, offset + limit).map((r) => r.head);
  const next = offset + limit;
  return next < matches.length ? { runs: page, continuationToken: encodeContinuation(next) } : { runs: page };
}
