/**
 * BatchNorm1d/2d on WebGPU (float32) against the same PyTorch 1.13 fixtures as batchnorm.test.ts:
 * outputs, input gradients and running statistics over three steps, then eval mode; nothing read
 * back synchronously (momentum null included). Skips, saying why, without an adapter.
 */
import { type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { gpuRuntime, hashedValues, maxAbsDiff } from './helpers.js';
import { parity } from './parity-fixtures.js';

let rt: Runtime | null = null;
afterAll(async () => {
  await rt?.dispose();
});

const TOL = 2e-4;
const gpu = (shape: number[], seed: number, scale = 1, shift = 0): Tensor =>
  rt!.tensor(Float32Array.from(hashedValues(shape.reduce((a, b) => a * b, 1), seed, scale, shift)), { shape, device: 'webgpu' });
const read = async (t: Tensor): Promise<number[]> => Array.from(await t.data(), Number);

describe('BatchNorm on WebGPU against PyTorch 1.13', () => {
  it('bn1d_2d, bn1d_3d_cumulative and bn2d: three training steps and eval, or says why it skipped', async (ctx) => {
    const made = await gpuRuntime();
    if (typeof made === 'string') {
      console.log(`[batchnorm] webgpu SKIPPED: ${made}`);
      ctx.skip();
      return;
    }
    rt = made;
    for (const name of ['bn1d_2d', 'bn1d_3d_cumulative', 'bn2d'] as const) {
      const c = parity.batchnorm[name]!;
      const opts: nn.BatchNormOptions = { runtime: rt, device: 'webgpu' };
      if ('momentum' in c.options) opts.momentum = c.options.momentum ?? null;
      if (c.options.eps !== undefined) opts.eps = c.options.eps;
      const m = c.cls === '1d' ? new nn.BatchNorm1d(c.C, opts) : new nn.BatchNorm2d(c.C, opts);
      rt.noGrad(() => {
        m.weight!.copy_(gpu([c.C], 50, 1, 1));
        m.bias!.copy_(gpu([c.C], 51));
      });
      for (let step = 0; step < c.steps.length; step++) {
        const s = c.steps[step]!;
        const x = gpu(c.shape, 100 + step, 3, 0.5).requiresGrad_(true);
        m.zeroGrad();
        const out = m.call(x);
        out.mul(gpu(c.shape, 200 + step)).sum().backward();
        expect(maxAbsDiff(await read(out), s.out), `${name} step ${step} out`).toBeLessThan(TOL);
        expect(maxAbsDiff(await read(x.grad!), s.gradX), `${name} step ${step} grad x`).toBeLessThan(TOL);
        expect(maxAbsDiff(await read(m.runningMean!), s.runningMean!), `${name} step ${step} running mean`).toBeLessThan(TOL);
        expect(maxAbsDiff(await read(m.runningVar!), s.runningVar!), `${name} step ${step} running var`).toBeLessThan(TOL);
        expect(await read(m.numBatchesTracked!)).toEqual([s.numBatchesTracked]);
      }
      m.eval();
      const ev = rt.noGrad(() => m.call(gpu(c.shape, 300, 2)));
      expect(maxAbsDiff(await read(ev), c.eval), `${name} eval`).toBeLessThan(TOL);
    }
  }, 300_000);
});
