/**
 * The float32 constants and polynomial coefficients of the shader math helpers (the WebGL
 * backend's GLSL `nb_*` functions and the WebGPU backend's WGSL ones): one table, so that the two
 * shader languages compute the same formulas with the same numbers.
 *
 * Each value is kept as the decimal literal the shaders are written with (a string), so the
 * emitted source is exactly what it was when the two files spelled them out; every literal has a
 * `.` or an exponent, which both GLSL and WGSL read as a float. Coefficients are listed highest
 * power first, the order Horner's scheme consumes them.
 *
 * @example
 * ```ts
 * import { F32_MATH, hornerSteps } from '@nabla/core';
 * const [c0, ...rest] = F32_MATH.expm1Series;
 * const body = `var p = ${c0};\n${hornerSteps('p', 'x', rest, '  ')}`;
 * // var p = 2.7557319e-6;
 * //   p = p * x + 2.4801587e-5;  ...
 * ```
 */
export const F32_MATH = Object.freeze({
  /** log2(e), ln 2 in two parts (Cody–Waite: k · ln2Hi is exact for the k that occur). */
  log2e: '1.44269504',
  ln2Hi: '0.693145751953125',
  ln2Lo: '1.4286068e-6',
  /** e^x overflows float32 above this and is 0 below `expUnderflow`. */
  expOverflow: '88.72283',
  expUnderflow: '-103.97208',
  /** e^x - 1 = x + x² · p(x) for |x| < 0.5: the Taylor coefficients 1/10! … 1/2!. */
  expm1Series: Object.freeze(['2.7557319e-6', '2.4801587e-5', '1.9841270e-4', '1.3888889e-3', '8.3333333e-3', '4.1666667e-2', '1.6666667e-1', '0.5']),
  /** 2/√π, the factor of erf's Maclaurin series. */
  twoOverSqrtPi: '1.1283791671',
  /** erf(x) = (2/√π) · x · p(x²) for |x| < 0.5: 1/9360, -1/1320, 1/216, -1/42, 1/10, -1/3, 1. */
  erfSeries: Object.freeze(['1.0 / 9360.0', '-1.0 / 1320.0', '1.0 / 216.0', '-1.0 / 42.0', '1.0 / 10.0', '-1.0 / 3.0', '1.0']),
  /** Abramowitz–Stegun 7.1.26: t = 1 / (1 + p·|x|), then a1 … a5 (lowest power first, as written). */
  erfAsP: '0.3275911',
  erfAs: Object.freeze(['0.254829592', '-0.284496736', '1.421413741', '-1.453152027', '1.061405429']),
  /** 4/π, and π/4 in four parts for the reduction of sin/cos/tan (Cephes' DP1…DP3 and a fourth). */
  fourOverPi: '1.27323954',
  piOver4Parts: Object.freeze(['0.78515625', '2.4187564849853516e-4', '3.7747668102383614e-8', '1.2816414596272807e-12']),
  /** Beyond 2^24 the reduction's integer multiple is inexact: the builtin takes over. */
  sinCosReduceLimit: '16777216.0',
  /** The multiple is split at this power of two so that each part times a π/4 part is exact. */
  sinCosSplit: '4096.0',
  /** Cephes' sinf/cosf polynomials on |r| <= π/4, in z = r². */
  sinPoly: Object.freeze(['-1.9515295891e-4', '8.3321608736e-3', '-1.6666654611e-1']),
  cosPoly: Object.freeze(['2.443315711809948e-5', '-1.388731625493765e-3', '4.166664568298827e-2']),
  /** Cephes' atanf: the range split at tan(3π/8) and tan(π/8), and its polynomial in z = x². */
  tan3PiOver8: '2.414213562',
  tanPiOver8: '0.414213562',
  atanPoly: Object.freeze(['8.05374449538e-2', '-1.38776856032e-1', '1.99777106478e-1', '-3.33329491539e-1']),
  /** Cephes' asinf polynomial in z = x² (or (1 - |x|)/2 above 0.5). */
  asinPoly: Object.freeze(['4.2163199048e-2', '2.4181311049e-2', '4.5470025998e-2', '7.4953002686e-2', '1.6666752422e-1']),
  pi: '3.141592654',
  piOver2: '1.570796327',
  piOver4: '0.785398163',
});

/**
 * The Horner steps `acc = acc * v + c;` for each coefficient (a negative one as `- c`), one line
 * each with `indent` before it; the caller declares `acc` with the leading coefficient, in its
 * shader language's syntax.
 */
export function hornerSteps(acc: string, v: string, coefficients: readonly string[], indent: string): string {
  return coefficients
    .map((c) => {
      const t = c.trim();
      const term = t.startsWith('-') ? `- ${t.slice(1).trim()}` : `+ ${t}`;
      return `${indent}${acc} = ${acc} * ${v} ${term};`;
    })
    .join('\n');
}

/**
 * One Horner expression, highest coefficient first and innermost: `((c0 * v + c1) * v - c2)` for
 * three (a negative one after the first as `- c`).
 */
export function hornerExpr(v: string, coefficients: readonly string[]): string {
  const [first, ...rest] = coefficients.map((c) => c.trim());
  let out = first ?? '0.0';
  for (const c of rest) out = `(${out} * ${v} ${c.startsWith('-') ? `- ${c.slice(1)}` : `+ ${c}`})`;
  return out;
}
