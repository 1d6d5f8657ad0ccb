/**
 * The sanitizer's shortcuts (profile cues and flags, key-name tries, digit-run sorting, per-detector
 * gates) decide where the detectors look. A shortcut that skips a place it should not would hide a
 * secret, so each is checked against a plain reference, and every gated detector against its
 * secret at both ends of the text and in every case of its keywords.
 */
import { describe, expect, it } from "@jest/globals";
import { findSensitive, sanitize } from "../../shared/sanitize/index.js";
import { cue, profile } from "../../shared/sanitize/profile.js";
import { Rank, settle, type Candidate } from "../../shared/sanitize/spans.js";
import { BASE64, BASE64URL, HEX, fake, join } from "./sanitize-fakes.js";

/** A seeded generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random texts glued from `pieces`. */
function texts(pieces: readonly string[], count: number, seed: number): string[] {
  const rnd = seeded(seed);
  return Array.from({ length: count }, () => {
    let t = "";
    const n = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < n; i++) t += pieces[Math.floor(rnd() * pieces.length)];
    return t;
  });
}

const isWordChar = (c: string | undefined): boolean => c !== undefined && /\w/.test(c);

/** The case variants a character-keyed shortcut must treat alike. */
const caseVariants = (s: string): string[] => [...new Set([s, s.toLowerCase(), s.toUpperCase(), s[0].toUpperCase() + s.slice(1).toLowerCase()])];

/** `snippet` alone, at the start, at the end and in the middle of a text. */
const placements = (snippet: string): string[] => [snippet, `${snippet} and then`, `it said ${snippet}`, `it said ${snippet} and then`];

