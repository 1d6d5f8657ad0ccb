/**
 * Secret detectors: provider key formats, PEM private keys, JWTs, Authorization headers, URL
 * credentials, SAS signatures, AWS secret keys near AWS words, and `key = value` assignments whose
 * key names a credential (config files, env dumps, JSON, YAML, SQL/Storage/Service Bus connection
 * strings, HTTP headers).
 */
import { isOperationalId } from "./protected.js";
import { Candidates, Rank } from "./spans.js";
import { charClasses, shannonEntropy } from "./checksums.js";
import { cue, type TextProfile } from "./profile.js";
import { ReversedTrie, WordEndings, asciiTable, codeAt, execAt, inTable, literalStarts, stickyCopy } from "./scan.js";

/**
 * A key format that identifies itself. Its sticky pattern is tried only where a match can begin:
 * at word starts cued by `words` (the keywords its matches begin with), or `offset` characters
 * before one of `anchors` (literals every match holds), looked for only when the profile says the
 * anchor's telltale characters are `present`.
 */
interface Format {
  re: RegExp;
  /** adds a match as this format's kind */
  add: (m: RegExpExecArray, out: Candidates) => void;
  cue?: number;
  anchors?: readonly string[];
  offset?: number;
  present?: (p: TextProfile) => boolean;
}

const addAs =
  (kind: string) =>
  (m: RegExpExecArray, out: Candidates): void =>
    out.add(kind, m.index, m.index + m[0].length, Rank.format);
const led = (kind: string, re: RegExp, words: readonly string[]): Format => ({ re: stickyCopy(re), add: addAs(kind), cue: cue(words) });
const anchored = (kind: string, re: RegExp, anchors: readonly string[], offset: number, present: (p: TextProfile) => boolean): Format => ({
  re: stickyCopy(re),
  add: addAs(kind),
  anchors,
  offset,
  present,
});

/** Prefixes from each provider's documentation. */
const FORMATS: readonly Format[] = [
  led("github-token", /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b/, ["gh"]),
  led("github-token", /\bgithub_pat_[A-Za-z0-9_]{22,255}/, ["github_pat_"]),
  led("aws-key", /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/, ["AKIA", "ASIA", "ABIA", "ACCA"]),
  // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-) share the shape
  led("openai-key", /\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}/, ["sk-"]),
  led("slack-token", /\bxox[abposre]-[A-Za-z0-9-]{10,}/, ["xox"]),
  led("slack-token", /\bxapp-\d-[A-Za-z0-9-]{10,}/, ["xapp-"]),
  // anchored on its "://": a short literal is found far faster than the whole URL
  anchored("slack-webhook", /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/, ["://"], 5, (p) => p.scheme),
  led("stripe-key", /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}/, ["sk_", "rk_", "pk_"]),
  led("stripe-key", /\bwhsec_[A-Za-z0-9]{24,}/, ["whsec_"]),
  led("google-api-key", /\bAIza[0-9A-Za-z_-]{35}/, ["AIza"]),
  led("npm-token", /\bnpm_[A-Za-z0-9]{36}\b/, ["npm_"]),
  // Entra ID (Azure AD) client secrets: 3 chars, a digit, "Q~", 34 chars = 40
  anchored("client-secret", /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{34}(?![A-Za-z0-9_~-])/, ["Q~"], 4, (p) => p.tilde),
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

/** AWS secret access keys are 40 base64 characters; one counts only within 100 characters after an AWS word. */
const AWS_SECRET_LENGTH = 40;
const AWS_WORD = /aws|secret_?access/i;
const AWS_REACH = 100;

