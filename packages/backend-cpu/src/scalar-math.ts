/**
 * Scalar functions the compiled elementwise kernels call, with PyTorch's semantics where they
 * differ from JavaScript's `Math`.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const INV_SQRT_PI = 0.5641895835477563; // 1/√π

/**
 * erf for x >= 0, to a few ulp over the whole range (checked against glibc in the tests).
 * - x < 0.5: Maclaurin series; terms shrink fast and the sum stays near x, so no cancellation.
 * - x < 2.5: erf(x) = 2/√π · e^{-x²} · Σ (2x²)^n x / (1·3·…·(2n+1)); every term is positive, so
 *   unlike the Maclaurin series it loses nothing to cancellation at larger x (≤ 40 terms).
 * - x < 6: 1 - erfc(x), erfc by its continued fraction (Lentz); erfc < 4e-4 here, so its own
 *   error barely reaches erf (≤ 50 terms).
 * - x >= 6: erf(x) rounds to 1 in double precision.
 */
function erfNonNeg(x: number): number {
  if (x < 0.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 40; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) <= 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (x < 2.5) {
    const x2 = 2 * x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
      if (term <= 1e-17 * sum) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
  }
  if (x >= 6) return 1;
  return 1 - erfcContinuedFraction(x);
}

/** erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated by modified Lentz. */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n * 0.5;
    d = x + a * d;
    if (d === 0) d = tiny;
    d = 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

export function erf(x: number): number {
  // NaN and ±0 come back unchanged (erf(-0) = -0).
  if (x !== x || x === 0) return x;
  return x < 0 ? -erfNonNeg(-x) : erfNonNeg(x);
}

/** 1/(1+e^{-x}) without overflow: for x < 0, e^x/(1+e^x) (e^{-x} could overflow to inf). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Round half to even (PyTorch/NumPy); `Math.round` rounds halves toward +∞. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // r - x is exactly 0.5 only for a tie that Math.round sent up; keep it only if r is even.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * C's pow, which PyTorch follows: pow(1, y) = 1 and pow(-1, ±∞) = 1 for any y, NaN included,
 * where JavaScript gives NaN.
 */
export function pow(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

/**
 * Integer power with int32 wrap-around (as PyTorch's integer pow). Negative exponents give the
 * C integer-division result (0 unless |a| = 1); core is expected to reject them before.
 */
export function ipow(a: number, b: number): number {
  if (b < 0) {
    if (a === 1) return 1;
    if (a === -1) return b % 2 === 0 ? 1 : -1;
    return 0;
  }
  let result = 1;
  let base = a | 0;
  let e = b;
  while (e > 0) {
    if (e & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}
