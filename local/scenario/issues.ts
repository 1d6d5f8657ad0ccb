// Turns a zod issue into one line an author can act on: `runs[3].timeline[1].status: expected one of …, got "running"`.

import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

export function pathText(path: readonly PathKey[]): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || "(top level)";
}

export function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export function formatIssue(issue: Issue, value: unknown): string {
  const where = pathText(issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const keys = issue.keys;
      const at = (k: string) => pathText([...issue.path, k]);
      return keys.length === 1 ? `${at(keys[0])}: unknown field` : `${where}: unknown fields ${keys.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    case "invalid_value":
      return `${where}: expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map(String).join(", ")}`}, got ${describeValue(value)}`;
    case "invalid_type":
      return value === undefined ? `${where}: required (${issue.expected})` : `${where}: expected ${issue.expected}, got ${describeValue(value)}`;
    default:
      return `${where}: ${issue.message}${value !== undefined && typeof value !== "object" ? `, got ${describeValue(value)}` : ""}`;
  }
}
