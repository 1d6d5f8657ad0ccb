/**
 * Personal-data detectors: e-mail, phone (E.164-style international and North American), payment
 * card (Luhn), US SSN, UK NINO and labelled national IDs, IBAN (mod-97), IPv4/IPv6, and person names
 * in fields that obviously hold one.
 */
import { ibanValid, luhnValid } from "./checksums.js";
import { cue, type TextProfile } from "./profile.js";
import { asciiTable, codeAt, execAt, inTable, stickyCopy } from "./scan.js";
import { Candidates, Rank } from "./spans.js";

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const WORD_CHAR = asciiTable(/\w/);
const isWordChar = (c: string | undefined): boolean => c !== undefined && inTable(WORD_CHAR, c.charCodeAt(0));

/** A match callback for execAt that adds the whole match as `kind` (made once, not per text). */
const adder =
  (kind: string) =>
  (m: RegExpExecArray, out: Candidates): void =>
    out.add(kind, m.index, m.index + m[0].length, Rank.structured);
const addEmail = adder("email");
const addPhone = adder("phone");
const addSsn = adder("ssn");
const addNationalId = adder("national-id");

// ---- e-mail -------------------------------------------------------------------------------------

const EMAIL = stickyCopy(
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/,
);
const LOCAL_PART = asciiTable(/[A-Za-z0-9._%+-]/);
const LOCAL_PART_MAX = 64;

/** Each "@" names the one place its address can begin: the start of the local-part run before it. */
function emailStarts(text: string): number[] {
  const starts: number[] = [];
  for (let at = text.indexOf("@"); at >= 0; at = text.indexOf("@", at + 1)) {
    let i = at - 1;
    while (i >= 0 && at - i <= LOCAL_PART_MAX && inTable(LOCAL_PART, text.charCodeAt(i))) i--;
    if (i >= 0 && inTable(LOCAL_PART, text.charCodeAt(i))) continue; // local part too long
    if (i + 1 < at) starts.push(i + 1);
  }
  return starts;
}

function emails(text: string, out: Candidates): void {
  execAt(EMAIL, text, emailStarts(text), addEmail, out);
}

// ---- phone --------------------------------------------------------------------------------------

/** National significant number lengths [min, max] by country calling code (ITU E.164 national plans). */
const NATIONAL_DIGITS: Record<string, [number, number]> = {
  "1": [10, 10], "7": [10, 10], "20": [9, 10], "27": [9, 9], "30": [10, 10], "31": [9, 9], "32": [8, 9],
  "33": [9, 9], "34": [9, 9], "36": [8, 9], "39": [6, 11], "40": [9, 9], "41": [9, 9], "43": [7, 13],
  "44": [9, 10], "45": [8, 8], "46": [7, 9], "47": [8, 8], "48": [9, 9], "49": [6, 11], "51": [8, 9],
  "52": [10, 10], "54": [10, 10], "55": [10, 11], "56": [9, 9], "57": [10, 10], "58": [10, 10],
  "60": [8, 10], "61": [9, 9], "62": [8, 12], "63": [10, 10], "64": [8, 10], "65": [8, 8], "66": [8, 9],
  "81": [9, 10], "82": [8, 10], "84": [9, 10], "86": [10, 11], "90": [10, 10], "91": [10, 10],
  "92": [10, 10], "234": [8, 10], "351": [9, 9], "353": [7, 9], "358": [6, 10], "420": [9, 9],
  "852": [8, 8], "886": [8, 9], "965": [8, 8], "966": [9, 9], "971": [8, 9], "972": [8, 9],
};
const UNKNOWN_COUNTRY: [number, number] = [6, 12];

/** Reads "+CC group group…" starting at a "+"; returns the end of the phone number or -1. */
function internationalPhoneEnd(text: string, plus: number): number {
  let i = plus + 1;
  let first = "";
  while (isDigit(text[i])) first += text[i++];
  if (first.length === 0) return -1;
  let cc: string;
  let national = 0;
  if (first.length <= 3) {
    cc = first;
  } else {
    // no separator after the country code: "+14155552671"
    cc = [first.slice(0, 1), first.slice(0, 2), first.slice(0, 3)].find((c) => NATIONAL_DIGITS[c]) ?? first.slice(0, 2);
    national = first.length - cc.length;
  }
  const [min, max] = NATIONAL_DIGITS[cc] ?? UNKNOWN_COUNTRY;
  if (national > max) return -1;
  let end = i;
  for (;;) {
    let j = end;
    const sep = text[j];
    if (sep === " " || sep === "-" || sep === "." || sep === "\u00a0") j++;
    let digits = 0;
    let k = j;
    if (text[k] === "(") {
      k++;
      while (isDigit(text[k])) {
        k++;
        digits++;
      }
      if (text[k] !== ")" || digits === 0 || digits > 4) break;
      k++;
      // "(0)" is the trunk prefix written inside international numbers: not part of the number
      if (digits === 1 && text[k - 2] === "0") digits = 0;
    } else {
      while (isDigit(text[k])) {
        k++;
        digits++;
      }
      if (digits === 0) break;
    }
    if (national + digits > max) break;
    national += digits;
    end = k;
  }
  if (national < min) return -1;
  if (isWordChar(text[end])) return -1;
  return end;
}

