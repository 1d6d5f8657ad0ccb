/**
 * One cheap pass over the text that tells every detector where it could possibly match, so that
 * no detector scans the whole text with its own expression (thirty such scans cost more than all
 * the rest of sanitizing put together).
 *
 * It records:
 *  - counts and flags that let a detector skip itself (no "@", fewer than 13 digits…);
 *  - cues: word starts whose first two letters (ASCII, any case) begin a keyword some detector
 *    registered with `cue()`. Every keyword-led pattern ("\b(?:phone|tel|…)", "\bBearer", "\bsk-")
 *    starts at a word start, so its sticky copy only needs trying at its cues;
 *  - number starts: where a run of digits begins (phone, card, SSN, IP, date patterns start there);
 *  - caps starts: where an alphanumeric run begins with two capital letters (IBAN, NINO, SSN…).
 */

/** Word starts are keyed by their first two characters, lower-cased: (c0 << 7) | c1. */
const cueTable = new Uint32Array(128 * 128);
/** Per key: the cue bits and lower-case keywords with that key (a cue is tried only where one of its keywords begins). */
// filled densely so lookups stay fast (a sparse array of 16K slots would fall back to a dictionary)
const cueKeywords: { bit: number; word: string }[][] = Array.from({ length: 128 * 128 }, () => []);
let nextCueBit = 0;

/** shared by every cue that found nothing; never written to */
const NONE: number[] = [];

const lowerAscii = (c: number): number => (c >= 65 && c <= 90 ? c | 32 : c);

/**
 * Registers the keywords a detector's matches begin with (at a word start, any case) and returns
 * its cue bit. Called once per detector at module load; a match that begins with a keyword not
 * listed here would be missed, so list every alternative of the pattern.
 */
export function cue(keywords: readonly string[]): number {
  if (nextCueBit >= 31) throw new Error("too many sanitizer cues");
  const bit = 1 << nextCueBit++;
  for (const k of keywords) {
    const c0 = lowerAscii(k.charCodeAt(0));
    const c1 = lowerAscii(k.charCodeAt(1));
    if (!(c0 < 128 && c1 < 128)) throw new Error(`cue keyword needs two ASCII characters: ${k}`);
    const key = (c0 << 7) | c1;
    cueTable[key] |= bit;
    cueKeywords[key].push({ bit, word: k.toLowerCase() });
  }
  return bit;
}

/** True when `text` at `at` begins with `word` (lower case), ASCII letters compared in any case. */
function startsWithAnyCase(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) if (lowerAscii(text.charCodeAt(at + i)) !== word.charCodeAt(i)) return false;
  return true;
}

// character classes for the pass
const DIGIT = 1;
const UPPER = 2;
const LOWER = 4;
const UNDERSCORE = 8;
/** the other characters of random tokens: + / ~ - */
const TOKEN_PUNCT = 16;
const WORD = DIGIT | UPPER | LOWER | UNDERSCORE;
const TOKEN = WORD | TOKEN_PUNCT;
/** Tokens shorter than this are never secrets by entropy alone (see entropy.ts). */
export const TOKEN_MIN = 16;
const ALNUM = DIGIT | UPPER | LOWER;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
for (let c = 97; c <= 122; c++) CLASS[c] = LOWER;
CLASS[95] = UNDERSCORE;
for (const c of "+/~-") CLASS[c.charCodeAt(0)] = TOKEN_PUNCT;

export class TextProfile {
  digits = 0;
  colons = 0;
  at = false;
  plus = false;
  dot = false;
  quote = false;
  /** word starts whose first two characters begin some cue keyword */
  private readonly cueAt: number[] = [];
  /** where each run of digits begins, and where it ends */
  private readonly numberStarts: number[] = [];
  private readonly numberEnds: number[] = [];
  /** positions of ":" and "=" (assignment operators) */
  readonly operators: number[] = [];
  /** [start, end) of each run of token characters ([A-Za-z0-9+/_~-]) at least TOKEN_MIN long */
  readonly tokenRuns: number[] = [];
  /** where each alphanumeric run that begins with two capital letters begins */
  private readonly capsStarts: number[] = [];
  /** per cue bit, its verified word starts (built on first use) */
  private cueLists: number[][] | undefined;
  private lowerCopy: string | undefined;

