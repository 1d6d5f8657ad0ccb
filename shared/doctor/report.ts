import { SETTING_DESCRIPTIONS } from "../config/config.js";
import { shownValue } from "./secret-settings.js";

// What `run-monitor doctor` found, for people (a pass/fail table) and for a change record (JSON
// evidence: when, against which settings, each check with its result and detail). Pure.

export type CheckResult = "pass" | "fail" | "warn";

export interface CheckOutcome {
  /** Stable ID for scripts, e.g. `foundry:prod:classic`, `table:monitorruns`, `servicebus:subscription:tickets`. */
  id: string;
  /** What was checked, in an operator's words. */
  title: string;
  result: CheckResult;
  detail: string;
  durationMs: number;
}

export interface DoctorEvidence {
  tool: "run-monitor doctor";
  version: string;
  timestamp: string;
  settingsSource: string;
  /** The settings the checks used; secrets (connection strings, keys) are named, never shown. */
  settings: Record<string, string>;
  checks: CheckOutcome[];
  summary: { pass: number; fail: number; warn: number };
  result: "pass" | "fail";
}

export const passed = (id: string, title: string, detail: string, durationMs = 0): CheckOutcome => ({ id, title, result: "pass", detail, durationMs });
export const failed = (id: string, title: string, detail: string, durationMs = 0): CheckOutcome => ({ id, title, result: "fail", detail, durationMs });
export const warned = (id: string, title: string, detail: string, durationMs = 0): CheckOutcome => ({ id, title, result: "warn", detail, durationMs });

/** 0 when nothing failed (warnings are information), 1 otherwise. Bad configuration (2) is decided before any check runs. */
export function exitCodeOf(checks: readonly CheckOutcome[]): 0 | 1 {
  return checks.some((c) => c.result === "fail") ? 1 : 0;
}

/** The app's own settings (those the schema describes) that are set, secrets masked. */
export function settingsForEvidence(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Set([...Object.keys(SETTING_DESCRIPTIONS), "AzureWebJobsStorage", "ServiceBusConnection"]);
  for (const name of [...names].sort()) {
    const v = env[name];
    if (v !== undefined && v !== "") out[name] = shownValue(name, v);
  }
  return out;
}

export function evidenceOf(parts: { version: string; at: Date; settingsSource: string; env: Record<string, string | undefined>; checks: CheckOutcome[] }): DoctorEvidence {
  const count = (r: CheckResult) => parts.checks.filter((c) => c.result === r).length;
  return {
    tool: "run-monitor doctor",
    version: parts.version,
    timestamp: parts.at.toISOString(),
    settingsSource: parts.settingsSource,
    settings: settingsForEvidence(parts.env),
    checks: parts.checks,
    summary: { pass: count("pass"), fail: count("fail"), warn: count("warn") },
    result: exitCodeOf(parts.checks) === 0 ? "pass" : "fail",
  };
}

/** A fixed-width table: result, check, detail (details wrap under their column rather than run off the screen). */
export function renderTable(checks: readonly CheckOutcome[], width = 120): string[] {
  const mark: Record<CheckResult, string> = { pass: "PASS", fail: "FAIL", warn: "WARN" };
  const titleWidth = Math.min(48, Math.max(5, ...checks.map((c) => c.title.length)));
  const detailWidth = Math.max(30, width - titleWidth - 9);
  const lines = [`${"RESULT".padEnd(6)}  ${"CHECK".padEnd(titleWidth)}  DETAIL`];
  for (const c of checks) {
    const wrapped = wrap(c.detail, detailWidth);
    lines.push(`${mark[c.result].padEnd(6)}  ${c.title.slice(0, titleWidth).padEnd(titleWidth)}  ${wrapped[0] ?? ""}`);
    for (const more of wrapped.slice(1)) lines.push(`${"".padEnd(6)}  ${"".padEnd(titleWidth)}  ${more}`);
  }
  const s = { pass: 0, fail: 0, warn: 0 };
  for (const c of checks) s[c.result]++;
  lines.push("", `${s.pass} passed, ${s.fail} failed, ${s.warn} warnings`);
  return lines;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/** What a refused Azure call means for the monitor's identity, per service: the role that grants it. */
export const ROLE_FOR = {
  foundry: "Azure AI User",
  table: "Storage Table Data Contributor",
  queue: "Storage Queue Data Contributor",
  topicSend: "Azure Service Bus Data Sender",
  subscriptionReceive: "Azure Service Bus Data Receiver",
} as const;
