import { describe, expect, it } from 'vitest';
import { erf, ipow, pow, roundHalfEven, sigmoid } from './scalar-math.js';

// erf reference values from glibc (Python's math.erf), spanning each branch of the implementation.
const ERF_REF: [number, number][] = [
  [0, 0.0],
  [1e-300, 1.1283791670955126e-300],
  [1e-10, 1.1283791670955126e-10],
  [-1e-10, -1.1283791670955126e-10],
  [1e-5, 1.1283791670579e-5],
  [0.1, 0.1124629160182849],
  [-0.1, -0.1124629160182849],
  [0.25, 0.2763263901682369],
  [0.4999, 0.5204119951613866],
  [0.5, 0.5204998778130465],
  [0.5001, 0.5205877516768808],
  [0.75, 0.7111556336535151],
  [1, 0.8427007929497149],
  [-1, -0.8427007929497149],
  [1.2345, 0.9191623964135658],
  [1.5, 0.9661051464753108],
  [2, 0.9953222650189527],
  [2.4999, 0.9995928300996666],
  [2.5, 0.999593047982555],
  [2.5001, 0.9995932657565293],
  [3, 0.9999779095030014],
  [-3, -0.9999779095030014],
  [3.7, 0.9999998328489421],
  [4.5, 0.9999999998033839],
  [5, 0.9999999999984626],
  [5.9, 0.9999999999999999],
  [6, 1.0],
  [7, 1.0],
  [-0.7071067811865476, -0.682689492137086],
  [0.7071067811865476, 0.682689492137086],
  [1.4142135623730951, 0.9544997361036416],
];

describe('erf', () => {
  it.each(ERF_REF)('erf(%d) matches glibc to ~1e-15 relative', (x, ref) => {
    const v = erf(x);
    expect(Math.abs(v - ref)).toBeLessThanOrEqual(2e-15 * Math.abs(ref));
  });

  it('keeps 1 - erf(3) (= erfc(3)) accurate to ~1e-11 relative', () => {
    expect(Math.abs(1 - erf(3) - 2.2090496998639075e-5)).toBeLessThan(2.2e-5 * 1e-10);
  });

  it('handles the limits and NaN', () => {
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    expect(Object.is(erf(-0), -0)).toBe(true);
  });

  it('is odd and monotone on a fine grid', () => {
    let prev = -1;
    for (let x = -6; x <= 6; x += 0.001) {
      const v = erf(x);
      expect(v).toBeGreaterThanOrEqual(prev);
      expect(erf(-x)).toBe(-v);
      prev = v;
    }
  });
});

describe('roundHalfEven', () => {
  it.each([
    [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, -0], [-1.5, -2], [-2.5, -2], [-3.5, -4],
    [2.4, 2], [2.6, 3], [-2.6, -3], [0.49999999999999994, 0], [4503599627370497, 4503599627370497],
  ])('round(%d) = %d', (x, r) => {
    expect(roundHalfEven(x)).toBe(r);
  });

  it('passes NaN and infinities through', () => {
    expect(roundHalfEven(NaN)).toBeNaN();
    expect(roundHalfEven(Infinity)).toBe(Infinity);
    expect(roundHalfEven(-Infinity)).toBe(-Infinity);
  });
});

describe('sigmoid', () => {
  it('is stable at the extremes', () => {
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(-700)).toBeCloseTo(Math.exp(-700), 300);
    expect(sigmoid(-700)).toBeGreaterThan(0);
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(NaN)).toBeNaN();
  });

  it('matches 1/(1+e^-x) in the normal range', () => {
    for (const x of [-20, -3, -0.5, 0.5, 3, 20]) {
      expect(sigmoid(x)).toBeCloseTo(1 / (1 + Math.exp(-x)), 15);
    }
  });
});

describe('pow', () => {
  it('follows C/PyTorch where JavaScript differs', () => {
    expect(pow(1, NaN)).toBe(1);
    expect(pow(1, Infinity)).toBe(1);
    expect(pow(-1, Infinity)).toBe(1);
    expect(pow(-1, -Infinity)).toBe(1);
    expect(pow(0, 0)).toBe(1);
    expect(pow(NaN, 0)).toBe(1);
    expect(pow(2, 10)).toBe(1024);
    expect(pow(-8, 1 / 3)).toBeNaN();
  });

  it('ipow wraps like int32 arithmetic', () => {
    expect(ipow(3, 4)).toBe(81);
    expect(ipow(-2, 3)).toBe(-8);
    expect(ipow(7, 0)).toBe(1);
    expect(ipow(2, 31)).toBe(-2147483648);
    expect(ipow(2, 32)).toBe(0);
    expect(ipow(3, 21)).toBe(Number(BigInt.asIntN(32, 3n ** 21n)));
    expect(ipow(2, -1)).toBe(0);
    expect(ipow(-1, -3)).toBe(-1);
  });
});
