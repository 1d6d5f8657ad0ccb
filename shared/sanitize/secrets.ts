/**
 * Secret detectors: provider key formats, PEM private keys, JWTs, Authorization headers, URL
 * credentials, SAS signatures, AWS secret keys near AWS words, and `key = value` assignments whose
 * key names a credential (config files, env dumps, JSON, YAML, SQL/Storage/Service Bus connection
 * strings, HTTP headers).
 */
import { isOperationalId } from "./protected.js";
import { Candidates, Rank } from "./spans.js";
import { charClasses, shannonEntropy } from "./checksums.js";
import { cue, includesAny, type TextProfile } from "./profile.js";
import { asciiTable, execAt, inTable, literalStarts, stickyCopy } from "./scan.js";

/**
 * A key format that identifies itself. Its sticky pattern is tried only where a match can begin:
 * at word starts cued by `words` (the keywords its matches begin with), or `offset` characters
 * before one of `anchors` (literals every match holds).
 */
interface Format {
  kind: string;
  re: RegExp;
  cue?: number;
  anchors?: readonly string[];
  offset?: number;
}

const led = (kind: string, re: RegExp, words: readonly string[]): Format => ({ kind, re: stickyCopy(re), cue: cue(words) });
const anchored = (kind: string, re: RegExp, anchors: readonly string[], offset: number): Format => ({ kind, re: stickyCopy(re), anchors, offset });

/** Prefixes from each provider's documentation. */
const FORMATS: readonly Format[] = [
  led("github-token", /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b/, ["gh"]),
  led("github-token", /\bgithub_pat_[A-Za-z0-9_]{22,255}/, ["github_pat_"]),
  led("aws-key", /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/, ["AKIA", "ASIA", "ABIA", "ACCA"]),
  // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-) share the shape
  led("openai-key", /\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}/, ["sk-"]),
  led("slack-token", /\bxox[abposre]-[A-Za-z0-9-]{10,}/, ["xox"]),
  led("slack-token", /\bxapp-\d-[A-Za-z0-9-]{10,}/, ["xapp-"]),
  anchored("slack-webhook", /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/, ["https://hooks.slack.com/services/"], 0),
  led("stripe-key", /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}/, ["sk_", "rk_", "pk_"]),
  led("stripe-key", /\bwhsec_[A-Za-z0-9]{24,}/, ["whsec_"]),
  led("google-api-key", /\bAIza[0-9A-Za-z_-]{35}/, ["AIza"]),
  led("npm-token", /\bnpm_[A-Za-z0-9]{36}\b/, ["npm_"]),
  // Entra ID (Azure AD) client secrets: 3 chars, a digit, "Q~", 34 chars = 40
  anchored("client-secret", /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{34}(?![A-Za-z0-9_~-])/, ["Q~"], 4),
  led("jwt", /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/, ["eyJ"]),
];

const BASE64 = asciiTable(/[A-Za-z0-9+/]/);
const STORAGE_KEY_BODY = 86;

/** Azure Storage account keys: 64 random bytes → 86 base64 characters + "==", as a whole base64 run. Read back from each "==". */
function storageAccountKeys(text: string, out: Candidates): void {
  let from = 0;
  for (let q = text.indexOf("=="); q >= 0; q = text.indexOf("==", q + 1)) {
    const s = q - STORAGE_KEY_BODY;
    if (s < from || (s > 0 && inTable(BASE64, text.charCodeAt(s - 1)))) continue;
    let i = q - 1;
    while (i >= s && inTable(BASE64, text.charCodeAt(i))) i--;
    if (i >= s) continue;
    out.add("connection-string", s, q + 2, Rank.format);
    from = q + 2;
  }
}

const PEM_HEADER = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----/g;
/** A block cut short (log truncation): the header and every base64 line after it (real or JSON-escaped newlines). */
const PEM_TRUNCATED = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:(?:\\r)?(?:\\n|\r?\n)[A-Za-z0-9+/=]{16,})*/y;

/** Whole PEM blocks up to their matching footer; without one, the truncated form. Linear: each footer label is searched for at most once past a failure. */
function privateKeys(text: string, out: Candidates): void {
  const noFooter = new Set<string>();
  PEM_HEADER.lastIndex = 0;
  for (let m = PEM_HEADER.exec(text); m; m = PEM_HEADER.exec(text)) {
    const footer = `-----END ${m[1]}-----`;
    const end = noFooter.has(footer) ? -1 : text.indexOf(footer, m.index + m[0].length);
    if (end >= 0) {
      out.add("private-key", m.index, end + footer.length, Rank.format);
      PEM_HEADER.lastIndex = end + footer.length;
      continue;
    }
    noFooter.add(footer);
    PEM_TRUNCATED.lastIndex = m.index;
    const t = PEM_TRUNCATED.exec(text);
    if (t) out.add("private-key", m.index, m.index + t[0].length, Rank.format);
  }
}

