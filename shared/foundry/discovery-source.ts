// What discovery reads from Foundry: a project's recent classic threads and each thread's runs.
// Separate from RunSource because only projects with `discovery: true` ever list, and list bodies
// carry no more than discovery needs to decide "register this run or not".

import { isRunStatus, type Instant, type RunStatus } from "../model/run.js";
import type { NonObservation } from "./classify-outcome.js";
import { MalformedBodyError, describe, optionalString, requireInstant, requireObject, requireString, type WireObject } from "./wire.js";

/** A thread as `GET /threads` lists it. */
export interface ListedThread {
  id: string;
  createdAt: Instant;
}

/** A run as `GET /threads/{t}/runs` lists it. */
export interface ListedRun {
  runId: string;
  threadId: string;
  status: RunStatus;
  agentId?: string;
  createdAt: Instant;
}

/** One page of an OpenAI-style list (`{object:"list", data, first_id, last_id, has_more}`). */
export interface ListPage<T> {
  items: T[];
  hasMore: boolean;
  /** The cursor for the next page (`after`). */
  lastId?: string;
}

/** A page, or why there is none: the same typed trouble a poll has (throttled, transient, not found). */
export type ListOutcome<T> = { kind: "listed"; page: ListPage<T> } | NonObservation;

/** One Foundry project's classic listings, newest first. */
export interface DiscoverySource {
  listThreads(page: { limit: number; after?: string }): Promise<ListOutcome<ListedThread>>;
  /** The newest `limit` runs of a thread (one page: a thread has at most one active run at a time, always among its newest). */
  listRuns(threadId: string, limit: number): Promise<ListOutcome<ListedRun>>;
}

/** Reads a list body; each item goes through `item` (which throws MalformedBodyError on a bad one). */
export function normalizeListPage<T>(body: unknown, what: string, item: (o: WireObject, what: string) => T): ListPage<T> {
  const list = requireObject(body, what);
  if (list.object !== undefined && list.object !== "list") throw new MalformedBodyError(`${what}.object: expected "list", got ${describe(list.object)}`);
  if (!Array.isArray(list.data)) throw new MalformedBodyError(`${what}.data: expected an array, got ${describe(list.data)}`);
  const items = list.data.map((d, i) => item(requireObject(d, `${what}.data[${i}]`), `${what}.data[${i}]`));
  if (list.has_more !== undefined && list.has_more !== null && typeof list.has_more !== "boolean") throw new MalformedBodyError(`${what}.has_more: expected a boolean, got ${describe(list.has_more)}`);
  // last_id is the cursor; a body without it still pages by its last item's id.
  const lastId = optionalString(list, "last_id", what) ?? (list.data.length ? optionalString(list.data[list.data.length - 1] as WireObject, "id", what) : undefined);
  return { items, hasMore: list.has_more === true && items.length > 0, ...(lastId ? { lastId } : {}) };
}

export function normalizeListedThread(o: WireObject, what: string): ListedThread {
  if (o.object !== undefined && o.object !== "thread") throw new MalformedBodyError(`${what}.object: expected "thread", got ${describe(o.object)}`);
  return { id: requireString(o, "id", what), createdAt: requireInstant(o, "created_at", what) };
}

/** `threadId`: the thread that was listed, for bodies that leave `thread_id` out. */
export function normalizeListedRun(threadId: string): (o: WireObject, what: string) => ListedRun {
  return (o, what) => {
    if (o.object !== undefined && o.object !== "thread.run") throw new MalformedBodyError(`${what}.object: expected "thread.run", got ${describe(o.object)}`);
    const status = o.status;
    if (!isRunStatus(status)) throw new MalformedBodyError(`${what}.status: expected a run status, got ${describe(status)}`);
    const agentId = optionalString(o, "assistant_id", what);
    return {
      runId: requireString(o, "id", what),
      threadId: optionalString(o, "thread_id", what) ?? threadId,
      status,
      ...(agentId ? { agentId } : {}),
      createdAt: requireInstant(o, "created_at", what),
    };
  };
}
