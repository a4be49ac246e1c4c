/** Dropout: the runtime's RNG (reproducible with manualSeed), PyTorch's 1/(1-p) scaling, off in eval. */
import type { Runtime } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, values } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

describe('Dropout', () => {
  it('zeroes about p of the elements and scales the others by 1/(1-p); the gradient uses the same mask', () => {
    const drop = new nn.Dropout(0.3);
    const x = rt.ones([100, 100], { requiresGrad: true });
    const y = drop.call(x);
    const v = values(y);
    const zeros = v.filter((e) => e === 0).length / v.length;
    expect(zeros).toBeGreaterThan(0.27);
    expect(zeros).toBeLessThan(0.33);
    expect(v.every((e) => e === 0 || Math.abs(e - 1 / 0.7) < 1e-6)).toBe(true);
    y.sum().backward();
    expect(values(x.grad!)).toEqual(v);
  });

  it('draws from the runtime RNG: the same seed gives the same mask, another seed another', () => {
    const drop = new nn.Dropout(0.5);
    const x = rt.ones([64]);
    rt.manualSeed(1);
    const a = values(drop.call(x));
    rt.manualSeed(1);
    const b = values(drop.call(x));
    const c = values(drop.call(x));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('is the identity in eval mode and for p = 0; p = 1 zeroes everything', () => {
    const x = rt.randn([10]);
    expect(new nn.Dropout(0.5).eval().call(x)).toBe(x);
    expect(new nn.Dropout(0).call(x)).toBe(x);
    expect(values(new nn.Dropout(1).call(x)).every((v) => v === 0)).toBe(true);
    expect(() => new nn.Dropout(1.5)).toThrow(/dropout probability has to be between 0 and 1, but got 1.5/);
  });
});