const BEARER_CUE = cue(["Bearer"]);
const BEARER = stickyCopy(/\bBearer[ \t]+([A-Za-z0-9._~+/-]{8,}=*)/);
const AUTHORIZATION_SCHEMES = /^(?:Bearer|Basic|Token|Digest|SharedKey|SharedAccessSignature|Negotiate|NTLM|AWS4-HMAC-SHA256)[ \t]+/;

// the look-behind makes "sig=" begin a word
const SAS_CUE = cue(["sig="]);
const SAS_SIGNATURE = stickyCopy(/(?<![A-Za-z0-9_])sig=([^&\s"'<>;|]{10,})/);

const AWS_SECRET = stickyCopy(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/);
const AWS_WORD = /aws|secret_?access/i;
/** The lower-case spellings AWS_WORD matches; a key counts only within 100 characters after one. */
const AWS_WORDS = ["aws", "secret_access", "secretaccess"];
const AWS_REACH = 100;

const CLI_FLAG = stickyCopy(/(?<![\w-])--(?:password|passwd|pass|token|secret|api-key|apikey|client-secret|access-token|sas-token)[ =]("[^"\n]*"|'[^'\n]*'|[^\s"']+)/i);

/** "my password is hunter2": prose only counts for the password family. */
const PASSWORD_IS = stickyCopy(/\b(?:password|passwd|passcode|pwd)[ \t]+(?:is|was)[ \t]+:?[ \t]*/i);
const PASSWORD_IS_CUE = cue(["password", "passwd", "passcode", "pwd"]);
/** Cheap filter on a key's ending before normalizing it. */
const CREDENTIAL_ENDING = /(?:pass(?:word|wd|phrase)?|pwd|secret|key|token|sig|signature|credentials?|string|authorization|id)$/i;

type Family = "password" | "secret" | "token" | "weak-key" | "authorization";

/** Key-name endings (lower case, separators removed) that mark the value as a credential. Longest first. */
const KEY_ENDINGS: readonly [string, string, Family][] = [
  ["sharedaccesssignature", "sas", "secret"],
  ["sharedaccesskey", "connection-string", "secret"],
  ["secretaccesskey", "aws-key", "secret"],
  ["subscriptionkey", "api-key", "token"],
  ["connectionstring", "connection-string", "secret"],
  ["encryptionkey", "api-key", "secret"],
  ["authorization", "authorization", "authorization"],
  ["clientsecret", "client-secret", "secret"],
  ["accesskeyid", "aws-key", "token"],
  ["secondarykey", "api-key", "secret"],
  ["privatekey", "private-key", "secret"],
  ["accountkey", "connection-string", "secret"],
  ["passphrase", "password", "password"],
  ["credentials", "password", "secret"],
  ["primarykey", "api-key", "secret"],
  ["functionkey", "api-key", "secret"],
  ["credential", "password", "secret"],
  ["signingkey", "api-key", "secret"],
  ["accesskey", "api-key", "secret"],
  ["secretkey", "api-key", "secret"],
  ["masterkey", "api-key", "secret"],
  ["signature", "sas", "token"],
  ["password", "password", "password"],
  ["apikey", "api-key", "token"],
  ["hostkey", "api-key", "secret"],
  ["authkey", "api-key", "secret"],
  ["passwd", "password", "password"],
  ["secret", "secret", "secret"],
  ["token", "token", "token"],
  ["pwd", "password", "password"],
  ["sig", "sas", "token"],
  ["key", "api-key", "weak-key"],
];

/** Keys that end like a credential but name something that is not one. */
const NOT_CREDENTIAL_KEYS = new Set([
  "nexttoken", "pagetoken", "nextpagetoken", "continuationtoken", "cancellationtoken", "maxtoken", "tokentype",
  "partitionkey", "rowkey", "sortkey", "cachekey", "idempotencykey", "publickey", "foreignkey", "dedupkey",
  "groupkey", "lookupkey", "sessionkey", "messagekey", "routingkey", "hashkey", "primarykeyname", "keyvaultsecret",
]);

const PLACEHOLDER = /^(?:[A-Z]+(?:_[A-Z]+)+|(?:your|my|insert|replace|enter)[-_][-_A-Za-z]*|null|none|nil|undefined|true|false|yes|no|n\/a|\*+|x+|\.{3}|<[^>]*>|\[REDACTED[^\]]*\]?|\$\{[^}]*\}|\{\{[^}]*\}\}|%[A-Za-z_]+%|\$[A-Z_][A-Z0-9_]*)$/i;
/** Words after "password is …" that describe rather than reveal. */
const DESCRIPTIVE = /^(?:required|invalid|incorrect|wrong|expired|missing|empty|set|unset|correct|valid|too|not|being|the|a|an|now|still|hidden|redacted|masked)$/i;

function classify(key: string): [string, Family] | undefined {
  if (!CREDENTIAL_ENDING.test(key)) return undefined;
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (NOT_CREDENTIAL_KEYS.has(k)) return undefined;
  if (k === "pass") return ["password", "password"];
  for (const [ending, kind, family] of KEY_ENDINGS) if (k.endsWith(ending)) return [kind, family];
  return undefined;
}

const isKeyChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** The key that ends just before an operator at `op` (skipping blanks and one closing quote), or undefined. */
function keyBefore(text: string, op: number): string | undefined {
  let i = op - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  if (text[i] === '"' || text[i] === "'") i--;
  const end = i + 1;
  while (i >= 0 && end - i <= 64 && isKeyChar(text.charCodeAt(i))) i--;
  let start = i + 1;
  // keys start with a letter: "--password" and "-p" style prefixes are not part of the name
  while (start < end && !isLetter(text.charCodeAt(start))) start++;
  if (start >= end || (i >= 0 && isKeyChar(text.charCodeAt(i)) && end - i > 64)) return undefined;
  return text.slice(start, end);
}

const UNQUOTED_STOP = asciiTable(/[ \t\r\n"'`;,&|<>)\]}\\]/);
const PROSE_STOP = asciiTable(/[ \t\r\n"'`]/);

/** Reads the value after an assignment: quoted up to its closing quote, otherwise up to a delimiter. */
function readValue(text: string, at: number, stops: Uint8Array = UNQUOTED_STOP): { start: number; end: number; quoted: boolean } {
  const q = text[at];
  if (q === '"' || q === "'") {
    for (let i = at + 1; i < text.length; i++) {
      const c = text[i];
      if (c === "\\") {
        i++;
        continue;
      }
      if (c === "\n") break;
      if (c === q) return { start: at + 1, end: i, quoted: true };
    }
    at += 1; // unterminated quote: read it as unquoted
  }
  let end = at;
  while (end < text.length && !inTable(stops, text.charCodeAt(end))) end++;
  // a sentence full stop (or comma, in prose) is not part of the value
  while (end > at && (text[end - 1] === "." || (stops === PROSE_STOP && text[end - 1] === ","))) end--;
  return { start: at, end, quoted: false };
}

function looksRandom(v: string, minLength: number): boolean {
  if (v.length < minLength) return false;
  const c = charClasses(v);
  if (c.digit === 0 || c.upper + c.lower === 0) return false;
  return shannonEntropy(v) >= 3.0;
}

function acceptValue(value: string, family: Family, viaIs: boolean): boolean {
  if (value.length === 0 || PLACEHOLDER.test(value)) return false;
  if (viaIs) {
    if (family !== "password") return false;
    if (DESCRIPTIVE.test(value)) return false;
    const c = charClasses(value);
    return value.length >= 4 && c.digit + c.other > 0;
  }
  switch (family) {
    case "password":
      return value.length >= 3;
    case "secret":
      return value.length >= 4;
    case "authorization":
      return value.length >= 6;
    case "token": {
      if (value.length < 8) return false;
      const c = charClasses(value);
      return c.digit + c.other > 0 || (value.length >= 20 && c.upper > 0 && c.lower > 0);
    }
    case "weak-key":
      return looksRandom(value, 16);
  }
}

/** Each ":" or "=" operator, its key read backwards (cheaper than matching every identifier). */
function assignments(p: TextProfile, out: Candidates): void {
  const text = p.text;
  let resumeAt = 0;
  for (const op of p.operators) {
    if (op < resumeAt) continue;
    const key = keyBefore(text, op);
    if (!key) continue;
    const cls = classify(key);
    if (!cls) continue;
    let at = op + 1;
    if (text[at] === ">") at++; // =>
    while (text[at] === " " || text[at] === "\t") at++;
    const end = assignedValue(text, at, cls, false, out);
    if (end > 0) resumeAt = end;
  }
  execAt(PASSWORD_IS, text, p.cues(PASSWORD_IS_CUE), (m) => {
    assignedValue(text, m.index + m[0].length, ["password", "password"], true, out);
  });
}

/** Reads and judges the value at `at`; adds a candidate and returns its end, or 0. */
function assignedValue(text: string, at: number, [kind, family]: [string, Family], viaIs: boolean, out: Candidates): number {
  let value = readValue(text, at, viaIs ? PROSE_STOP : UNQUOTED_STOP);
  if (family === "authorization") {
    // keep the scheme visible, redact the credential after it
    const scheme = AUTHORIZATION_SCHEMES.exec(text.slice(value.start, value.start + 40));
    if (scheme) {
      const from = value.start + scheme[0].length;
      value = value.quoted ? { start: from, end: value.end, quoted: true } : readValue(text, from);
    }
  }
  const v = text.slice(value.start, value.end);
  if (!acceptValue(v, family, viaIs)) return 0;
  if (family !== "password" && family !== "secret" && isOperationalId(v)) return 0;
  out.add(kind, value.start, value.end, family === "weak-key" ? Rank.heuristic : Rank.assignment);
  return value.end;
}

/** user:password@ in any scheme://authority (https, postgres, mongodb+srv, amqps, redis…). */
function urlCredentials(text: string, out: Candidates): void {
  for (let i = text.indexOf("://"); i >= 0; i = text.indexOf("://", i + 3)) {
    let end = i + 3;
    let at = -1;
    let colon = -1;
    for (; end < text.length; end++) {
      const c = text[end];
      if (c === "/" || c === "?" || c === " " || c === "\t" || c === "\n" || c === "\r" || c === '"' || c === "'" || c === "<" || c === ">") break;
      if (c === "@") at = end;
      else if (c === ":" && colon < 0 && at < 0) colon = end;
    }
    if (at > 0 && colon > 0 && colon < at && at - colon > 1) out.add("password", colon + 1, at, Rank.assignment);
  }
}

/** Where an AWS secret key may begin: starts of base64 runs up to AWS_REACH characters after an AWS word. */
function awsKeyStarts(p: TextProfile): number[] {
  const text = p.text;
  const boundary = (s: number): boolean =>
    inTable(BASE64, text.charCodeAt(s)) && (s === 0 || !(inTable(BASE64, text.charCodeAt(s - 1)) || text.charCodeAt(s - 1) === 61));
  // lower-casing can change the length (İ → i̇); then positions don't line up and every run is a candidate
  if (p.lower.length !== text.length) {
    const all: number[] = [];
    for (let s = 0; s < text.length; s++) if (boundary(s)) all.push(s);
    return all;
  }
  const windows: [number, number][] = [];
  for (const w of AWS_WORDS) {
    for (let i = p.lower.indexOf(w); i >= 0; i = p.lower.indexOf(w, i + 1)) windows.push([i + w.length, i + AWS_REACH]);
  }
  windows.sort((a, b) => a[0] - b[0]);
  const starts: number[] = [];
  let next = 0;
  for (const [a, b] of windows) {
    for (let s = Math.max(a, next); s <= b && s < text.length; s++) if (boundary(s)) starts.push(s);
    next = Math.max(next, b + 1);
  }
  return starts;
}

export function detectSecrets(p: TextProfile, out: Candidates): void {
  const text = p.text;
  for (const f of FORMATS) {
    const starts = f.cue !== undefined ? p.cues(f.cue) : literalStarts(text, f.anchors ?? [], f.offset);
    execAt(f.re, text, starts, (m) => out.add(f.kind, m.index, m.index + m[0].length, Rank.format));
  }
  storageAccountKeys(text, out);

  if (text.includes("PRIVATE KEY")) privateKeys(text, out);

  execAt(BEARER, text, p.cues(BEARER_CUE), (m) => {
    const token = m[1];
    const c = charClasses(token);
    if (c.digit + c.other === 0) return; // "Bearer authentication" is prose
    const start = m.index + m[0].length - token.length;
    out.add("bearer", start, start + token.length, Rank.assignment);
  });

  execAt(SAS_SIGNATURE, text, p.cues(SAS_CUE), (m) => {
    const start = m.index + m[0].length - m[1].length;
    out.add("sas", start, m.index + m[0].length, Rank.assignment);
  });

  if (includesAny(p.lower, AWS_WORDS)) {
    execAt(AWS_SECRET, text, awsKeyStarts(p), (m) => {
      const c = charClasses(m[0]);
      if (c.upper === 0 || c.lower === 0) return; // hex digests are single-case
      if (!AWS_WORD.test(text.slice(Math.max(0, m.index - AWS_REACH), m.index))) return;
      out.add("aws-key", m.index, m.index + 40, Rank.format);
    });
  }

  execAt(CLI_FLAG, text, literalStarts(text, ["--"]), (m) => {
    let v = m[1];
    let start = m.index + m[0].length - v.length;
    if (v.startsWith('"') || v.startsWith("'")) {
      v = v.slice(1, -1);
      start += 1;
    }
    if (v && !PLACEHOLDER.test(v)) out.add("password", start, start + v.length, Rank.assignment);
  });

  if (text.includes("://")) urlCredentials(text, out);
  assignments(p, out);
}
