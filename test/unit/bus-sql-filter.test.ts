import { describe, expect, it } from "@jest/globals";
import { compileFilter, FilterSyntaxError } from "../../local/service-bus/sql-filter.js";

const match = (filter: string | undefined, user: Record<string, unknown>, sys: Record<string, unknown> = {}) => compileFilter(filter)({ user, sys });

describe("subscription SQL filter", () => {
  it("matches everything without a filter", () => {
    expect(match(undefined, {})).toBe(true);
    expect(match("  ", { a: 1 })).toBe(true);
  });

  it("IN selects listed severities only, and a missing property never matches", () => {
    const f = "severity IN ('high','critical')";
    expect(match(f, { severity: "high" })).toBe(true);
    expect(match(f, { severity: "critical" })).toBe(true);
    expect(match(f, { severity: "low" })).toBe(false);
    expect(match(f, {})).toBe(false);
    expect(match("severity NOT IN ('low')", { severity: "high" })).toBe(true);
    expect(match("severity NOT IN ('low')", {})).toBe(false);
  });

  it("compares strings and numbers, with = <> != < > <= >=", () => {
    expect(match("owner = 'payments-team'", { owner: "payments-team" })).toBe(true);
    expect(match("owner <> 'payments-team'", { owner: "search" })).toBe(true);
    expect(match("owner != 'search'", { owner: "search" })).toBe(false);
    expect(match("episode >= 2", { episode: 2 })).toBe(true);
    expect(match("episode > 2", { episode: 2 })).toBe(false);
    expect(match("episode < 2.5 AND episode <= 2", { episode: 2 })).toBe(true);
    expect(match("episode = '2'", { episode: 2 })).toBe(false);
    expect(match("delta > -1", { delta: 0 })).toBe(true);
  });

  it("combines with AND, OR, NOT and parentheses, precedence AND over OR", () => {
    const f = "kind = 'escalation' AND (severity = 'high' OR severity = 'critical') AND NOT owner = 'noise'";
    expect(match(f, { kind: "escalation", severity: "critical", owner: "sre" })).toBe(true);
    expect(match(f, { kind: "escalation", severity: "critical", owner: "noise" })).toBe(false);
    expect(match(f, { kind: "recovered", severity: "critical", owner: "sre" })).toBe(false);
    expect(match("a = 1 OR b = 1 AND c = 1", { a: 1, b: 0, c: 0 })).toBe(true);
    expect(match("a = 1 OR b = 1 AND c = 1", { a: 0, b: 1, c: 0 })).toBe(false);
  });

  it("uses three-valued logic: NOT of an unknown comparison is still not a match", () => {
    expect(match("NOT severity = 'low'", {})).toBe(false);
    expect(match("severity = 'low' OR TRUE", {})).toBe(true);
  });

  it("supports EXISTS, IS [NOT] NULL, keywords in any case, escaped quotes, [bracketed] and sys./user. names", () => {
    expect(match("EXISTS(agentId)", { agentId: "a" })).toBe(true);
    expect(match("exists(agentId)", {})).toBe(false);
    expect(match("agentId IS NULL", {})).toBe(true);
    expect(match("agentId is not null", { agentId: "x" })).toBe(true);
    expect(match("owner = 'o''brien'", { owner: "o'brien" })).toBe(true);
    expect(match("[cloudEvents:type] = 'x'", { "cloudEvents:type": "x" })).toBe(true);
    expect(match("user.severity = 'high'", { severity: "high" })).toBe(true);
    expect(match("sys.Label = 'escalated'", {}, { Label: "escalated" })).toBe(true);
    expect(match("sys.label = 'escalated'", {}, { Label: "escalated" })).toBe(true);
  });

  it("rejects text it does not understand with the filter in the message", () => {
    for (const bad of ["severity IN ('high'", "severity = ", "'unterminated", "a = 1 b", "severity LIKE 'h%'", "a == 1", "AND"]) {
      expect(() => compileFilter(bad)).toThrow(FilterSyntaxError);
    }
    expect(() => compileFilter("a ~ 1")).toThrow(/in filter "a ~ 1"/);
  });
});
