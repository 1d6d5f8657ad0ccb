import { inspect } from "node:util";
import { describe, expect, it } from "@jest/globals";
import { ConfigError } from "../../shared/config/config.js";
import { SinkConfig, createSink, isPermanentStatus, parseSinkConfigs, sinkAccepts } from "../../shared/tickets/sinks/index.js";
import { pagerDutyDedupKey } from "../../shared/tickets/sinks/pagerduty.js";

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("sink configuration", () => {
  it("parses every kind and fills defaults", () => {
    const sinks = parseSinkConfigs(
      JSON.stringify([
        { name: "hook", kind: "webhook", urlSetting: "HOOK_URL", secretSetting: "HOOK_SECRET" },
        { name: "desk", kind: "servicenow", instanceUrl: "https://contoso.service-now.com", auth: { type: "basic", user: "svc-runmon", passwordSetting: "SNOW_PASSWORD" } },
        { name: "jira", kind: "jira", baseUrl: "https://contoso.atlassian.net", email: "runmon@contoso.com", tokenSetting: "JIRA_API_TOKEN", projectKey: "OPS" },
        { name: "boards", kind: "azure-devops", organizationUrl: "https://dev.azure.com/contoso", project: "Payments", auth: { type: "managed-identity" } },
        { name: "oncall", kind: "pagerduty", routingKeySetting: "PD_ROUTING_KEY", owners: ["payments-team"] },
        { name: "local", kind: "file", path: "./.data/tickets.jsonl" },
      ]),
    );
    expect(sinks.map((s) => s.kind)).toEqual(["webhook", "servicenow", "jira", "azure-devops", "pagerduty", "file"]);
    expect(sinks[2]).toMatchObject({ issueType: "Bug", labels: [], timeoutMs: 10_000 });
    expect(sinks[3]).toMatchObject({ workItemType: "Bug" });
    expect(sinks[4]).toMatchObject({ baseUrl: "https://events.pagerduty.com", source: "foundry-run-monitor" });
    expect(sinkAccepts(sinks[4], "payments-team")).toBe(true);
    expect(sinkAccepts(sinks[4], "search-team")).toBe(false);
    expect(sinkAccepts(sinks[0], "search-team")).toBe(true);
  });

  it("names every bad field as TICKET_SINKS[i].field, and refuses inline secrets and plain http", () => {
    const e = configError(() =>
      parseSinkConfigs(
        JSON.stringify([
          { name: "jira", kind: "jira", baseUrl: "http://contoso.atlassian.net", email: "a@b.c", tokenSetting: "ATATT3xFfGF0 inline token", projectKey: "ops" },
          { name: "jira", kind: "pagerduty", routingKeySetting: "PD", routingKey: "abc" },
          { name: "x", kind: "email" },
        ]),
      ),
    );
    expect(e.message).toContain("TICKET_SINKS[0].baseUrl: expected an https URL");
    expect(e.message).toContain("TICKET_SINKS[0].tokenSetting: expected the NAME of an app setting");
    expect(e.message).toContain("TICKET_SINKS[0].projectKey");
    expect(e.message).toContain("TICKET_SINKS[1]");
    expect(e.message).toContain("TICKET_SINKS[2].kind");
    expect(configError(() => parseSinkConfigs("{not json")).message).toContain("TICKET_SINKS: expected a JSON array");
    expect(parseSinkConfigs(undefined)).toEqual([]);
  });

  it("rejects duplicate names and a webhook with both or neither url and urlSetting", () => {
    const e = configError(() =>
      parseSinkConfigs(
        JSON.stringify([
          { name: "a", kind: "file", path: "x" },
          { name: "a", kind: "file", path: "y" },
          { name: "b", kind: "webhook", secretSetting: "S" },
        ]),
      ),
    );
    expect(e.message).toContain('TICKET_SINKS[1].name: duplicate sink name "a"');
    expect(e.message).toContain("TICKET_SINKS[2].url: expected exactly one of url or urlSetting");
  });

  it("a missing credential setting fails at creation, naming the setting and never a value", () => {
    const config = SinkConfig.parse({ name: "jira", kind: "jira", baseUrl: "https://contoso.atlassian.net", email: "a@b.c", tokenSetting: "JIRA_API_TOKEN", projectKey: "OPS" });
    const e = configError(() => createSink(config, () => undefined));
    expect(e.message).toContain("JIRA_API_TOKEN");
    expect(e.message).toContain("Key Vault reference");
    const ok = createSink(config, (n) => (n === "JIRA_API_TOKEN" ? "ATATT-secret" : undefined));
    expect(ok.name).toBe("jira");
    // Logging the sink object must not print its credentials.
    expect(JSON.stringify(ok)).not.toContain("ATATT-secret");
    expect(inspect(ok, { depth: 10, showHidden: true })).not.toContain("ATATT-secret");
    expect(inspect(ok, { depth: 10 })).not.toContain(Buffer.from("a@b.c:ATATT-secret").toString("base64"));
  });

  it("classifies HTTP statuses", () => {
    expect([400, 401, 403, 404, 409, 413, 422].every(isPermanentStatus)).toBe(true);
    expect([408, 429, 500, 502, 503, 504].some(isPermanentStatus)).toBe(false);
  });

  it("PagerDuty dedup_key is run:reason, and a group key already ending in the reason is kept", () => {
    expect(pagerDutyDedupKey({ key: "run_abc", reason: "failed" })).toBe("run_abc:failed");
    expect(pagerDutyDedupKey({ key: "group:asst_x:stalled-queued", reason: "stalled-queued" })).toBe("group:asst_x:stalled-queued");
  });
});
