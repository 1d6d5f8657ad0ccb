import { describe, expect, it } from "@jest/globals";
import { ConfigError, loadSettings } from "../../shared/config/config.js";

const good = {
  FOUNDRY_PROJECTS: JSON.stringify([{ name: "prod", endpoint: "https://contoso.services.ai.azure.com/api/projects/prod", api: "both" }]),
  AzureWebJobsStorage__tableServiceUri: "https://st.table.core.windows.net",
  AzureWebJobsStorage__queueServiceUri: "https://st.queue.core.windows.net",
  ServiceBusConnection__fullyQualifiedNamespace: "contoso.servicebus.windows.net",
};

describe("settings", () => {
  it("accepts a minimal identity-based configuration and fills defaults", () => {
    const s = loadSettings(good);
    expect(s.POLL_INTERVAL_SECONDS).toBe(30);
    expect(s.FOUNDRY_PROJECTS[0]).toMatchObject({ name: "prod", api: "both", discovery: false });
  });

  it("reports every bad or missing setting in one message, naming each", () => {
    let error: unknown;
    try {
      loadSettings({
        FOUNDRY_PROJECTS: JSON.stringify([{ name: "a", endpoint: "https://x/api/projects/a" }, { name: "b", endpoint: "contoso-proj" }]),
        POLL_INTERVAL_SECONDS: "0",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('FOUNDRY_PROJECTS[1].endpoint: expected an https URL');
    expect(message).toContain('POLL_INTERVAL_SECONDS: expected an integer between 5 and 3600, got "0"');
    expect(message).toContain("AzureWebJobsStorage__tableServiceUri");
    expect(message).toContain("ServiceBusConnection__fullyQualifiedNamespace");
  });

  it("names a setting that is not JSON", () => {
    expect(() => loadSettings({ ...good, FOUNDRY_PROJECTS: "[oops" })).toThrow(/FOUNDRY_PROJECTS: expected JSON/);
  });

  it("rejects duplicate project names", () => {
    const dup = JSON.stringify([{ name: "p", endpoint: "https://a/api/projects/p" }, { name: "p", endpoint: "https://b/api/projects/p" }]);
    expect(() => loadSettings({ ...good, FOUNDRY_PROJECTS: dup })).toThrow(/FOUNDRY_PROJECTS\[1\]\.name: duplicate project name "p"/);
  });
});
