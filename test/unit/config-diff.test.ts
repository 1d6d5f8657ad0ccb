import { describe, expect, test } from "@jest/globals";
import { InputError } from "../../shared/errors.js";
import { diffSettings, parseSettingsText, renderDrift } from "../../shared/doctor/config-diff.js";
import { isSecretSetting } from "../../shared/doctor/secret-settings.js";

const projects = (endpointB = "https://b.services.ai.azure.com/api/projects/prod") =>
  JSON.stringify([
    { name: "prod", endpoint: endpointB, api: "both" },
    { name: "eu", endpoint: "https://eu.services.ai.azure.com/api/projects/eu", api: "classic" },
  ]);

describe("reading settings files", () => {
  test("local.settings.json takes Values; a flat object takes every key; numbers become text", () => {
    expect(parseSettingsText(JSON.stringify({ IsEncrypted: false, Values: { A: "1", B: "x" } }), "l.json")).toEqual({ format: "local.settings.json", values: { A: "1", B: "x" } });
    expect(parseSettingsText(JSON.stringify({ POLL_INTERVAL_SECONDS: 30, ON: true }), "f.json")).toEqual({ format: "json", values: { POLL_INTERVAL_SECONDS: "30", ON: "true" } });
  });

  test("az functionapp config appsettings list output", () => {
    const text = JSON.stringify([{ name: "A", value: "1", slotSetting: false }, { name: "B", value: null }]);
    expect(parseSettingsText(text, "az.json")).toEqual({ format: "az-appsettings", values: { A: "1" } });
  });

  test("azd .env: quotes, escapes, comments, export", () => {
    const text = [
      "# written by azd",
      'AZURE_ENV_NAME="prod"',
      'FOUNDRY_PROJECTS="[{\\"name\\":\\"prod\\",\\"endpoint\\":\\"https://p/api/projects/prod\\"}]"',
      "export POLL_INTERVAL_SECONDS=30 # seconds",
      "SINGLE='a b # not a comment'",
      "",
    ].join("\n");
    const { format, values } = parseSettingsText(text, ".env");
    expect(format).toBe("dotenv");
    expect(values).toEqual({
      AZURE_ENV_NAME: "prod",
      FOUNDRY_PROJECTS: '[{"name":"prod","endpoint":"https://p/api/projects/prod"}]',
      POLL_INTERVAL_SECONDS: "30",
      SINGLE: "a b # not a comment",
    });
  });

  test("bad input names the file and the line", () => {
    expect(() => parseSettingsText("{ nope", "a.json")).toThrow(/a\.json: not valid JSON/);
    expect(() => parseSettingsText("GOOD=1\nthis is not a setting", "b.env")).toThrow(/b\.env:2: expected KEY=value/);
    expect(() => parseSettingsText('A="open', "c.env")).toThrow(InputError);
    expect(() => parseSettingsText(JSON.stringify({ Values: [] }), "d.json")).toThrow(/Values: expected an object/);
  });
});

