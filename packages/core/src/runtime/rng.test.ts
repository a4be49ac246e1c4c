import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('the runtime RNG', () => {
  it('repeats a sequence for a seed and restores a saved state', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    const state = a.getState();
    const next = [a.normal(), a.normal(), a.normal()];
    a.setState(state);
    expect([a.normal(), a.normal(), a.normal()]).toEqual(next);
  });
  it('gives uniforms in [0, 1) and normals with mean 0, variance 1', () => {
    const r = new Rng(1);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});
