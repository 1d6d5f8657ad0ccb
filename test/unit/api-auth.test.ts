import { describe, expect, test } from "@jest/globals";
import { authorize, decodePrincipal, hasRole, resolveAuthMode } from "../../shared/api/auth.js";

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64");

// The shape App Service authentication forwards for an Entra ID sign-in.
const entraPrincipal = (roles: string[]) =>
  b64({
    auth_typ: "aad",
    name_typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    claims: [{ typ: "name", val: "Reviewer" }, ...roles.map((val) => ({ typ: "roles", val }))],
  });

describe("decodePrincipal", () => {
  test("reads roles from `roles` claims and from the principal's role_typ", () => {
    expect(decodePrincipal(entraPrincipal(["Reader"]))).toEqual({ authType: "aad", roles: ["Reader"] });
    const custom = b64({ auth_typ: "x", role_typ: "app-role", claims: [{ typ: "app-role", val: "Operator" }, { typ: "groups", val: "Reader" }] });
    expect(decodePrincipal(custom)).toEqual({ authType: "x", roles: ["Operator"] });
  });

  test("missing vs not a principal", () => {
    expect(decodePrincipal(undefined)).toBeUndefined();
    expect(decodePrincipal("")).toBeUndefined();
    expect(decodePrincipal("!!!")).toBe("invalid");
    expect(decodePrincipal(b64({ user: "x" }))).toBe("invalid");
    expect(decodePrincipal(b64("a string"))).toBe("invalid");
  });
});

describe("authorize", () => {
  test("401 without a principal, 403 without the role, ok with it", () => {
    const none = authorize("principal", undefined, "Reader");
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.response).toMatchObject({ status: 401, json: { error: { code: "unauthenticated" } } });
    const wrong = authorize("principal", entraPrincipal(["Contributor"]), "Reader");
    if (wrong.ok) throw new Error("expected a refusal");
    expect(wrong.response).toMatchObject({ status: 403, json: { error: { code: "forbidden", message: expect.stringContaining("Contributor") } } });
    expect(authorize("principal", entraPrincipal(["Reader"]), "Reader").ok).toBe(true);
  });

  test("Operator includes Reader; Reader does not include Operator", () => {
    expect(hasRole({ roles: ["Operator"] }, "Reader")).toBe(true);
    expect(hasRole({ roles: ["Reader"] }, "Operator")).toBe(false);
    const r = authorize("principal", entraPrincipal(["Reader"]), "Operator");
    expect(r.ok ? 200 : r.response.status).toBe(403);
  });

  test("local-open needs no principal", () => {
    expect(authorize("local-open", undefined, "Operator").ok).toBe(true);
  });
});

describe("resolveAuthMode", () => {
  test("principal by default, local-open only outside Azure", () => {
    expect(resolveAuthMode({})).toEqual({ ok: true, mode: "principal" });
    expect(resolveAuthMode({ API_AUTH_MODE: "local-open" })).toEqual({ ok: true, mode: "local-open" });
    const azure = resolveAuthMode({ API_AUTH_MODE: "local-open", WEBSITE_SITE_NAME: "func-runmon-x7k2" });
    expect(azure.ok).toBe(false);
    if (!azure.ok) expect(azure.problem).toMatch(/refused in Azure/);
    expect(resolveAuthMode({ API_AUTH_MODE: "open" })).toEqual({ ok: false, problem: 'API_AUTH_MODE: expected "principal" or "local-open", got "open"' });
  });
});
