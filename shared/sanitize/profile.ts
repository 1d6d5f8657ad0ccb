/**
 * One cheap pass over the text that tells every detector where it could possibly match, so that
 * no detector scans the whole text with its own expression (thirty such scans cost more than all
 * the rest of sanitizing put together).
 *
 * It records:
 *  - counts and flags that let a detector skip itself (no "@", no "://", fewer than 13 digits…);
 *  - cues: word starts whose first three characters (ASCII, any case) may begin a keyword some
 *    detector registered with `cue()`. Every keyword-led pattern ("\b(?:phone|tel|…)", "\bBearer",
 *    "\bsk-") starts at a word start, so its sticky copy only needs trying at its cues;
 *  - number starts: where a run of digits begins (phone, card, SSN, IP, date patterns start there);
 *  - caps starts: where an alphanumeric run begins with two capital letters (IBAN, NINO, SSN…).
 *
 * The pass is the one loop that touches every character, so it is written for speed: an inner loop
 * per word and per digit run, and class lookups in a table.
 */
import { codeAt, lowerAscii } from "./scan.js";

/** Word starts are keyed by their first two characters, lower-cased: (c0 << 7) | c1. 0: no keyword begins so. */
const cueSlot = new Uint8Array(128 * 128);
/**
 * Per slot, the lower-cased third characters its keywords allow (a 128-bit set in four words), so
 * that "the" is not cued for "thread" and "thanks". A two-character keyword ("id", "to") allows any
 * third character (`anyThird`).
 */
const thirdChars: Uint32Array[] = [new Uint32Array(4)];
const anyThird: boolean[] = [false];
/** Per slot: the lower-case keywords with that key and the cue bit of each (a cue is tried only where one of its keywords begins). */
const cueWords: string[][] = [[]];
const cueBits: number[][] = [[]];
let nextCueBit = 0;

/** shared by every cue that found nothing; never written to */
const NONE: number[] = [];

/**
 * Registers the keywords a detector's matches begin with (at a word start, any case) and returns
 * its cue bit. Called once per detector at module load; a match that begins with a keyword not
 * listed here would be missed, so list every alternative of the pattern.
 */
export function cue(keywords: readonly string[]): number {
  if (nextCueBit >= 31) throw new Error("too many sanitizer cues");
  const bit = 1 << nextCueBit++;
  for (const k of keywords) {
    const word = k.toLowerCase();
    const c0 = lowerAscii(k.charCodeAt(0));
    const c1 = lowerAscii(k.charCodeAt(1));
    if (!(c0 < 128 && c1 < 128)) throw new Error(`cue keyword needs two ASCII characters: ${k}`);
    const key = (c0 << 7) | c1;
    let slot = cueSlot[key];
    if (slot === 0) {
      slot = cueWords.length;
      if (slot > 255) throw new Error("too many sanitizer cue keys");
      cueSlot[key] = slot;
      cueWords.push([]);
      cueBits.push([]);
      thirdChars.push(new Uint32Array(4));
      anyThird.push(false);
    }
    cueWords[slot].push(word);
    cueBits[slot].push(bit);
    const c2 = word.charCodeAt(2);
    if (word.length === 2 || c2 >= 128) anyThird[slot] = true;
    else thirdChars[slot][c2 >> 5] |= 1 << (c2 & 31);
  }
  return bit;
}

/** Whether some keyword of `slot` can begin at a word start whose third character is `c2` (-1: the text ends first). */
function thirdFits(slot: number, c2: number): boolean {
  if (anyThird[slot]) return true;
  if (c2 < 0 || c2 >= 128) return false;
  const l = lowerAscii(c2);
  return (thirdChars[slot][l >> 5] & (1 << (l & 31))) !== 0;
}

