// The telemetry contract in one direction at a time: infra/telemetry-names.json lists exactly the
// names (and alert dimensions) shared/telemetry emits; every KQL query in infra/ (alert rules,
// infra/queries/*.kql, the workbook) uses only those names and the dimensions those names carry;
// and infra/queries/alert-*.kql are the queries alerts.bicep deploys, character for character.
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import { EVENT_DIMENSIONS, EVENT_MEASUREMENTS, EVENT_NAMES, EVENT_PROPERTIES, METRIC_DIMENSIONS, METRIC_NAMES } from "../../shared/telemetry/names.js";
import { repoRoot } from "../support/paths.js";

const infra = path.join(repoRoot(), "infra");
const read = (...p: string[]): string => fs.readFileSync(path.join(infra, ...p), "utf8");

interface TelemetryNames {
  events: Record<string, string>;
  metrics: Record<string, string>;
  dimensions: Record<string, string[]>;
}

/** Log-alert queries in alerts.bicep, by rule name suffix, with Bicep string escapes undone. */
function bicepAlertQueries(): Map<string, string> {
  const text = read("modules", "alerts.bicep");
  const out = new Map<string, string>();
  for (const m of text.matchAll(/name: '\$\{namePrefix\}-([a-z-]+)'[\s\S]*?(?:query: '((?:[^'\\]|\\.)*)'|\n}\n)/g)) {
    if (m[2] !== undefined) out.set(m[1], m[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)));
  }
  return out;
}

/** Every `query` string anywhere in the workbook. */
function workbookQueries(): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "query" && typeof x === "string") found.push(x);
        else walk(x);
      }
    }
  };
  walk(JSON.parse(read("workbook.json")));
  return found;
}

const kqlFiles = (): string[] => fs.readdirSync(path.join(infra, "queries")).filter((f) => f.endsWith(".kql"));

/** Names a query filters on: `name == "X"` and `name in ("X", "Y")`. */
function namesIn(q: string): string[] {
  const names = [...q.matchAll(/\bname\s*==\s*"([^"]+)"/g)].map((m) => m[1]);
  for (const m of q.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)) names.push(...[...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]));
  return names;
}

const allQueries = (): [string, string][] => [
  ...kqlFiles().map((f): [string, string] => [`queries/${f}`, read("queries", f)]),
  ...[...bicepAlertQueries()].map(([n, q]): [string, string] => [`alerts.bicep ${n}`, q]),
  ...workbookQueries().map((q, i): [string, string] => [`workbook query ${i}`, q]),
];

describe("infra/telemetry-names.json", () => {
  const names = JSON.parse(read("telemetry-names.json")) as TelemetryNames;

  test("lists exactly the events and metrics shared/telemetry emits", () => {
    expect(Object.keys(names.events).sort()).toEqual([...EVENT_NAMES].sort());
    expect(Object.keys(names.metrics).sort()).toEqual([...METRIC_NAMES].sort());
  });

  test("lists each event's dimensions as the code declares them", () => {
    expect(names.dimensions).toEqual(Object.fromEntries(Object.entries(EVENT_DIMENSIONS).map(([k, v]) => [k, [...v]])));
  });
});

describe("KQL in infra/", () => {
  test("each alert rule's query is in infra/queries as alert-<rule>.kql, identical", () => {
    const alerts = bicepAlertQueries();
    expect(alerts.size).toBeGreaterThanOrEqual(5);
    for (const [rule, query] of alerts) expect([rule, read("queries", `alert-${rule}.kql`).trimEnd()]).toEqual([rule, query.trimEnd()]);
    expect(kqlFiles().filter((f) => f.startsWith("alert-")).sort()).toEqual([...alerts.keys()].map((r) => `alert-${r}.kql`).sort());
  });

  test("the workbook has queries for failure rate per agent, stalls, detection latency and monitor health", () => {
    const wb = read("workbook.json");
    for (const title of ["Failure rate per agent", "Stalls", "Detection latency", "Monitor health"]) expect(wb).toContain(title);
    expect(workbookQueries().some((q) => /percentile\(/.test(q) && /detectionLatencyMs/.test(q))).toBe(true);
  });

  test("every query uses only emitted names, and only dimensions those names carry", () => {
    const events = new Set<string>(EVENT_NAMES);
    const metrics = new Set<string>(METRIC_NAMES);
    const queries = allQueries();
    expect(queries.length).toBeGreaterThan(15);
    for (const [where, q] of queries) {
      const names = namesIn(q);
      expect([where, names.length > 0]).toEqual([where, true]);
      for (const n of names) {
        const table = events.has(n) ? "customEvents" : metrics.has(n) ? "customMetrics" : undefined;
        expect([where, n, table !== undefined]).toEqual([where, n, true]);
        expect([where, n, q.includes(table!)]).toEqual([where, n, true]);
      }
      const allowed = new Set<string>(
        names.flatMap((n) => [
          ...((EVENT_DIMENSIONS as Record<string, readonly string[]>)[n] ?? []),
          ...((EVENT_PROPERTIES as Record<string, readonly string[]>)[n] ?? []),
          ...((METRIC_DIMENSIONS as Record<string, readonly string[]>)[n] ?? []),
        ]),
      );
      for (const m of q.matchAll(/customDimensions\.(\w+)/g)) expect([where, m[1], allowed.has(m[1])]).toEqual([where, m[1], true]);
      const measurements = new Set<string>(names.flatMap((n) => (EVENT_MEASUREMENTS as Record<string, readonly string[]>)[n] ?? []));
      for (const m of q.matchAll(/customMeasurements\.(\w+)/g)) expect([where, m[1], measurements.has(m[1])]).toEqual([where, m[1], true]);
    }
  });
});
