/**
 * Scanning helpers that find exactly what a global regex scan would, without running the regex
 * over the whole text: a cheap anchor (a literal found with indexOf, a character run found with a
 * lookup table) names the few positions where a match can begin, and a sticky copy of the regex is
 * tried only there. A global scan costs 5–20 ns per character per pattern; with thirty patterns
 * that alone caps throughput below 10 MB/s.
 *
 * Contract for callers: every match of the pattern must begin at one of the candidate starts, and
 * starts must be passed in ascending order. Then the matches reported, and their order, are the
 * ones `re.exec` in a `g` loop would report (a match at s is the same whether the engine reached s
 * by scanning or by lastIndex, since look-behinds read the string before lastIndex too).
 */

/** A copy of `re` that only matches at lastIndex. */
export function stickyCopy(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace("g", "") + "y");
}

/** A 128-entry table of the ASCII characters `cls` (a one-character regex) accepts; non-ASCII is never in it. */
export function asciiTable(cls: RegExp): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (cls.test(String.fromCharCode(c))) t[c] = 1;
  return t;
}

export const inTable = (t: Uint8Array, c: number): boolean => c < 128 && t[c] === 1;

/** A character code with ASCII capitals lowered. */
export const lowerAscii = (c: number): number => (c >= 65 && c <= 90 ? c | 32 : c);

/**
 * `text.charCodeAt(i)` for an `i` that may lie past either end (NaN there, as charCodeAt gives).
 * Optimized code that meets an out-of-range read for the first time (at the end of some text, long
 * after it was compiled) is thrown away and compiled again; checking the index avoids that.
 */
export const codeAt = (text: string, i: number): number => (i >= 0 && i < text.length ? text.charCodeAt(i) : NaN);

/**
 * Tries `sticky` at each of `starts` (ascending) as a global scan would: a match's end is where the
 * next may begin. `each` gets each match and `context` (the text is `m.input`): detectors pass a
 * module-level function and their candidates, since a closure made per call is an allocation per
 * detector per text, and a short text can cost less than the closures its detectors make.
 */
export function execAt<C>(sticky: RegExp, text: string, starts: readonly number[], each: (m: RegExpExecArray, context: C) => void, context?: C): void {
  let from = 0;
  let last = -1;
  for (const s of starts) {
    if (s < from || s === last) continue;
    last = s;
    sticky.lastIndex = s;
    const m = sticky.exec(text);
    if (!m) continue;
    each(m, context as C);
    from = s + Math.max(1, m[0].length);
  }
}

/** Positions `offset` characters before each occurrence of any of `literals`, ascending, none negative. */
export function literalStarts(text: string, literals: readonly string[], offset = 0): number[] {
  const out: number[] = [];
  for (const lit of literals) {
    for (let i = text.indexOf(lit); i >= 0; i = text.indexOf(lit, i + 1)) if (i >= offset) out.push(i - offset);
  }
  if (literals.length > 1) out.sort((a, b) => a - b);
  return out;
}


/** Letters (either case) and digits: the 36 characters trie words are made of. */
const TRIE_SLOTS = 36;
const TRIE_SLOT = new Int8Array(128).fill(-1);
for (let c = 0; c < 26; c++) TRIE_SLOT[97 + c] = TRIE_SLOT[65 + c] = c;
for (let d = 0; d < 10; d++) TRIE_SLOT[48 + d] = 26 + d;

/**
 * A trie of words (ASCII letters and digits) read backwards, letters in any case, for finding how
 * a key ends without cutting it out of the text. Transitions live in one flat typed array: a walk
 * is a few array reads, no hashing.
 */
export class ReversedTrie {
  private next = new Int32Array(TRIE_SLOTS * 64);
  /** nodes so far; node 0 is the root */
  size = 1;

  /** The node of `word`, created if need be. */
  node(word: string): number {
    let node = 0;
    for (let i = word.length - 1; i >= 0; i--) {
      const c = word.charCodeAt(i);
      const slot = c < 128 ? TRIE_SLOT[c] : -1;
      if (slot < 0) throw new Error(`trie words are ASCII letters and digits: ${word}`);
      let child = this.next[node * TRIE_SLOTS + slot];
      if (child === 0) {
        child = this.size++;
        if (this.size * TRIE_SLOTS > this.next.length) {
          const grown = new Int32Array(this.next.length * 2);
          grown.set(this.next);
          this.next = grown;
        }
        this.next[node * TRIE_SLOTS + slot] = child;
      }
      node = child;
    }
    return node;
  }

  /** The node one character `c` (any case) further back from `node`; 0 when no word goes on so. */
  step(node: number, c: number): number {
    const slot = c < 128 ? TRIE_SLOT[c] : -1;
    return slot < 0 ? 0 : this.next[node * TRIE_SLOTS + slot];
  }
}

/** A set of words (ASCII letters and digits) looked up backwards from a position, letters in any case. */
export class WordEndings {
  private readonly trie = new ReversedTrie();
  private readonly isWord: Uint8Array;

  constructor(words: readonly string[]) {
    const ends = words.map((w) => this.trie.node(w));
    this.isWord = new Uint8Array(this.trie.size);
    for (const node of ends) this.isWord[node] = 1;
  }

  /** True when text[0, end) ends with one of the words. */
  endsAt(text: string, end: number): boolean {
    let node = 0;
    for (let i = end - 1; i >= 0; i--) {
      node = this.trie.step(node, text.charCodeAt(i));
      if (node === 0) return false;
      if (this.isWord[node] === 1) return true;
    }
    return false;
  }
}
