import { InputError } from "../errors.js";
import { isSecretSetting, MASK } from "./secret-settings.js";

// Drift between two environments' settings (dev/test/prod), from whatever file each one has: a
// local.settings.json (`{"Values": {…}}`), a flat JSON object, `az functionapp config appsettings
// list` output (`[{"name","value"}]`) or an azd `.env`. Pure: the CLI reads the files.

export type SettingsMap = Record<string, string>;
export type SettingsFormat = "local.settings.json" | "json" | "az-appsettings" | "dotenv";

export interface ParsedSettings {
  format: SettingsFormat;
  values: SettingsMap;
}

/** Every value as the app sees it: text (numbers and booleans as JSON writes them, objects as JSON). */
function asSettingText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function fromObject(o: Record<string, unknown>, source: string): SettingsMap {
  const out: SettingsMap = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === null || v === undefined) continue;
    if (typeof v === "object" && !Array.isArray(v) && source === "Values") throw new InputError(`Values.${k}: expected a string, got an object`);
    out[k] = asSettingText(v);
  }
  return out;
}

/** Parses one settings file; `name` only decides nothing but the messages. Throws InputError naming the line or field. */
export function parseSettingsText(text: string, name: string): ParsedSettings {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new InputError(`${name}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (Array.isArray(doc)) {
      const out: SettingsMap = {};
      doc.forEach((item, i) => {
        const it = item as { name?: unknown; value?: unknown } | null;
        if (!it || typeof it.name !== "string") throw new InputError(`${name}[${i}]: expected {"name": …, "value": …} as az functionapp config appsettings list prints`);
        if (it.value !== null && it.value !== undefined) out[it.name] = asSettingText(it.value);
      });
      return { format: "az-appsettings", values: out };
    }
    const o = doc as Record<string, unknown>;
    if ("Values" in o) {
      if (!o.Values || typeof o.Values !== "object" || Array.isArray(o.Values)) throw new InputError(`${name}: Values: expected an object of settings`);
      return { format: "local.settings.json", values: fromObject(o.Values as Record<string, unknown>, "Values") };
    }
    return { format: "json", values: fromObject(o, "json") };
  }
  return { format: "dotenv", values: parseDotenv(trimmed, name) };
}

/** azd's `.env`: KEY="value" (double quotes with \" \\ \n escapes), KEY='value', KEY=value # comment. */
export function parseDotenv(text: string, name: string): SettingsMap {
  const out: SettingsMap = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new InputError(`${name}:${i + 1}: expected KEY=value, got ${JSON.stringify(line.slice(0, 40))}`);
    const rest = m[2];
    let value: string;
    if (rest.startsWith('"')) {
      const q = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(rest);
      if (!q) throw new InputError(`${name}:${i + 1}: ${m[1]}: unterminated double-quoted value`);
      value = q[1].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
    } else if (rest.startsWith("'")) {
      const q = /^'([^']*)'\s*(#.*)?$/.exec(rest);
      if (!q) throw new InputError(`${name}:${i + 1}: ${m[1]}: unterminated single-quoted value`);
      value = q[1];
    } else {
      value = rest.replace(/\s+#.*$/, "").trim();
    }
    out[m[1]] = value;
  });
  return out;
}

export type DriftKind = "added" | "removed" | "changed";

export interface Drift {
  kind: DriftKind;
  /** The setting, and inside a JSON setting the path: `FOUNDRY_PROJECTS[prod].endpoint`. */
  path: string;
  /** Shown values (masked when secret); absent on the side where the path does not exist. */
  from?: string;
  to?: string;
  secret: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function parseJsonSetting(value: string): Json | undefined {
  const t = value.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return undefined;
  try {
    return JSON.parse(t) as Json;
  } catch {
    return undefined;
  }
}

/** Arrays whose items all have distinct `name`s (projects, sinks) are compared by name: their order does not matter. */
function namedItems(a: Json[]): Map<string, Json> | undefined {
  const m = new Map<string, Json>();
  for (const item of a) {
    if (!item || typeof item !== "object" || Array.isArray(item) || typeof item.name !== "string" || m.has(item.name)) return undefined;
    m.set(item.name, item);
  }
  return m;
}

const show = (v: Json): string => (typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v));

function diffJson(path: string, leafName: string, a: Json | undefined, b: Json | undefined, secretParent: boolean, out: Drift[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const secret = secretParent || isSecretSetting(leafName, typeof a === "string" ? a : undefined) || isSecretSetting(leafName, typeof b === "string" ? b : undefined);
  const masked = (v: Json | undefined) => (v === undefined ? undefined : secret ? MASK : show(v));
  if (a === undefined) return void out.push({ kind: "added", path, to: masked(b), secret });
  if (b === undefined) return void out.push({ kind: "removed", path, from: masked(a), secret });
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = namedItems(a);
    const nb = namedItems(b);
    if (na && nb) {
      for (const k of new Set([...na.keys(), ...nb.keys()])) diffJson(`${path}[${k}]`, k, na.get(k), nb.get(k), secret, out);
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffJson(`${path}[${i}]`, leafName, a[i], b[i], secret, out);
    return;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffJson(`${path}.${k}`, k, a[k], b[k], secret, out);
    return;
  }
  out.push({ kind: "changed", path, from: masked(a), to: masked(b), secret });
}

/** Settings in `a` and not in `b` are removed, in `b` and not `a` added; JSON settings are compared by structure, not text. */
export function diffSettings(a: SettingsMap, b: SettingsMap, options: { ignore?: readonly string[] } = {}): Drift[] {
  const ignore = new Set(options.ignore ?? []);
  const out: Drift[] = [];
  for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (ignore.has(name)) continue;
    const va = a[name];
    const vb = b[name];
    if (va === vb) continue;
    const secret = (va !== undefined && isSecretSetting(name, va)) || (vb !== undefined && isSecretSetting(name, vb));
    const ja = va === undefined ? undefined : parseJsonSetting(va);
    const jb = vb === undefined ? undefined : parseJsonSetting(vb);
    if (ja !== undefined && jb !== undefined && !secret) {
      diffJson(name, name, ja, jb, false, out);
      continue;
    }
    const shown = (v: string | undefined) => (v === undefined ? undefined : secret ? MASK : JSON.stringify(v));
    if (va === undefined) out.push({ kind: "added", path: name, to: shown(vb), secret });
    else if (vb === undefined) out.push({ kind: "removed", path: name, from: shown(va), secret });
    else out.push({ kind: "changed", path: name, from: shown(va), to: shown(vb), secret });
  }
  return out;
}

/** For people: one line per drift, then a count. */
export function renderDrift(drift: readonly Drift[], nameA: string, nameB: string): string[] {
  if (drift.length === 0) return [`no drift: ${nameA} and ${nameB} hold the same settings`];
  const lines = [`drift from ${nameA} to ${nameB}:`];
  for (const d of drift) {
    if (d.kind === "added") lines.push(`  + ${d.path} = ${d.to}`);
    else if (d.kind === "removed") lines.push(`  - ${d.path} (was ${d.from})`);
    else lines.push(d.secret ? `  ~ ${d.path}: ${MASK.replace(")", ", changed)")}` : `  ~ ${d.path}: ${d.from} → ${d.to}`);
  }
  const count = (k: DriftKind) => drift.filter((d) => d.kind === k).length;
  lines.push(`${count("added")} added, ${count("removed")} removed, ${count("changed")} changed`);
  return lines;
}
