export { EVENT_NAMES, METRIC_NAMES, EVENT_DIMENSIONS, METRIC_DIMENSIONS, EVENT_MEASUREMENTS, EVENT_PROPERTIES, NONE, ALL_PROJECTS, type EventName, type MetricName } from "./names.js";
export { noTelemetry, type Telemetry, type Dimensions } from "./telemetry.js";
export { telemetryEvents } from "./monitor-events.js";
export { telemetryMetrics, reportDeadLettered } from "./metrics.js";
export { instrumentSink, sinkErrorCode } from "./ticket-sinks.js";
export { telemetryFromSettings, type TelemetrySettings } from "./from-settings.js";
export { withTraceparent, currentTraceparent, newTraceparent, parseTraceparent, formatTraceparent, type TraceParent } from "./trace-context.js";