describe("sanitize shortcuts agree with plain references", () => {
  const keywords = ["telephone", "tel", "to", "call me", "sk-", "x9"];
  const bit = cue(keywords);

  it("cues: every word start where a keyword begins (any case, up to the text's end), and nothing else", () => {
    const pieces = ["tel", "TEL", "Tele", "telephone", "to", "TO", "t", "te", "call me", "Call Me", "call", "sk-", "SK-", "sk", "x9", "X9", "x", " ", "_", "-", ".", "é", "\n", "a", "1"];
    for (const text of texts(pieces, 3000, 1)) {
      const expected: number[] = [];
      for (let i = 0; i < text.length; i++) {
        if (isWordChar(text[i - 1]) || !isWordChar(text[i])) continue;
        if (keywords.some((k) => text.slice(i, i + k.length).toLowerCase() === k)) expected.push(i);
      }
      expect({ text, cues: profile(text).cues(bit) }).toEqual({ text, cues: expected });
    }
  });

  it("flags that let detectors skip a scan are set wherever their characters fall, ends included", () => {
    const flags = [
      ["scheme", "://"],
      ["doubleColon", "::"],
      ["doubleEquals", "=="],
      ["doubleDash", "--"],
      ["tilde", "~"],
    ] as const;
    for (const [flag, chars] of flags) {
      for (const text of [chars, `${chars}x`, `x${chars}`, `a b${chars}c d`, `ab12${chars}`]) expect({ text, flag, set: profile(text)[flag] }).toEqual({ text, flag, set: true });
      const absent = chars.length > 1 ? ["", "plain words", `${chars.slice(0, -1)} ${chars.slice(-1)}`] : ["", "plain words"];
      for (const text of absent) expect({ text, flag, set: profile(text)[flag] }).toEqual({ text, flag, set: false });
    }
  });

  it("settling hundreds of overlapping candidates (one flag per character) picks what settling a handful does", () => {
    // per line, pairs of detectors that see the same characters: an OpenAI key behind a key name, a
    // URL password that also reads as an e-mail's local part; and an e-mail and an IP on their own
    const lines = Array.from(
      { length: 120 },
      (_, i) => `OPENAI_API_KEY=${join("sk", "-proj-", fake(40, BASE64URL))} db postgres://app:${fake(12)}@db${i}.example.org/x mail u${i}@example.org from 10.0.${i % 250}.7`,
    );
    const one = lines.map((l) => sanitize(l));
    for (const l of one) expect(l.match(/\[REDACTED:[a-z-]+\]/g)).toEqual(["[REDACTED:openai-key]", "[REDACTED:password]", "[REDACTED:email]", "[REDACTED:ip]"]);
    expect(findSensitive(lines.join("\n")).length).toBe(4 * lines.length);
    expect(sanitize(lines.join("\n"))).toBe(one.join("\n"));
  });

  it("settle refuses a candidate that overlaps a chosen one by a single character at either end, with few or many candidates", () => {
    const edges: Candidate[] = [
      { kind: "strong", start: 100, end: 110, rank: Rank.format },
      { kind: "left", start: 95, end: 101, rank: Rank.heuristic },
      { kind: "right", start: 109, end: 115, rank: Rank.heuristic },
      { kind: "touching", start: 110, end: 112, rank: Rank.heuristic },
    ];
    const filler = (n: number): Candidate[] => Array.from({ length: n }, (_, i) => ({ kind: "other", start: 200 + 3 * i, end: 202 + 3 * i, rank: Rank.structured }));
    for (const n of [0, 40]) {
      const kinds = settle([...edges, ...filler(n)], []).map((f) => f.kind);
      expect(kinds.filter((k) => k !== "other")).toEqual(["strong", "touching"]);
      expect(kinds.length).toBe(2 + n);
    }
  });

  it("digit chains: the runs from which 13 or more digits follow, joined by single spaces or dashes", () => {
    const reference = (text: string): number[] => {
      const out: number[] = [];
      for (let s = 0; s < text.length; s++) {
        if (!/\d/.test(text[s]) || /\d/.test(text[s - 1] ?? "")) continue;
        let digits = 0;
        let i = s;
        for (;;) {
          while (/\d/.test(text[i] ?? "")) {
            i++;
            digits++;
          }
          if ((text[i] === " " || text[i] === "-") && /\d/.test(text[i + 1] ?? "")) i++;
          else break;
        }
        if (digits >= 13) out.push(s);
      }
      return out;
    };
    for (const text of texts(["4111", "1111", "12", "7", " ", "-", "--", "  ", "x", "5500 0000 0000 0004"], 3000, 2)) {
      expect({ text, starts: profile(text).numberChains(13) }).toEqual({ text, starts: reference(text) });
    }
  });
});

