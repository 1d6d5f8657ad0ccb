/**
 * Random-looking strings. Near a credential word ("secret", "token", "api key" …) a shorter
 * random token is enough; with no such word only a long, mixed-alphabet, high-entropy token counts.
 * Both are heuristics, so operational IDs and labelled digests veto them (see protected.ts).
 */
import { charClasses, shannonEntropy } from "./checksums.js";
import type { TextProfile } from "./profile.js";
import { Candidates, Rank } from "./spans.js";

// the look-behind makes each token start once; without it every suffix of a short word is retried
const TOKEN = /(?<![A-Za-z0-9+/_~-])[A-Za-z0-9+/_~-]{16,}={0,2}/g;
const CREDENTIAL_WORD = /pass(?:word|wd|phrase)?|pwd|secret|token(?!s)|api[-_ ]?key|\bkey\b|credential|bearer|signature|\bsig\b|\bauth\b/i;
const CONTEXT_CHARS = 40;

function nearCredentialWord(text: string, at: number): boolean {
  let from = Math.max(0, at - CONTEXT_CHARS);
  const nl = text.lastIndexOf("\n", at);
  if (nl >= from) from = nl + 1;
  return CREDENTIAL_WORD.test(text.slice(from, at));
}

/** True when [start, end) lies inside a span a stronger detector already claimed. */
function alreadyClaimed(out: Candidates, start: number, end: number): boolean {
  for (const c of out.list) if (c.start <= start && end <= c.end) return true;
  return false;
}

export function detectHighEntropy(p: TextProfile, out: Candidates): void {
  const text = p.text;
  if (p.digits === 0 || text.length < 16) return;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    const t = m[0];
    if (alreadyClaimed(out, m.index, m.index + t.length)) continue;
    const c = charClasses(t);
    if (c.digit === 0 || c.upper + c.lower === 0) continue;
    const isHex = c.other === 0 && (c.upper === 0 || c.lower === 0) && /^[0-9a-fA-F]+$/.test(t);
    let hit = false;
    if (t.length >= 32 && c.upper >= 2 && c.lower >= 2 && c.digit >= 2 && !t.startsWith("/")) {
      hit = shannonEntropy(t) >= 4.2 && t.split("/").filter((seg) => /^[A-Za-z]{5,}$/.test(seg)).length < 2;
    }
    if (!hit && nearCredentialWord(text, m.index)) {
      const mixed = (c.upper > 0 && c.lower > 0) || c.other > 0 || (isHex && t.length >= 32);
      hit = mixed && shannonEntropy(t) >= 3.2;
    }
    if (hit) out.add("high-entropy", m.index, m.index + t.length, Rank.heuristic);
  }
}
