import { errorResponse } from "./errors.js";
import type { ApiResponse, AuthMode } from "./types.js";

// Two gates, both required in Azure: the Functions host checks the function key (authLevel
// "function") before our code runs, and App Service authentication (Easy Auth) signs the caller in
// and forwards who they are in `x-ms-client-principal`. Easy Auth strips that header from incoming
// requests, so only the platform can set it; we check the app roles it carries.

export const PRINCIPAL_HEADER = "x-ms-client-principal";

/** App roles defined on the app registration. Operator can do everything a Reader can, and change state. */
export type ApiRole = "Reader" | "Operator";

export interface ClientPrincipal {
  authType?: string;
  roles: string[];
}

// Entra ID sends app roles as `roles`; some providers use the long WS-Federation claim type, and
// the principal names its role claim type in `role_typ`.
const ROLE_CLAIM_TYPES = new Set(["roles", "role", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"]);

/** Decodes the base64 JSON principal. Returns undefined for a missing header, "invalid" for one that is not a principal. */
export function decodePrincipal(header: string | null | undefined): ClientPrincipal | "invalid" | undefined {
  if (header === null || header === undefined || header.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header.trim(), "base64").toString("utf8"));
  } catch {
    return "invalid";
  }
  if (typeof parsed !== "object" || parsed === null) return "invalid";
  const p = parsed as { auth_typ?: unknown; role_typ?: unknown; claims?: unknown };
  if (!Array.isArray(p.claims)) return "invalid";
  const roleTypes = new Set(ROLE_CLAIM_TYPES);
  if (typeof p.role_typ === "string") roleTypes.add(p.role_typ);
  const roles: string[] = [];
  for (const c of p.claims as unknown[]) {
    if (typeof c !== "object" || c === null) continue;
    const { typ, val } = c as { typ?: unknown; val?: unknown };
    if (typeof typ === "string" && typeof val === "string" && roleTypes.has(typ)) roles.push(val);
  }
  return { authType: typeof p.auth_typ === "string" ? p.auth_typ : undefined, roles };
}

export function hasRole(principal: ClientPrincipal, required: ApiRole): boolean {
  if (principal.roles.includes("Operator")) return true;
  return required === "Reader" && principal.roles.includes("Reader");
}

export type AuthDecision = { ok: true; principal?: ClientPrincipal } | { ok: false; response: ApiResponse };

export function authorize(mode: AuthMode, principalHeader: string | null | undefined, required: ApiRole): AuthDecision {
  if (mode === "local-open") return { ok: true };
  const principal = decodePrincipal(principalHeader);
  if (principal === undefined) {
    return { ok: false, response: errorResponse(401, "unauthenticated", "sign-in required: no App Service authentication principal on the request") };
  }
  if (principal === "invalid") {
    return { ok: false, response: errorResponse(401, "unauthenticated", `the ${PRINCIPAL_HEADER} header is not a base64 JSON principal`) };
  }
  if (!hasRole(principal, required)) {
    return { ok: false, response: errorResponse(403, "forbidden", `this call needs the ${required} role; the signed-in principal has ${principal.roles.length ? principal.roles.join(", ") : "no roles"}`) };
  }
  return { ok: true, principal };
}

/**
 * Reads API_AUTH_MODE. `local-open` exists for the local stack only; refusing it when
 * WEBSITE_SITE_NAME is set (App Service sets it on every app) keeps a copied setting from opening
 * a deployed API.
 */
export function resolveAuthMode(env: Record<string, string | undefined>): { ok: true; mode: AuthMode } | { ok: false; problem: string } {
  const raw = env.API_AUTH_MODE?.trim();
  if (raw === undefined || raw === "" || raw === "principal") return { ok: true, mode: "principal" };
  if (raw !== "local-open") return { ok: false, problem: `API_AUTH_MODE: expected "principal" or "local-open", got ${JSON.stringify(raw)}` };
  if (env.WEBSITE_SITE_NAME) return { ok: false, problem: "API_AUTH_MODE: local-open is refused in Azure (WEBSITE_SITE_NAME is set); remove the setting" };
  return { ok: true, mode: "local-open" };
}