/** North American numbers with separators: (406) 362-9432, 622-640-0778, 1-800-555-0199, 555.123.4567. */
const NANP = stickyCopy(/(?<![\w.+-])(?:1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-]|\.\d)/);
const isPhoneSeparator = (c: number): boolean => c === 32 || c === 46 || c === 45;
/** Phone numbers after a label, in whatever local format: "tel: 020 7946 0958", "mobile 06 12 34 56 78". */
const LABELLED_PHONE = stickyCopy(/\b(?:phone|tel|telephone|mobile|cell|fax|whatsapp|call me(?: at| on)?)(?:[ \t]*(?:no\.?|number|#))?[ \t]*[:=]?[ \t]*(\(?\d[\d ().-]{5,18}\d)(?![\w])/i);
const PHONE_LABEL_CUE = cue(["phone", "tel", "telephone", "mobile", "cell", "fax", "whatsapp", "call"]);

/** "1-", "800-" (from numberLed) or "(": the only ways a North American number begins. */
function nanpStarts(text: string, digitLed: number[]): number[] {
  const parens: number[] = [];
  for (let i = text.indexOf("("); i >= 0; i = text.indexOf("(", i + 1)) parens.push(i);
  return parens.length === 0 ? digitLed : mergeSorted(digitLed, parens);
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++]);
  return out;
}

function internationalPhones(text: string, out: Candidates): void {
  for (let p = text.indexOf("+"); p >= 0; p = text.indexOf("+", p + 1)) {
    if (isWordChar(text[p - 1]) || text[p - 1] === "+") continue;
    const end = internationalPhoneEnd(text, p);
    if (end > 0) out.add("phone", p, end, Rank.structured);
  }
}

function labelledPhone(m: RegExpExecArray, out: Candidates): void {
  const digits = m[1].replace(/\D/g, "").length;
  if (digits < 7 || digits > 15) return;
  const start = m.index + m[0].length - m[1].length;
  out.add("phone", start, start + m[1].length, Rank.structured);
}

// ---- payment card -------------------------------------------------------------------------------

/** Runs of at least 13 digits, possibly grouped by single spaces or dashes. */
const DIGIT_RUN = stickyCopy(/(?<!\d)\d(?:[ -]?\d){12,}/);
const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
const isUpperCode = (c: number): boolean => c >= 65 && c <= 90;
const isLetterOrUnderscore = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Card layouts as printed: one block of 13–19, 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners). Checks the groups `sizes[from, to)`. */
function cardLayout(sizes: readonly number[], from: number, to: number): boolean {
  let total = 0;
  for (let i = from; i < to; i++) total += sizes[i];
  if (total < 13 || total > 19) return false;
  const n = to - from;
  if (n === 1) return true;
  if (n === 3 && sizes[from] === 4 && sizes[from + 1] === 6 && (sizes[from + 2] === 5 || sizes[from + 2] === 4)) return true;
  for (let i = from; i < to - 1; i++) if (sizes[i] !== 4) return false;
  const last = sizes[to - 1];
  return last >= 1 && last <= 4;
}

/** Issuer prefixes: Visa 4, Mastercard 51–55 and 2221–2720, Amex/Diners/JCB 3, Discover/UnionPay 6. */
function plausibleIssuer(digits: string): boolean {
  const d = digits[0];
  if (d === "3" || d === "4" || d === "5" || d === "6") return true;
  if (d === "2") {
    const four = Number(digits.slice(0, 4));
    return four >= 2221 && four <= 2720;
  }
  return false;
}

