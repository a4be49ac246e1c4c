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

/**
 * `n` numbers uniform in [lo, hi) from an xorshift32 stream seeded with `seed` (not rounded):
 * plain seeded data for a backend's own tests, in Node and in a bundled browser page alike. The
 * repository's WebGPU and WebGL suites draw their inputs from it.
 *
 * @example
 * import { randoms } from '@nabla/backend-testkit';
 * const x = rt.tensor(randoms(12, 1), { shape: [3, 4], device: 'webgl' }); // same numbers every run
 */
export function randoms(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    out[i] = lo + (s / 4294967296) * (hi - lo);
  }
  return out;
}