/** True when `text` at `at` begins with `word` (lower case), ASCII letters compared in any case; the first `known` characters are known to match. */
function startsWithAnyCase(text: string, at: number, word: string, known: number): boolean {
  if (at + word.length > text.length) return false;
  for (let i = known; i < word.length; i++) if (lowerAscii(text.charCodeAt(at + i)) !== word.charCodeAt(i)) return false;
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
const LETTER = UPPER | LOWER;
/** Tokens shorter than this are never secrets by entropy alone (see entropy.ts). */
export const TOKEN_MIN = 16;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
for (let c = 97; c <= 122; c++) CLASS[c] = LOWER;
CLASS[95] = UNDERSCORE;
for (const c of "+/~-") CLASS[c.charCodeAt(0)] = TOKEN_PUNCT;

const classOf = (c: number): number => (c < 128 ? CLASS[c] : 0);
const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;

export class TextProfile {
  digits = 0;
  colons = 0;
  at = false;
  plus = false;
  dot = false;
  quote = false;
  /** Some two-character sequences detectors look for with indexOf, so they can skip the scan when absent. */
  scheme = false; // "://"
  doubleColon = false; // "::"
  doubleEquals = false; // "=="
  doubleDash = false; // "--"
  tilde = false; // "~"
  /** word starts whose first three characters may begin some cue keyword */
  private readonly cueAt: number[] = [];
  /** where each run of digits begins, and where it ends (ascending) */
  readonly numberStarts: number[] = [];
  readonly numberEnds: number[] = [];
  /** positions of ":" and "=" (assignment operators) */
  readonly operators: number[] = [];
  /** [start, end) of each run of token characters ([A-Za-z0-9+/_~-]) at least TOKEN_MIN long */
  readonly tokenRuns: number[] = [];
  /** where each alphanumeric run that begins with two capital letters begins */
  private readonly capsStarts: number[] = [];
  /** per cue bit, its verified word starts (built on first use) */
  private cueLists: number[][] | undefined;

  constructor(readonly text: string) {
    const n = text.length;
    const { cueAt, numberStarts, numberEnds, operators, tokenRuns, capsStarts } = this;
    let digits = 0;
    let colons = 0;
    let i = 0;
    while (i < n) {
      let c = text.charCodeAt(i);
      let k = classOf(c);
      if ((k & TOKEN) === 0) {
        if (c === 58) {
          colons++;
          operators.push(i);
          const next = codeAt(text, i + 1);
          if (next === 58) this.doubleColon = true;
          else if (next === 47 && codeAt(text, i + 2) === 47) this.scheme = true;
        } else if (c === 61) {
          operators.push(i);
          if (codeAt(text, i + 1) === 61) this.doubleEquals = true;
        }
        else if (c === 64) this.at = true;
        else if (c === 46) this.dot = true;
        else if (c === 34) this.quote = true;
        i++;
        continue;
      }
      // a run of token characters: words ([A-Za-z0-9_]) and the punctuation between them (+ / ~ -)
      const tokenStart = i;
      for (;;) {
        if (k === TOKEN_PUNCT) {
          if (c === 43) this.plus = true;
          else if (c === 126) this.tilde = true;
          else if (c === 45 && codeAt(text, i + 1) === 45) this.doubleDash = true;
          if (++i >= n) break;
          c = text.charCodeAt(i);
          k = classOf(c);
          if ((k & TOKEN) === 0) break;
          continue;
        }
        // a word starts at i
        if (i + 1 < n) {
          const c1 = text.charCodeAt(i + 1);
          if (c1 < 128) {
            const slot = cueSlot[(lowerAscii(c) << 7) | lowerAscii(c1)];
            if (slot !== 0 && thirdFits(slot, i + 2 < n ? text.charCodeAt(i + 2) : -1)) cueAt.push(i);
          }
        }
        // false after "_" too: "_DE44" holds a capitalised run
        let afterAlnum = false;
        // each branch leaves i on the first character it did not take, and c holding it
        for (;;) {
          if (k === DIGIT) {
            const s = i;
            while (++i < n) {
              c = text.charCodeAt(i);
              if (!isDigitCode(c)) break;
            }
            digits += i - s;
            numberStarts.push(s);
            numberEnds.push(i);
            afterAlnum = true;
          } else if (k === UNDERSCORE) {
            if (++i < n) c = text.charCodeAt(i);
            afterAlnum = false;
          } else {
            if (k === UPPER && !afterAlnum && i + 1 < n && classOf(text.charCodeAt(i + 1)) === UPPER) capsStarts.push(i);
            afterAlnum = true;
            // the rest of a run of letters needs nothing recorded
            while (++i < n) {
              c = text.charCodeAt(i);
              if ((classOf(c) & LETTER) === 0) break;
            }
          }
          if (i >= n) break;
          k = classOf(c);
          if ((k & WORD) === 0) break;
        }
        if (i >= n || k === 0) break;
      }
      if (i - tokenStart >= TOKEN_MIN) tokenRuns.push(tokenStart, i);
    }
    this.digits = digits;
    this.colons = colons;
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
      const slot = cueSlot[(lowerAscii(text.charCodeAt(at)) << 7) | lowerAscii(text.charCodeAt(at + 1))];
      const words = cueWords[slot];
      const bits = cueBits[slot];
      let found = 0;
      for (let w = 0; w < words.length; w++) {
        const bit = bits[w];
        // the slot is the first two characters
        if ((found & bit) !== 0 || !startsWithAnyCase(text, at, words[w], 2)) continue;
        found |= bit;
        const b = 31 - Math.clz32(bit);
        if (lists[b] === NONE) lists[b] = [];
        lists[b].push(at);
      }
    }
    return lists;
  }

  /** Starts of alphanumeric runs beginning with two capital letters that `accept` (given the text and the start). */
  caps(accept: (text: string, start: number) => boolean): readonly number[] {
    if (this.capsStarts.length === 0) return NONE;
    const out: number[] = [];
    for (const s of this.capsStarts) if (accept(this.text, s)) out.push(s);
    return out;
  }

  /** Starts of the runs of digits that `accept` (given the run's start, its length and the code of the character after it, NaN at the end). */
  numbers(accept: (start: number, length: number, next: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.numberStarts.length; i++) {
      const s = this.numberStarts[i];
      const e = this.numberEnds[i];
      if (accept(s, e - s, codeAt(this.text, e))) out.push(s);
    }
    return out;
  }

  /**
   * Starts of the runs of digits from which a chain of runs joined by single spaces or dashes
   * ("4111 1111-1111 1111") holds at least `minDigits` digits, counting from that run on.
   */
  numberChains(minDigits: number): number[] {
    const { text, numberStarts: starts, numberEnds: ends } = this;
    const out: number[] = [];
    for (let i = 0; i < starts.length; ) {
      // runs i..j form one chain; its digits from run r on are total minus those before r
      let j = i;
      let total = ends[i] - starts[i];
      while (j + 1 < starts.length && ends[j] + 1 === starts[j + 1] && isChainSeparator(text.charCodeAt(ends[j]))) {
        j++;
        total += ends[j] - starts[j];
      }
      for (let r = i; r <= j && total >= minDigits; r++) {
        out.push(starts[r]);
        total -= ends[r] - starts[r];
      }
      i = j + 1;
    }
    return out;
  }
}

const isChainSeparator = (c: number): boolean => c === 32 || c === 45;

export function profile(text: string): TextProfile {
  return new TextProfile(text);
}