/** The card number in a run of 13 or more digits, if any. */
function card(m: RegExpExecArray, out: Candidates): void {
  const text = m.input;
  // the match's digit groups, one separator apart; a group glued to letters is part of a word or hex string
  const starts: number[] = [];
  const sizes: number[] = [];
  const matchEnd = m.index + m[0].length;
  for (let i = m.index; i < matchEnd; i++) {
    const s = i;
    while (i < matchEnd && isDigitCode(text.charCodeAt(i))) i++;
    starts.push(s);
    sizes.push(i - s);
  }
  let first = 0;
  let last = starts.length;
  if (isLetterOrUnderscore(codeAt(text, starts[0] - 1))) first++;
  if (last > first && isLetterOrUnderscore(codeAt(text, starts[last - 1] + sizes[last - 1]))) last--;
  // longest valid window of consecutive groups wins
  for (let len = Math.min(last - first, 5); len >= 1; len--) {
    for (let i = first; i + len <= last; i++) {
      if (!cardLayout(sizes, i, i + len)) continue;
      const start = starts[i];
      const end = starts[i + len - 1] + sizes[i + len - 1];
      const digits = text.slice(start, end).replace(/\D/g, "");
      if (!plausibleIssuer(digits) || !luhnValid(digits) || /^(\d)\1+$/.test(digits)) continue;
      out.add("card", start, end, Rank.structured);
      return;
    }
  }
}

// ---- national identifiers -----------------------------------------------------------------------

