/**
 * Deterministic float32 inputs in [-scale, scale) from a 32-bit LCG, shared by the thread tests
 * and the browser pages they bundle, so every runtime being compared (1 vs 2 threads, Node vs a
 * page) gets the same bits without a random source.
 */
export function seeded(n: number, seed: number, scale = 1): Float32Array {
  const d = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return d;
}
