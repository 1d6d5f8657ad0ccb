// W3C trace context (https://www.w3.org/TR/trace-context/) without an SDK: the poll stamps a
// traceparent on the escalations it writes, Service Bus carries it (Diagnostic-Id / traceparent /
// the CloudEvent's traceparent), and the ticket handler runs inside it, so Application Insights
// shows poll → publish → ticket under one operation ID (= the trace ID).
import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";

export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;

export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  const m = value ? TRACEPARENT.exec(value.trim()) : null;
  if (!m || ALL_ZERO.test(m[1]) || ALL_ZERO.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], sampled: (parseInt(m[3], 16) & 1) === 1 };
}

export const formatTraceparent = (t: TraceParent): string => `00-${t.traceId}-${t.spanId}-${t.sampled ? "01" : "00"}`;

/** A new span under `parent` (same trace, i.e. same App Insights operation), or a new trace when there is none. */
export function newTraceparent(parent?: string): string {
  const p = parseTraceparent(parent);
  return formatTraceparent({ traceId: p?.traceId ?? randomBytes(16).toString("hex"), spanId: randomBytes(8).toString("hex"), sampled: true });
}

const current = new AsyncLocalStorage<string>();

/** Runs `work` inside the trace `traceparent` (ignored when missing or malformed): telemetry it sends joins that operation. */
export function withTraceparent<T>(traceparent: string | undefined, work: () => T): T {
  return parseTraceparent(traceparent) ? current.run(traceparent!, work) : work();
}

/** The traceparent of the operation in progress, if any. */
export const currentTraceparent = (): string | undefined => current.getStore();