describe("sanitize: gated detectors still find their secret at either end and in any case", () => {
  const redacts = (snippet: string, secret: string, kind: string): void => {
    for (const text of placements(snippet)) {
      const out = sanitize(text);
      expect({ text, leaked: out.includes(secret) }).toEqual({ text, leaked: false });
      expect(out).toContain(`[REDACTED:${kind}]`);
    }
  };

  it("Entra client secrets (found from their Q~)", () => {
    const secret = join(fake(3), "8", "Q~", fake(34, BASE64URL + ".~"));
    redacts(secret, secret, "client-secret");
  });

  it("Storage account keys (found from their ==), including as the text's last characters", () => {
    const key = fake(86, BASE64) + "==";
    redacts(key, key, "connection-string");
  });

  it("passwords in URLs and Slack webhooks (found from ://), in any case of the scheme", () => {
    const pw = fake(12) + "%21";
    for (const scheme of caseVariants("postgres")) redacts(`${scheme}://app:${pw}@db.internal/orders`, pw, "password");
    const hook = `https://hooks.slack.com/services/${fake(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}/${fake(11)}/${fake(24)}`;
    redacts(hook, hook, "slack-webhook");
  });

  it("command-line credential flags (found from --), in any case", () => {
    const v = fake(14) + "#1";
    for (const flag of [...caseVariants("password"), ...caseVariants("token"), "client-secret", "API-KEY"]) {
      redacts(`--${flag} ${v}`, v, "password");
      redacts(`--${flag}=${v}`, v, "password");
    }
  });

  it("AWS secret access keys after an AWS word in any case, but not beside '=' or without the word", () => {
    const key = fake(40, BASE64);
    for (const word of [...caseVariants("aws"), "Secret_Access", "SECRETACCESS"]) redacts(`${word} key ${key}`, key, "aws-key");
    redacts(`aws keys id-${key}-2`, key, "aws-key");
    expect(findSensitive(`aws ${key}=`).some((f) => f.kind === "aws-key")).toBe(false);
    expect(findSensitive(`blob ${key}`).some((f) => f.kind === "aws-key")).toBe(false);
  });

  it("compressed IPv6 addresses (gated on ::) and full ones, at either end", () => {
    redacts("2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3::8a2e:370:7334", "ip");
    redacts("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ip");
  });

  it("number-led patterns at either end: cards, SSNs, North American phones, IPv4, CPF", () => {
    redacts("4111 1111 1111 1111", "4111 1111 1111 1111", "card");
    redacts("4111111111111111", "4111111111111111", "card");
    redacts("123-45-6789", "123-45-6789", "ssn");
    redacts("(406) 362-9432", "362-9432", "phone");
    redacts("1-800-555-0199", "555-0199", "phone");
    redacts("203.0.113.9", "203.0.113.9", "ip");
    redacts("123.456.789-09", "123.456.789-09", "national-id");
  });

  it("JSON name fields, whatever the case of the key and the blanks before its colon", () => {
    for (const key of [...caseVariants("customer_name"), "Name", "FULL NAME", "reported_by"]) {
      for (const sep of [":", " : ", "\t:"]) redacts(`{"${key}"${sep}"Jane Doe"}`, "Jane Doe", "name");
    }
    expect(sanitize('{"name": "Support Agent v2"}')).toBe('{"name": "Support Agent v2"}');
  });

  it("mail headers and 'my name is' (cued with their colon and second word), in any case", () => {
    for (const header of [...caseVariants("to"), ...caseVariants("from"), "CC", "Reply-To"]) {
      const out = sanitize(`${header}: Jane Doe <jane.doe@example.org>`);
      expect(out).not.toContain("Jane Doe");
    }
    for (const intro of caseVariants("my name is")) expect(sanitize(`${intro} Jane Doe`)).not.toContain("Jane Doe");
    expect(sanitize("Tool output: total 5")).toBe("Tool output: total 5");
  });
});

describe("sanitize: credential key names read backwards", () => {
  const value = fake(18) + "7!";

  it.each([
    ["CLIENT_SECRET", "client-secret"],
    ["client-secret", "client-secret"],
    ["Client.Secret", "client-secret"],
    ["x.api-key", "api-key"],
    ["ApiKey", "api-key"],
    ["AccountKey", "connection-string"],
    ["SHAREDACCESSKEY", "connection-string"],
    ["aws_secret_access_key", "aws-key"],
    ["DB_PASSWORD", "password"],
    ["Pass", "password"],
    ["PWD", "password"],
    ["passphrase", "password"],
    ["access_token", "token"],
    ["SharedAccessSignature", "sas"],
    ["Ocp-Apim-Subscription-Key", "api-key"],
    ["storage_connection_string", "connection-string"],
  ])("%s", (key, kind) => {
    for (const text of [`${key}=${value}`, `x ${key}: ${value}`, `{"${key}": "${value}"}`]) {
      const out = sanitize(text);
      expect({ text, leaked: out.includes(value) }).toEqual({ text, leaked: false });
      expect(out).toContain(`[REDACTED:${kind}]`);
    }
  });

  it("names that only end like a credential stay, in any case and spelling", () => {
    for (const key of ["NextPageToken", "next_page_token", "PARTITION_KEY", "partition.key", "PrimaryKeyName", "idempotency-key", "user_id", "pass_word"]) {
      const text = `${key}=${fake(6, HEX)}`;
      expect(sanitize(text)).toBe(text);
    }
  });
});