describe("drift", () => {
  test("same settings in another order and format: no drift", () => {
    const a = parseSettingsText(JSON.stringify({ Values: { A: "1", FOUNDRY_PROJECTS: projects() } }), "a").values;
    const reordered = JSON.stringify(JSON.parse(projects()).reverse());
    const b = parseSettingsText(`FOUNDRY_PROJECTS='${reordered}'\nA=1\n`, "b").values;
    expect(diffSettings(a, b)).toEqual([]);
    expect(renderDrift([], "a", "b")).toEqual(["no drift: a and b hold the same settings"]);
  });

  test("added, removed and changed settings; JSON settings compared by structure", () => {
    const a = { POLL_INTERVAL_SECONDS: "30", DASHBOARD_BASE_URL: "https://dev", FOUNDRY_PROJECTS: projects("https://a.services.ai.azure.com/api/projects/prod") };
    const b = { POLL_INTERVAL_SECONDS: "60", SHARD_COUNT: "32", FOUNDRY_PROJECTS: projects() };
    const drift = diffSettings(a, b);
    expect(drift).toEqual([
      { kind: "removed", path: "DASHBOARD_BASE_URL", from: '"https://dev"', secret: false },
      { kind: "changed", path: "FOUNDRY_PROJECTS[prod].endpoint", from: '"https://a.services.ai.azure.com/api/projects/prod"', to: '"https://b.services.ai.azure.com/api/projects/prod"', secret: false },
      { kind: "changed", path: "POLL_INTERVAL_SECONDS", from: '"30"', to: '"60"', secret: false },
      { kind: "added", path: "SHARD_COUNT", to: '"32"', secret: false },
    ]);
    const text = renderDrift(drift, "test", "prod").join("\n");
    expect(text).toContain('  ~ FOUNDRY_PROJECTS[prod].endpoint: "https://a.services.ai.azure.com/api/projects/prod" → "https://b.services.ai.azure.com/api/projects/prod"');
    expect(text).toContain("1 added, 1 removed, 2 changed");
  });

  test("policy overrides are ordered (first match wins): a reorder is drift", () => {
    const p = (o: unknown[]) => JSON.stringify({ defaults: { severity: "medium" }, overrides: o });
    const x = { match: { agentId: "asst_a" }, severity: "high" };
    const y = { match: { agentId: "asst_b" }, severity: "low" };
    const drift = diffSettings({ MONITOR_POLICIES: p([x, y]) }, { MONITOR_POLICIES: p([y, x]) });
    expect(drift.map((d) => d.path)).toEqual(expect.arrayContaining(["MONITOR_POLICIES.overrides[0].match.agentId", "MONITOR_POLICIES.overrides[0].severity"]));
  });

  test("secrets are masked whether the name or the value gives them away; Key Vault references stay visible", () => {
    const a = {
      ServiceBusConnection: "Endpoint=sb://dev.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=devValue0001",
      JIRA_API_TOKEN: "dev-token-value-1",
      WEBHOOK_SECRET: "@Microsoft.KeyVault(SecretUri=https://kv-dev.vault.azure.net/secrets/hook)",
      TICKET_SINKS: JSON.stringify([{ name: "jira", kind: "jira", tokenSetting: "JIRA_API_TOKEN" }]),
    };
    const b = {
      ServiceBusConnection: "Endpoint=sb://prod.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=prodValue002",
      JIRA_API_TOKEN: "prod-token-value-2",
      WEBHOOK_SECRET: "@Microsoft.KeyVault(SecretUri=https://kv-prod.vault.azure.net/secrets/hook)",
      TICKET_SINKS: JSON.stringify([{ name: "jira", kind: "jira", tokenSetting: "JIRA_PROD_TOKEN" }]),
    };
    const drift = diffSettings(a, b);
    const text = JSON.stringify(drift) + renderDrift(drift, "dev", "prod").join("\n");
    for (const secret of ["devValue0001", "prodValue002", "dev-token-value-1", "prod-token-value-2"]) expect(text).not.toContain(secret);
    expect(drift.find((d) => d.path === "ServiceBusConnection")).toMatchObject({ kind: "changed", secret: true });
    expect(drift.find((d) => d.path === "JIRA_API_TOKEN")).toMatchObject({ kind: "changed", secret: true });
    expect(text).toContain("kv-prod.vault.azure.net");
    // Sink configs hold the NAMES of secret settings, which are not secrets.
    expect(drift.find((d) => d.path === "TICKET_SINKS[jira].tokenSetting")).toMatchObject({ from: '"JIRA_API_TOKEN"', to: '"JIRA_PROD_TOKEN"', secret: false });
    expect(renderDrift(drift, "dev", "prod")).toContain("  ~ JIRA_API_TOKEN: (secret, not shown, changed)");
  });

  test("--ignore leaves settings out", () => {
    expect(diffSettings({ WEBSITE_CONTENTSHARE: "a", X: "1" }, { WEBSITE_CONTENTSHARE: "b", X: "1" }, { ignore: ["WEBSITE_CONTENTSHARE"] })).toEqual([]);
  });
});

describe("which settings are secret", () => {
  test.each([
    ["AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc==;EndpointSuffix=core.windows.net", true],
    ["APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=00000000-0000-0000-0000-000000000000", true],
    ["PAGERDUTY_ROUTING_KEY", "r0utingvalue", true],
    ["AzureWebJobsStorage__credential", "managedidentity", false],
    ["AzureWebJobsStorage__clientId", "11111111-2222-3333-4444-555555555555", false],
    ["POLL_INTERVAL_SECONDS", "30", false],
    ["DASHBOARD_BASE_URL", "https://monitor.contoso.example", false],
    ["SOME_URL", "https://st.blob.core.windows.net/c/b?sv=2024-08-04&sig=abcdefghijklmnopqrstuvwxyz", true],
  ])("%s", (name, value, secret) => {
    expect(isSecretSetting(name, value)).toBe(secret);
  });
});
