import { ensureError } from "../errors.js";
import { SinkError, type TicketDraft, type TicketSink } from "../tickets/sinks/types.js";
import type { Telemetry } from "./telemetry.js";

type SinkAction = "open" | "update" | "resolve";

/** A short, data-free code for a failed sink call: `http-503`, `permanent`, `transient` or the error's name. */
export function sinkErrorCode(error: unknown): string {
  if (error instanceof SinkError) return error.status !== undefined ? `http-${error.status}` : error.permanent ? "permanent" : "transient";
  return ensureError(error).name || "Error";
}

/**
 * The sink with its outcomes reported: TicketOpened / TicketUpdated on success, TicketSinkFailed
 * (then the same error, so the message is retried or dead-lettered as before) on failure, and a
 * TicketSinkOutcomes count either way. Runs inside the ticket handler's trace, so these events
 * share the escalation's operation ID.
 */
export function instrumentSink(sink: TicketSink, telemetry: Telemetry): TicketSink {
  async function observed<T>(action: SinkAction, draft: TicketDraft, call: () => Promise<T>): Promise<T> {
    const dims = { sink: sink.name, reason: draft.reason, severity: draft.severity, ticketKey: draft.key, episode: draft.episode };
    try {
      const result = await call();
      telemetry.trackEvent(action === "open" ? "TicketOpened" : "TicketUpdated", { ...dims, action });
      telemetry.trackMetric("TicketSinkOutcomes", 1, { sink: sink.name, action, outcome: "ok" });
      return result;
    } catch (e) {
      const error = ensureError(e);
      // The message may quote the target's response body: the Telemetry implementation sanitizes it.
      telemetry.trackEvent("TicketSinkFailed", { ...dims, action, errorCode: sinkErrorCode(e), permanent: e instanceof SinkError ? e.permanent : undefined, message: error.message });
      telemetry.trackMetric("TicketSinkOutcomes", 1, { sink: sink.name, action, outcome: "failed" });
      throw e;
    }
  }
  const wrapped: TicketSink = {
    name: sink.name,
    open: (t) => observed("open", t, () => sink.open(t)),
    update: (id, t, note) => observed("update", t, () => sink.update(id, t, note)),
  };
  if (sink.findByKey) wrapped.findByKey = (key) => sink.findByKey!(key);
  if (sink.resolve) wrapped.resolve = (id, t) => observed("resolve", t, () => sink.resolve!(id, t));
  return wrapped;
}
