import type { EventName, MetricName } from "./names.js";

/** String dimensions; undefined ones are left out. Implementations sanitize every value before it leaves the process. */
export type Dimensions = Record<string, string | number | boolean | undefined>;

/**
 * Where the monitor's signals go: Application Insights in Azure, nowhere in tests and simulate.
 * Nothing here throws or waits: telemetry must never break or slow a poll.
 */
export interface Telemetry {
  /** A custom event; `traceparent` (else the current trace context) sets its operation. */
  trackEvent(name: EventName, dimensions: Dimensions, measurements?: Record<string, number>, traceparent?: string): void;
  /** One measurement; the SDK aggregates per dimension set (customMetrics: value = sum, valueCount = n). */
  trackMetric(name: MetricName, value: number, dimensions?: Dimensions): void;
  /** A system error (ours: bug, bad config). Its message and stack are sanitized all the same. */
  trackException(error: unknown, dimensions?: Dimensions): void;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops the exporters (process exit). */
  shutdown(): Promise<void>;
}

export const noTelemetry: Telemetry = {
  trackEvent() {},
  trackMetric() {},
  trackException() {},
  flush: async () => {},
  shutdown: async () => {},
};