const CLI_FLAG = stickyCopy(/(?<![\w-])--(?:password|passwd|pass|token|secret|api-key|apikey|client-secret|access-token|sas-token)[ =]("[^"\n]*"|'[^'\n]*'|[^\s"']+)/i);

/** "my password is hunter2": prose only counts for the password family. */
const PASSWORD_IS = stickyCopy(/\b(?:password|passwd|passcode|pwd)[ \t]+(?:is|was)[ \t]+:?[ \t]*/i);
const PASSWORD_IS_CUE = cue(["password", "passwd", "passcode", "pwd"]);
/**
 * Cheap filter on a key's ending, read backwards from the operator before the key is even cut out:
 * most operators follow keys like "code" or "https" and are dropped after a character or two.
 */
const CREDENTIAL_ENDINGS = new WordEndings([
  "pass", "password", "passwd", "passphrase", "pwd", "secret", "key", "token", "sig", "signature",
  "credential", "credentials", "string", "authorization", "id",
]);

type Family = "password" | "secret" | "token" | "weak-key" | "authorization";
/** What a credential key's value is redacted as, and how its value is judged. */
type KeyClass = readonly [kind: string, family: Family];
const PASSWORD: KeyClass = ["password", "password"];

/** Key-name endings (lower case, separators removed) that mark the value as a credential. Longest first. */
const KEY_ENDINGS: readonly [string, ...KeyClass][] = [
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

/**
 * Key names compared lower-cased with their separators (_ . -) dropped, read backwards from the last
 * character: a trie of the reversed names, so a key is classified without being cut out or copied.
 * An ending classifies any key that ends with it (the longest wins); a whole name only the key that
 * is exactly it, and overrides the endings (null: not a credential).
 */
class KeyNames {
  private readonly trie = new ReversedTrie();
  private readonly ending: (KeyClass | undefined)[];
  private readonly whole: (KeyClass | null | undefined)[];

  constructor(endings: readonly (readonly [string, ...KeyClass])[], wholeNames: ReadonlyMap<string, KeyClass | null>) {
    const endingNodes = endings.map(([name, kind, family]): [number, KeyClass] => [this.trie.node(name), [kind, family]]);
    const wholeNodes = [...wholeNames].map(([name, cls]): [number, KeyClass | null] => [this.trie.node(name), cls]);
    this.ending = new Array<KeyClass | undefined>(this.trie.size).fill(undefined);
    this.whole = new Array<KeyClass | null | undefined>(this.trie.size).fill(undefined);
    for (const [node, cls] of endingNodes) this.ending[node] = cls;
    for (const [node, cls] of wholeNodes) this.whole[node] = cls;
  }

  classify(text: string, start: number, end: number): KeyClass | undefined {
    let node = 0;
    let best: KeyClass | undefined;
    for (let i = end - 1; i >= start; i--) {
      const c = text.charCodeAt(i);
      if (c === 95 || c === 46 || c === 45) continue;
      node = this.trie.step(node, c);
      if (node === 0) return best;
      best = this.ending[node] ?? best;
    }
    const whole = this.whole[node];
    return whole === undefined ? best : (whole ?? undefined);
  }
}

const KEY_NAMES = new KeyNames(
  KEY_ENDINGS,
  new Map<string, KeyClass | null>([["pass", PASSWORD], ...[...NOT_CREDENTIAL_KEYS].map((k): [string, null] => [k, null])]),
);

const isKeyChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** Where the key before an operator at `op` ends, past blanks and one closing quote. */
function keyEnd(text: string, op: number): number {
  let i = op - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  if (text[i] === '"' || text[i] === "'") i--;
  return i + 1;
}

/** Where the key that ends at `end` (see keyEnd) begins, or -1 when there is none. */
function keyStart(text: string, end: number): number {
  let i = end - 1;
  while (i >= 0 && end - i <= 64 && isKeyChar(text.charCodeAt(i))) i--;
  let start = i + 1;
  // keys start with a letter: "--password" and "-p" style prefixes are not part of the name
  while (start < end && !isLetter(text.charCodeAt(start))) start++;
  if (start >= end || (i >= 0 && isKeyChar(text.charCodeAt(i)) && end - i > 64)) return -1;
  return start;
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
    const keyEndsAt = keyEnd(text, op);
    if (!CREDENTIAL_ENDINGS.endsAt(text, keyEndsAt)) continue;
    const key = keyStart(text, keyEndsAt);
    if (key < 0) continue;
    const cls = KEY_NAMES.classify(text, key, keyEndsAt);
    if (!cls) continue;
    let at = op + 1;
    if (text[at] === ">") at++; // =>
    while (text[at] === " " || text[at] === "\t") at++;
    const end = assignedValue(text, at, cls, false, out);
    if (end > 0) resumeAt = end;
  }
  execAt(PASSWORD_IS, text, p.cues(PASSWORD_IS_CUE), passwordIs, out);
}

/** The value after "password is". */
function passwordIs(m: RegExpExecArray, out: Candidates): void {
  assignedValue(m.input, m.index + m[0].length, PASSWORD, true, out);
}

/** Reads and judges the value at `at`; adds a candidate and returns its end, or 0. */
function assignedValue(text: string, at: number, [kind, family]: KeyClass, viaIs: boolean, out: Candidates): number {
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

/**
 * AWS secret access keys: a whole run of exactly 40 base64 characters, no "=" on either side, mixed
 * case (hex digests are single-case), within AWS_REACH characters after an AWS word. Such a run lies
 * inside one of the profile's token runs (whose alphabet adds _ ~ -), so only runs of 40 or more
 * are split into their base64 runs.
 */
function awsSecretKeys(p: TextProfile, out: Candidates): void {
  const text = p.text;
  const runs = p.tokenRuns;
  let longRun = false;
  for (let r = 0; r < runs.length && !longRun; r += 2) longRun = runs[r + 1] - runs[r] >= AWS_SECRET_LENGTH;
  // without an AWS word anywhere no key can count: one native scan saves walking every long run
  if (!longRun || !AWS_WORD.test(text)) return;
  for (let r = 0; r < runs.length; r += 2) {
    const runEnd = runs[r + 1];
    if (runEnd - runs[r] < AWS_SECRET_LENGTH) continue;
    for (let s = runs[r]; s < runEnd; ) {
      let e = s;
      while (e < runEnd && inTable(BASE64, text.charCodeAt(e))) e++;
      if (e - s === AWS_SECRET_LENGTH && codeAt(text, s - 1) !== 61 && codeAt(text, e) !== 61) {
        const c = charClasses(text, s, e);
        if (c.upper > 0 && c.lower > 0 && AWS_WORD.test(text.slice(Math.max(0, s - AWS_REACH), s))) {
          out.add("aws-key", s, e, Rank.format);
        }
      }
      s = e + 1; // past the _ ~ or - that ended the base64 run
    }
  }
}

export function detectSecrets(p: TextProfile, out: Candidates): void {
  const text = p.text;
  for (const f of FORMATS) {
    if (f.present && !f.present(p)) continue;
    const starts = f.cue !== undefined ? p.cues(f.cue) : literalStarts(text, f.anchors ?? [], f.offset);
    if (starts.length > 0) execAt(f.re, text, starts, f.add, out);
  }
  if (p.doubleEquals) storageAccountKeys(text, out);

  if (text.includes("PRIVATE KEY")) privateKeys(text, out);

  execAt(BEARER, text, p.cues(BEARER_CUE), bearerToken, out);
  execAt(SAS_SIGNATURE, text, p.cues(SAS_CUE), sasSignature, out);

  awsSecretKeys(p, out);

  if (p.doubleDash) cliFlags(text, out);
  if (p.scheme) urlCredentials(text, out);
  assignments(p, out);
}

function bearerToken(m: RegExpExecArray, out: Candidates): void {
  const token = m[1];
  const c = charClasses(token);
  if (c.digit + c.other === 0) return; // "Bearer authentication" is prose
  const start = m.index + m[0].length - token.length;
  out.add("bearer", start, start + token.length, Rank.assignment);
}

function sasSignature(m: RegExpExecArray, out: Candidates): void {
  const start = m.index + m[0].length - m[1].length;
  out.add("sas", start, m.index + m[0].length, Rank.assignment);
}

/** `--password hunter2`, `--token=…` on a command line. */
function cliFlags(text: string, out: Candidates): void {
  execAt(CLI_FLAG, text, literalStarts(text, ["--"]), cliFlagValue, out);
}

function cliFlagValue(m: RegExpExecArray, out: Candidates): void {
  let v = m[1];
  let start = m.index + m[0].length - v.length;
  if (v.startsWith('"') || v.startsWith("'")) {
    v = v.slice(1, -1);
    start += 1;
  }
  if (v && !PLACEHOLDER.test(v)) out.add("password", start, start + v.length, Rank.assignment);
}
