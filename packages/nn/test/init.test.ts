/**
 * nn.init: the bounds and spreads of PyTorch's initializers, drawn from the runtime's RNG (so
 * `manualSeed` makes a model reproducible), and PyTorch's default Linear / Conv2d init.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, values } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

function stats(t: Tensor): { min: number; max: number; mean: number; std: number } {
  const v = values(t);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { min: Math.min(...v), max: Math.max(...v), mean, std };
}

describe('initializers', () => {
  it('uniform_(a, b) and normal_(mean, std)', () => {
    const u = stats(nn.init.uniform_(rt.zeros([200, 100]), -2, 3));
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(0.5, 1);
    expect(u.std).toBeCloseTo(5 / Math.sqrt(12), 1);
    const n = stats(nn.init.normal_(rt.zeros([200, 100]), 1, 0.5));
    expect(n.mean).toBeCloseTo(1, 1);
    expect(n.std).toBeCloseTo(0.5, 1);
  });

  it('xavierUniform_: U(±gain·√(6/(fanIn+fanOut)))', () => {
    const bound = 2 * Math.sqrt(6 / (300 + 100));
    const s = stats(nn.init.xavierUniform_(rt.zeros([100, 300]), 2));
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(0.98 * bound);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 2);
  });

  it('kaimingUniform_: U(±√(6/fanIn)) for ReLU; fan_out mode; conv fans count the kernel', () => {
    const relu = stats(nn.init.kaimingUniform_(rt.zeros([100, 300]), { nonlinearity: 'relu' }));
    expect(relu.max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(relu.std).toBeCloseTo(Math.sqrt(6 / 300) / Math.sqrt(3), 2);
    const out = stats(nn.init.kaimingUniform_(rt.zeros([100, 300]), { mode: 'fan_out' }));
    expect(out.std).toBeCloseTo(Math.sqrt(6 / 100) / Math.sqrt(3), 2);
    expect(nn.init.calculateFanInAndFanOut(rt.zeros([8, 3, 5, 5]))).toEqual([75, 200]);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(nn.init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(2 / 6), 15);
  });

  it("Linear and Conv2d use PyTorch's default: weight and bias in U(±1/√fanIn)", () => {
    const lin = new nn.Linear(400, 300, { runtime: rt });
    const w = stats(lin.weight);
    const bound = 1 / Math.sqrt(400);
    expect(w.max).toBeLessThanOrEqual(bound);
    expect(w.min).toBeGreaterThanOrEqual(-bound);
    expect(w.max).toBeGreaterThan(0.99 * bound);
    expect(w.std).toBeCloseTo(bound / Math.sqrt(3), 3);
    expect(stats(lin.bias!).max).toBeLessThanOrEqual(bound);
    const conv = new nn.Conv2d(4, 16, 3, { runtime: rt });
    expect(stats(conv.weight).max).toBeLessThanOrEqual(1 / Math.sqrt(36));
    expect(stats(conv.bias!).min).toBeGreaterThanOrEqual(-1 / Math.sqrt(36));
  });

  it('manualSeed makes initial weights reproducible', () => {
    rt.manualSeed(42);
    const a = new nn.Linear(5, 3, { runtime: rt });
    rt.manualSeed(42);
    const b = new nn.Linear(5, 3, { runtime: rt });
    expect(values(b.weight)).toEqual(values(a.weight));
    expect(values(b.bias!)).toEqual(values(a.bias!));
  });

  it('initializers record nothing and keep the tensor', () => {
    const p = new nn.Parameter(rt.zeros([3, 3]));
    expect(nn.init.xavierUniform_(p)).toBe(p);
    expect(p.isLeaf).toBe(true);
    expect(p.gradFn).toBeNull();
  });
});