  constructor(readonly text: string) {
    const n = text.length;
    let prev = 0;
    let numberStart = -1;
    let tokenStart = -1;
    let digits = 0;
    let colons = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const k = c < 128 ? CLASS[c] : 0;
      if (numberStart >= 0 && k !== DIGIT) {
        this.numberStarts.push(numberStart);
        this.numberEnds.push(i);
        numberStart = -1;
      }
      if (tokenStart >= 0 && (k & TOKEN) === 0) {
        if (i - tokenStart >= TOKEN_MIN) this.tokenRuns.push(tokenStart, i);
        tokenStart = -1;
      }
      if ((k & WORD) === 0) {
        if (c === 58) {
          colons++;
          this.operators.push(i);
        } else if (c === 61) this.operators.push(i);
        else if (c === 64) this.at = true;
        else if (c === 43) this.plus = true;
        else if (c === 46) this.dot = true;
        else if (c === 34) this.quote = true;
        if (k !== 0 && tokenStart < 0) tokenStart = i;
      } else {
        if (tokenStart < 0) tokenStart = i;
        if (k === DIGIT) {
          digits++;
          if (numberStart < 0) numberStart = i;
        }
        if ((prev & WORD) === 0 && (k & WORD) !== 0) {
          const c1 = i + 1 < n ? text.charCodeAt(i + 1) : 0;
          if (c1 < 128) {
            if (cueTable[(lowerAscii(c) << 7) | lowerAscii(c1)] !== 0) this.cueAt.push(i);
          }
        }
        if (k === UPPER && (prev & ALNUM) === 0 && i + 1 < n && CLASS[text.charCodeAt(i + 1) & 127] === UPPER && text.charCodeAt(i + 1) < 128) {
          this.capsStarts.push(i);
        }
      }
      prev = k;
    }
    if (numberStart >= 0) {
      this.numberStarts.push(numberStart);
      this.numberEnds.push(n);
    }
    if (tokenStart >= 0 && n - tokenStart >= TOKEN_MIN) this.tokenRuns.push(tokenStart, n);
    this.digits = digits;
    this.colons = colons;
  }

  /** lower-cased copy for keyword gates (made on first use) */
  get lower(): string {
    return (this.lowerCopy ??= this.text.toLowerCase());
  }

  /** Word starts where a keyword the detector registered as `bit` begins, ascending. */
  cues(bit: number): number[] {
    return (this.cueLists ??= this.verifyCues())[31 - Math.clz32(bit)];
  }

  /** Sorts each cued word start into the lists of the cues whose keywords really begin there. */
  private verifyCues(): number[][] {
    const text = this.text;
    const lists: number[][] = new Array<number[]>(nextCueBit).fill(NONE);
    for (let i = 0; i < this.cueAt.length; i++) {
      const at = this.cueAt[i];
      let found = 0;
      for (const { bit, word } of cueKeywords[(lowerAscii(text.charCodeAt(at)) << 7) | lowerAscii(text.charCodeAt(at + 1))]) {
        if ((found & bit) !== 0 || !startsWithAnyCase(text, at, word)) continue;
        found |= bit;
        const b = 31 - Math.clz32(bit);
        if (lists[b] === NONE) lists[b] = [];
        lists[b].push(at);
      }
    }
    return lists;
  }

  /** Starts of alphanumeric runs beginning with two capital letters that `accept`. */
  caps(accept: (start: number) => boolean): number[] {
    return this.capsStarts.filter(accept);
  }

  /** Starts of the runs of digits that `accept` (given the run's start, its length and the code of the character after it, NaN at the end). */
  numbers(accept: (start: number, length: number, next: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.numberStarts.length; i++) {
      const s = this.numberStarts[i];
      const e = this.numberEnds[i];
      if (accept(s, e - s, this.text.charCodeAt(e))) out.push(s);
    }
    return out;
  }
}

export function profile(text: string): TextProfile {
  return new TextProfile(text);
}

/** True when `haystack` contains any of `needles`. */
export function includesAny(haystack: string, needles: readonly string[]): boolean {
  for (const n of needles) if (haystack.includes(n)) return true;
  return false;
}
