import { sanitize } from "../sanitize/index.js";

// Which settings may be shown in a report, a diff or a change record. A setting is treated as a
// secret when its name says so or its value looks like one; Key Vault references are pointers, not
// secrets, and stay visible so drift in them can be seen.

const SECRET_NAME = /(password|passwd|pwd|secret|token|apikey|api_key|accountkey|account_key|sharedaccess|signature|connectionstring|connection_string|(^|[_.])(key|sas|sig)$|key$)/i;
/** Names that end like a secret but hold an identifier or a mode. */
const NOT_SECRET_NAME = /(__clientId|__credential|CLIENT_ID|TENANT_ID|_SETTING|Setting)$/;
const SECRET_VALUE = /(AccountKey=|SharedAccessKey=|SharedAccessSignature=|[?&;]sig=|Password=|pwd=|-----BEGIN [A-Z ]*PRIVATE KEY-----)/i;
const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(/;

export function isKeyVaultReference(value: string): boolean {
  return KEY_VAULT_REFERENCE.test(value.trim());
}

/** Whether `name = value` must not be shown. `value` may be omitted when only the name is known. */
export function isSecretSetting(name: string, value?: string): boolean {
  if (value !== undefined && isKeyVaultReference(value)) return false;
  if (SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name)) return true;
  if (value === undefined) return false;
  // The sanitizer knows token formats (JWTs, provider keys…); a value it would change is not shown.
  return SECRET_VALUE.test(value) || sanitize(value) !== value;
}

export const MASK = "(secret, not shown)";

/** The value as a report may show it. */
export function shownValue(name: string, value: string): string {
  return isSecretSetting(name, value) ? MASK : value;
}
