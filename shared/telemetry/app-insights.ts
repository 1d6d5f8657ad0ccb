// Application Insights through the applicationinsights 3.x SDK (OpenTelemetry underneath): custom
// events become log records, metrics OpenTelemetry histograms. This file is the only one that
// imports the SDK, and it is loaded only when a connection string is configured.
import { context, trace, TraceFlags } from "@opentelemetry/api";
import type { TokenCredential } from "@azure/identity";
import { TelemetryClient } from "applicationinsights";
import { ensureError } from "../errors.js";
import { sanitize } from "../sanitize/index.js";
import type { EventName, MetricName } from "./names.js";
import type { Dimensions, Telemetry } from "./telemetry.js";
import { currentTraceparent, parseTraceparent } from "./trace-context.js";

export interface AppInsightsOptions {
  /** `InstrumentationKey=…;IngestionEndpoint=https://…` (not a secret). */
  connectionString: string;
  /** Entra ID authentication for ingestion; required in Azure, where the component has local auth off. */
  credential?: TokenCredential;
  /** Keep unsent telemetry on disk across restarts (SDK default: on). */
  offlineStorage?: boolean;
}

/** Every string that leaves goes through the sanitizer: dimensions may quote Foundry or a ticket target. */
function sanitizedDimensions(d: Dimensions | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d ?? {})) if (v !== undefined) out[k] = sanitize(String(v));
  return out;
}

function finiteMeasurements(m: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m ?? {})) if (Number.isFinite(v)) out[k] = v;
  return out;
}

/** Runs `emit` with the trace `traceparent` as the active span context, so the record gets its operation ID. */
function inTrace(traceparent: string | undefined, emit: () => void): void {
  const t = parseTraceparent(traceparent ?? currentTraceparent());
  if (!t) return emit();
  const spanContext = { traceId: t.traceId, spanId: t.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
  context.with(trace.setSpanContext(context.active(), spanContext), emit);
}

export function createAppInsightsTelemetry(options: AppInsightsOptions): Telemetry {
  const client = new TelemetryClient(options.connectionString);
  // Only what this monitor sends explicitly: the Functions host already records requests, and
  // automatic exception/console capture would ship unsanitized text.
  client.config.enableAutoCollectRequests = false;
  client.config.enableAutoCollectDependencies = false;
  client.config.enableAutoCollectExceptions = false;
  client.config.enableAutoCollectConsole = false;
  client.config.enableAutoCollectPerformance = false;
  client.config.enableAutoCollectPreAggregatedMetrics = false;
  client.config.aadTokenCredential = options.credential;
  client.config.azureMonitorOpenTelemetryOptions = {
    enableLiveMetrics: false,
    azureMonitorExporterOptions: { connectionString: options.connectionString, credential: options.credential, disableOfflineStorage: options.offlineStorage === false },
  };
  // Now rather than on first use: the OpenTelemetry context manager must exist before inTrace() needs it.
  client.initialize();

  return {
    trackEvent(name: EventName, dimensions: Dimensions, measurements?: Record<string, number>, traceparent?: string) {
      inTrace(traceparent, () => client.trackEvent({ name, properties: sanitizedDimensions(dimensions), measurements: finiteMeasurements(measurements) }));
    },
    trackMetric(name: MetricName, value: number, dimensions?: Dimensions) {
      if (Number.isFinite(value)) client.trackMetric({ name, value, properties: sanitizedDimensions(dimensions) });
    },
    trackException(error: unknown, dimensions?: Dimensions) {
      const e = ensureError(error);
      const clean = new Error(sanitize(e.message));
      clean.name = e.name;
      clean.stack = e.stack ? sanitize(e.stack) : undefined;
      inTrace(undefined, () => client.trackException({ exception: clean, properties: sanitizedDimensions(dimensions) }));
    },
    flush: () => client.flush(),
    shutdown: () => client.shutdown(),
  };
}
