// One classic SDK call, judged by the raw answer. The SDK does the auth, TLS and URL work; what it
// deserializes is ignored: the raw body captured through `onResponse` goes through our own
// normalizers, so a body is judged the same way whether the SDK liked it or not.

import type { AgentsClient } from "@azure/ai-agents";
import { malformedOutcome, outcomeForFailure, outcomeForStatus, type NonObservation } from "./classify-outcome.js";
import { readDeadline } from "./source-options.js";

export type RawRead = { ok: true; body: unknown } | { ok: false; outcome: NonObservation };
type GetRunOptions = NonNullable<Parameters<AgentsClient["runs"]["get"]>[2]>;
export type SdkOptions = Pick<GetRunOptions, "abortSignal" | "onResponse">;
type RawResponse = Parameters<NonNullable<GetRunOptions["onResponse"]>>[0];

/** Runs `call` under the read timeout (and the caller's signal); returns the 200 body or why there is none. */
export async function readClassic(what: string, timeoutMs: number, caller: AbortSignal | undefined, call: (options: SdkOptions) => Promise<unknown>): Promise<RawRead> {
  let raw: RawResponse | undefined;
  const deadline = readDeadline(timeoutMs, caller);
  try {
    await call({ abortSignal: deadline, onResponse: (r) => (raw = r) });
  } catch (e) {
    // The SDK throws for non-200 answers and for bodies its own deserializer dislikes; with an
    // answer in hand, the answer is what we judge.
    if (!raw) return { ok: false, outcome: outcomeForFailure(e, deadline.aborted, what) };
  }
  if (!raw) return { ok: false, outcome: malformedOutcome(what, "no response") };
  if (raw.status !== 200) return { ok: false, outcome: outcomeForStatus(raw.status, raw.headers, what) };
  if (raw.parsedBody === undefined) return { ok: false, outcome: malformedOutcome(what, "the body is empty or not JSON") };
  return { ok: true, body: raw.parsedBody };
}
