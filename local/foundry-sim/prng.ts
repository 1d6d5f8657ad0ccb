// Deterministic randomness keyed by what is being decided (not by call order), so the nth read of a
// run gets the same fault however the reads of different runs interleave.

/** FNV-1a over the text, then murmur3's finalizer so nearby keys spread over the whole range. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) fixed by the seed and the parts. */
export function uniform(seed: number, ...parts: (string | number)[]): number {
  return hash32(`${seed}|${parts.join("|")}`) / 2 ** 32;
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** An id shaped like Foundry's (`msg_` + 24 base62 characters), stable for the same key. */
export function stableId(prefix: string, key: string, length = 24): string {
  let out = "";
  for (let round = 0; out.length < length; round++) {
    let h = hash32(`${key}#${round}`);
    for (let i = 0; i < 5 && out.length < length; i++) {
      out += ALPHABET[h % 62];
      h = Math.floor(h / 62);
    }
  }
  return `${prefix}_${out}`;
}