/** US SSN with separators; area 000/666/9xx, group 00 and serial 0000 are never issued. */
const SSN = stickyCopy(/(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])/);
/** UK National Insurance number (HMRC prefix rules). */
const NINO = stickyCopy(/\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/);
/** A NINO's two letters are followed by a digit, maybe after a space. */
const ninoDigits = (text: string, s: number): boolean => isDigitCode(codeAt(text, codeAt(text, s + 2) === 32 ? s + 3 : s + 2));
/** Brazilian CPF in its printed form. */
const CPF = stickyCopy(/(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d])/);
const ID_LABEL_WORDS = stickyCopy(
  /\b(?:social security(?: number| no\.?)?|national (?:id|identity|insurance)(?: number| no\.?| card)?|passport(?: number| no\.?| #)?|driver'?s? licen[cs]e(?: number| no\.?)?|tax (?:id|number)|personal (?:id|number)|id (?:number|card)|aadhaa?r|personnummer|steuer-?id)(?![A-Za-z])/i,
);
const ID_LABEL_CUE = cue(["social", "national", "passport", "driver", "tax", "personal", "id", "aadhar", "personnummer", "steuer"]);
// capitalised, so they begin where p.capsStarts says
const ID_LABEL_ACRONYMS = stickyCopy(/\b(?:SSN|SIN|NIR|BSN|PESEL|DNI|NIE|CPF|TIN|NINO|NIN|PPSN|CURP|NRIC|HKID)\b/);
const ID_VALUE = /[ \t]*(?:[:#=]|no\.?|number|\.)?[ \t]*(\d{3,4}(?:[ -]\d{2,4}){1,3}(?![\d])|[A-Za-z0-9][A-Za-z0-9./-]{3,20}[A-Za-z0-9])/y;

/** The identifier after a label ("passport no. X1234567", "SSN: 123 45 6789"). */
function labelledId(m: RegExpExecArray, out: Candidates): void {
  ID_VALUE.lastIndex = m.index + m[0].length;
  const v = ID_VALUE.exec(m.input);
  if (!v) return;
  const digits = v[1].replace(/\D/g, "").length;
  if (digits < 4) return;
  const start = ID_VALUE.lastIndex - v[1].length;
  const kind = /^(?:SSN|social)/i.test(m[0]) ? "ssn" : "national-id";
  out.add(kind, start, ID_VALUE.lastIndex, Rank.structured);
}

const threeCapitals = (text: string, s: number): boolean => isUpperCode(codeAt(text, s + 2));

function labelledIds(p: TextProfile, out: Candidates): void {
  execAt(ID_LABEL_WORDS, p.text, p.cues(ID_LABEL_CUE), labelledId, out);
  execAt(ID_LABEL_ACRONYMS, p.text, p.caps(threeCapitals), labelledId, out);
}

// ---- IBAN ---------------------------------------------------------------------------------------

/** IBAN lengths by country (SWIFT IBAN registry). */
const IBAN_LENGTH: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15,
  PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TN: 24,
  TR: 26, UA: 29, VG: 24, XK: 20,
};
const IBAN_START = stickyCopy(/(?<![A-Za-z0-9])([A-Z]{2})\d{2}(?=[ ]?[A-Z0-9])/);
const isIbanChar = (c: string | undefined): boolean => c !== undefined && ((c >= "0" && c <= "9") || (c >= "A" && c <= "Z"));

/** The IBAN that begins with a country code and check digits, if its length and mod-97 check fit. */
function iban(m: RegExpExecArray, out: Candidates): void {
  const text = m.input;
  const want = IBAN_LENGTH[m[1]];
  if (!want) return;
  let compact = text.slice(m.index, m.index + 4);
  let i = m.index + 4;
  while (compact.length < want && i < text.length) {
    if (isIbanChar(text[i])) compact += text[i++];
    else if (text[i] === " " && isIbanChar(text[i + 1])) i++;
    else break;
  }
  if (compact.length !== want || isIbanChar(text[i])) return;
  if (ibanValid(compact)) out.add("iban", m.index, i, Rank.structured);
}

const checkDigitsFollow = (text: string, s: number): boolean => isDigitCode(codeAt(text, s + 2)) && isDigitCode(codeAt(text, s + 3));

// ---- IP addresses -------------------------------------------------------------------------------

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, "y");
const VERSION_WORD = /(?:version|ver\.?|build|release|v)[ \t:=]*$/i;
const IPV6_CANDIDATE = stickyCopy(/(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}(?![\w:])/);
const HEX_OR_COLON = asciiTable(/[0-9A-Fa-f:]/);

/** Groups of 1–4 hex digits separated by single colons in s[from, to) (hex digits and colons only): how many, 0 when empty, -1 when malformed. */
function hexGroups(s: string, from: number, to: number): number {
  if (from === to) return 0;
  let groups = 1;
  let digits = 0;
  for (let i = from; i < to; i++) {
    if (s.charCodeAt(i) !== 58) digits++;
    else if (digits === 0 || digits > 4) return -1;
    else {
      groups++;
      digits = 0;
    }
  }
  return digits === 0 || digits > 4 ? -1 : groups;
}

/** `s` (hex digits and colons, as IPV6_CANDIDATE matches) is an IPv6 address: eight groups, or fewer around one "::". */
function ipv6Valid(s: string): boolean {
  const gap = s.indexOf("::");
  if (gap < 0) return hexGroups(s, 0, s.length) === 8;
  if (s.indexOf("::", gap + 2) >= 0) return false;
  const before = hexGroups(s, 0, gap);
  const after = hexGroups(s, gap + 2, s.length);
  if (before < 0 || after < 0) return false;
  const groups = before + after;
  const colons = 2 + Math.max(0, before - 1) + Math.max(0, after - 1);
  // compressed: need enough substance that "a::b" in prose or C++ scopes doesn't count
  return groups >= 2 && groups <= 7 && s.length - colons >= 5;
}

/** Loopback and "any" addresses name no one. */
const NOT_PERSONAL_IPV4 = /^(?:127\.|0\.0\.0\.0$)/;

/** An IPv4 address that names someone: not loopback, not a version number. */
function ipv4Address(m: RegExpExecArray, out: Candidates): void {
  if (NOT_PERSONAL_IPV4.test(m[0])) return;
  if (VERSION_WORD.test(m.input.slice(Math.max(0, m.index - 12), m.index))) return;
  out.add("ip", m.index, m.index + m[0].length, Rank.structured);
}

/** An address begins where its run of hex digits and colons begins, with a colon among its first five characters. */
function ipv6Starts(text: string): number[] {
  const starts: number[] = [];
  for (let colon = text.indexOf(":"); colon >= 0; colon = text.indexOf(":", colon + 1)) {
    let i = colon - 1;
    while (i >= 0 && colon - i <= 4 && inTable(HEX_OR_COLON, text.charCodeAt(i))) i--;
    if (i >= 0) {
      const c = text.charCodeAt(i);
      if (inTable(HEX_OR_COLON, c)) continue; // the run began earlier: an earlier colon decides
      if (inTable(WORD_CHAR, c) || c === 46) continue; // glued to a word ("code:"), as IPV6_CANDIDATE's look-behind would find
    }
    starts.push(i + 1);
  }
  return starts;
}

function ipv6Address(m: RegExpExecArray, out: Candidates): void {
  if (ipv6Valid(m[0])) out.add("ip", m.index, m.index + m[0].length, Rank.structured);
}

// ---- person names -------------------------------------------------------------------------------

/** Capitalised words that are roles, teams, products or greetings, never a person. */
const NOT_NAMES = new Set(
  (
    "Agent Agents Assistant Bot Support Service Services Team Desk Tool Tools Function Search Order Orders Lookup Update " +
    "Portfolio Customer Customers Client User Users Admin Administrator System Default Test Demo Sample Production Prod " +
    "Staging Dev Microsoft Azure Foundry Openai OpenAI Contoso Fabrikam Northwind World All Everyone There Sir Madam Friend " +
    "Friends Operations Ops Platform Monitor Run Thread Model Deployment Project Sales Billing Helpdesk Engineering Inc Ltd " +
    "Llc Corp Company Group Bank Manager Department Office Account Accounts Api Error Failed Unknown None Null True False " +
    "Please Thanks Thank Hello Hi Dear Regards Best Team Folks Guys Colleagues Partner Partners Vendor Owner The A An"
  ).split(" "),
);
const NAME_WORD = "(?:\\p{Lu}['’])?\\p{Lu}\\p{Ll}+(?:\\p{Lu}\\p{Ll}+)?(?:[-'’]\\p{Lu}?\\p{Ll}+)?";
const PARTICLE = "(?:van|von|de|da|del|der|di|le|la|du|dos|bin|al)";
/** Up to five name words (with particles and middle initials) at the sticky position; bounded so a page of capitalised words costs nothing. */
const NAME_AT = new RegExp(`${NAME_WORD}(?:[ \\t]+(?:${PARTICLE}[ \\t]+)?(?:${NAME_WORD}|\\p{Lu}\\.)){0,4}`, "uy");

/** The person name starting at `at`, trimmed at the first non-name word; undefined if none. */
function nameAt(text: string, at: number, minWords: number): { start: number; end: number } | undefined {
  NAME_AT.lastIndex = at;
  const m = NAME_AT.exec(text);
  if (!m) return undefined;
  const words = m[0].split(/[ \t]+/);
  let kept = 0;
  let end = at;
  let offset = 0;
  for (const w of words) {
    if (NOT_NAMES.has(w)) break;
    if (kept >= 4) break;
    kept++;
    offset = m[0].indexOf(w, offset) + w.length;
    end = at + offset;
  }
  const real = words.slice(0, kept).filter((w) => !/^\p{Ll}+$/u.test(w));
  if (real.length < minWords) return undefined;
  return { start: at, end };
}

/** JSON fields: "name"/"customer_name"/… → the value must look like a person's name. */
const NAME_FIELD = stickyCopy(
  /"((?:full|first|last|given|family|sur|display|customer|contact|requester|caller|patient|employee|user|account_?holder|cardholder)?[_ -]?name|customer|contact|requester|caller|patient|employee|reported_?by|submitted_?by|requested_?by|cardholder)"[ \t]*:[ \t]*"/i,
);

/** Where a JSON key may begin: the '"' opening the quoted key before each ":" (keys hold no quotes). */
function jsonKeyStarts(p: TextProfile): number[] {
  const text = p.text;
  const starts: number[] = [];
  for (const op of p.operators) {
    if (text.charCodeAt(op) !== 58) continue;
    let i = op - 1;
    while (i >= 0 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i--;
    if (i < 1 || text.charCodeAt(i) !== 34) continue;
    const open = text.lastIndexOf('"', i - 1);
    if (open >= 0) starts.push(open);
  }
  return starts;
}
/**
 * Plain-text places a name follows, in one pass: labels ("customer: Jane Doe"), greetings ("Dear
 * Jane"), sign-offs ("Regards,\nJane Doe"), mail headers ("From: Jane Doe <…>"), "my name is".
 */
const NAME_CUE = new RegExp(
  [
    "\\b(?<label>customer(?: name)?|client name|contact(?: name)?|full name|(?<single>first|last) name|name|patient|employee|requester|caller|reported by|submitted by|requested by|cardholder|account holder)[ \\t]*[:=-][ \\t]*",
    "\\b(?<greeting>dear|hi|hello|hey|attn:?|attention:?|my name is|my name's)[ \\t]+",
    "\\b(?<signoff>regards|best regards|kind regards|sincerely|thanks|thank you|cheers|best),?[ \\t]*(?:\\r?\\n|\\\\n)[ \\t]*",
    '\\b(?<header>from|to|cc|bcc|reply-to|sender):[ \\t]*"?',
  ].join("|"),
  "iy",
);
const NAME_CUE_WORDS = cue([
  ..."customer client contact full first last name patient employee requester caller reported submitted requested cardholder account".split(" "),
  ..."dear hi hello hey attn attention".split(" "),
  "my name",
  ..."regards best kind sincerely thanks thank cheers".split(" "),
  // with their colon, so that "Tool" and "total" are not cued for "to:"
  ..."from: to: cc: bcc: reply-to: sender:".split(" "),
]);

function nameField(m: RegExpExecArray, out: Candidates): void {
  const text = m.input;
  const key = m[1].toLowerCase().replace(/[^a-z]/g, "");
  const single = /^(?:first|last|given|family|sur)name$/.test(key);
  const n = nameAt(text, m.index + m[0].length, single ? 1 : 2);
  // the whole value must be the name: "Support Agent v2" is not one
  if (n && text[n.end] === '"') out.add("name", n.start, n.end, Rank.structured);
}

function cuedName(m: RegExpExecArray, out: Candidates): void {
  const text = m.input;
  const g = m.groups ?? {};
  const at = m.index + m[0].length;
  const n = nameAt(text, at, g.label && !g.single ? 2 : 1);
  if (!n) return;
  if (g.signoff && isWordChar(text[n.end])) return;
  if (g.header && !/^"?[ \t]*</.test(text.slice(n.end, n.end + 3))) return;
  out.add("name", n.start, n.end, Rank.structured);
}

function names(p: TextProfile, out: Candidates): void {
  if (p.quote && p.colons > 0) execAt(NAME_FIELD, p.text, jsonKeyStarts(p), nameField, out);
  execAt(NAME_CUE, p.text, p.cues(NAME_CUE_WORDS), cuedName, out);
}

// ---- where number-led patterns begin ------------------------------------------------------------

/** The digit runs each number-led pattern may begin with: "800-" or "1-" (phone), "123-" (SSN), "123." (CPF), "10." (IPv4). */
interface NumberLed {
  nanp: number[];
  ssn: number[];
  cpf: number[];
  ipv4: number[];
}

/** Sorts the profile's digit runs into NumberLed in one pass: a pass per pattern cost more than running the patterns. */
function numberLed(p: TextProfile): NumberLed {
  const { text, numberStarts, numberEnds } = p;
  const led: NumberLed = { nanp: [], ssn: [], cpf: [], ipv4: [] };
  for (let i = 0; i < numberStarts.length; i++) {
    const s = numberStarts[i];
    const length = numberEnds[i] - s;
    if (length > 3) continue;
    const next = codeAt(text, numberEnds[i]);
    if (next === 46) led.ipv4.push(s);
    if (length === 3) {
      if (isPhoneSeparator(next)) led.nanp.push(s);
      if (next === 45 || next === 32) led.ssn.push(s);
      else if (next === 46) led.cpf.push(s);
    } else if (length === 1 && isPhoneSeparator(next) && text.charCodeAt(s) === 49) led.nanp.push(s);
  }
  return led;
}

const NO_NUMBERS: NumberLed = { nanp: [], ssn: [], cpf: [], ipv4: [] };

export function detectPersonalData(p: TextProfile, out: Candidates): void {
  const text = p.text;
  // every number-led pattern needs at least 4 digits
  const led = p.digits >= 4 ? numberLed(p) : NO_NUMBERS;
  if (p.at) emails(text, out);
  if (p.plus && p.digits >= 6) internationalPhones(text, out);
  if (p.digits >= 10) execAt(NANP, text, nanpStarts(text, led.nanp), addPhone, out);
  if (p.digits >= 7) execAt(LABELLED_PHONE, text, p.cues(PHONE_LABEL_CUE), labelledPhone, out);
  if (p.digits >= 13) execAt(DIGIT_RUN, text, p.numberChains(13), card, out);
  if (p.digits >= 9) execAt(SSN, text, led.ssn, addSsn, out);
  if (p.digits >= 6) execAt(NINO, text, p.caps(ninoDigits), addNationalId, out);
  if (p.digits >= 11 && p.dot) execAt(CPF, text, led.cpf, addNationalId, out);
  if (p.digits >= 4) labelledIds(p, out);
  if (p.digits >= 11) execAt(IBAN_START, text, p.caps(checkDigitsFollow), iban, out);
  if (p.digits >= 4 && p.dot) execAt(IPV4, text, led.ipv4, ipv4Address, out);
  if (p.colons >= 2 && (p.colons >= 7 || p.doubleColon)) execAt(IPV6_CANDIDATE, text, ipv6Starts(text), ipv6Address, out);
  names(p, out);
}
