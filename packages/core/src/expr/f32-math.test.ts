import { describe, expect, it } from 'vitest';
import { F32_MATH, hornerExpr, hornerSteps } from './f32-math.js';

/** A literal or a quotient of literals, as the shaders spell them, evaluated. */
const num = (s: string): number => s.split('/').map((p) => Number(p.replace(/\s+/g, ''))).reduce((a, b) => a / b);
const poly = (coefficients: readonly string[], v: number): number => coefficients.reduce((p, c) => p * v + num(c), 0);
const grid = (lo: number, hi: number, n = 201): number[] => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
const worst = (xs: number[], f: (x: number) => number, g: (x: number) => number): number => Math.max(...xs.map((x) => Math.abs(f(x) - g(x)) / Math.max(1e-30, Math.abs(g(x)))));

describe('F32_MATH, the shader helpers\' constants', () => {
  it('spells every value as a float literal both GLSL and WGSL accept', () => {
    const all = Object.values(F32_MATH).flatMap((v) => (typeof v === 'string' ? [v] : [...v]));
    for (const v of all) for (const part of v.split('/')) expect(part.trim(), v).toMatch(/^-?\d+\.\d*(e-?\d+)?$/);
  });

  it('its polynomials are the functions they stand for, to float32 accuracy on their ranges', () => {
    const M = F32_MATH;
    const small = grid(-0.5, 0.5).filter((x) => x !== 0);
    expect(worst(small, (x) => x + x * x * poly(M.expm1Series, x), Math.expm1)).toBeLessThan(2e-7);
    expect(worst(small, (x) => num(M.twoOverSqrtPi) * x * poly(M.erfSeries, x * x), erf)).toBeLessThan(2e-7);
    const quarter = grid(-Math.PI / 4, Math.PI / 4).filter((x) => x !== 0);
    expect(worst(quarter, (r) => poly(M.sinPoly, r * r) * r * r * r + r, Math.sin)).toBeLessThan(2e-7);
    expect(worst(quarter, (r) => poly(M.cosPoly, r * r) * r ** 4 - 0.5 * r * r + 1, Math.cos)).toBeLessThan(2e-7);
    const tanEighth = grid(-num(M.tanPiOver8), num(M.tanPiOver8)).filter((x) => x !== 0);
    expect(worst(tanEighth, (x) => poly(M.atanPoly, x * x) * x ** 3 + x, Math.atan)).toBeLessThan(2e-7);
    const half = grid(-0.5, 0.5).filter((x) => Math.abs(x) >= 1e-4);
    expect(worst(half, (x) => poly(M.asinPoly, x * x) * x ** 3 + x, Math.asin)).toBeLessThan(2e-7);
    // π/4 in parts, ln 2 in two parts: their sums are the constants.
    expect(Math.abs(M.piOver4Parts.map(num).reduce((a, b) => a + b) - Math.PI / 4)).toBeLessThan(1e-16);
    expect(Math.abs(num(M.ln2Hi) + num(M.ln2Lo) - Math.LN2)).toBeLessThan(1e-12);
    // Abramowitz–Stegun 7.1.26 for |x| >= 0.5: absolute error <= 1.5e-7.
    const as = (x: number): number => {
      const t = 1 / (1 + num(M.erfAsP) * x);
      return 1 - t * M.erfAs.reduceRight((acc, c) => num(c) + t * acc, 0) * Math.exp(-x * x);
    };
    for (const x of grid(0.5, 4)) expect(Math.abs(as(x) - erf(x)), `erf(${x})`).toBeLessThanOrEqual(1.5e-7);
  });
});

describe('Horner source', () => {
  it('steps write a negative coefficient as a subtraction, one line each', () => {
    expect(hornerSteps('p', 'z', ['-1.5', '2.0'], '  ')).toBe('  p = p * z - 1.5;\n  p = p * z + 2.0;');
    expect(hornerSteps('p', 's', ['-1.0 / 3.0'], '')).toBe('p = p * s - 1.0 / 3.0;');
  });
  it('one expression nests the coefficients innermost first', () => {
    expect(hornerExpr('z', ['-1.0e-4', '8.0e-3', '-0.5'])).toBe('((-1.0e-4 * z + 8.0e-3) * z - 0.5)');
    expect(hornerExpr('z', ['3.0'])).toBe('3.0');
  });
});

/** erf by its Maclaurin series to convergence (double precision, |x| <= 4). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
