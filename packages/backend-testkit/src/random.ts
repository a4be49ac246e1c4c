/** Deterministic inputs: the same case draws the same numbers on every run and every device. */

/** A 32-bit seed from a case name (FNV-1a), so adding a case does not shift the others' data. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** mulberry32: small, fast, and good enough to spread test values. */
export function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi), rounded to 1/1024 so float32 and float64 start from the same numbers. */
export function uniform(next: () => number, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => Math.round((lo + (hi - lo) * next()) * 1024) / 1024);
}
