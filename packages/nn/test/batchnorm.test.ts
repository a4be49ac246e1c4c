/**
 * BatchNorm1d / BatchNorm2d against PyTorch 1.13 (fixtures/parity.json): three training steps
 * (outputs, gradients, running statistics, numBatchesTracked), then eval mode; for momentum,
 * momentum null (cumulative average), eps, affine false and trackRunningStats false. Plus the
 * state dict and PyTorch's error messages.
 */
import type { Runtime } from '@nabla/core';
import { gradcheck } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, hashed, maxAbsDiff, values } from './helpers.js';
import { parity } from './parity-fixtures.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

const TOL = 1e-10;
/** PyTorch's state dict names → Nabla's (camelCase, like every other property). */
const CAMEL: Record<string, string> = { running_mean: 'runningMean', running_var: 'runningVar', num_batches_tracked: 'numBatchesTracked' };

describe('BatchNorm against PyTorch 1.13', () => {
  for (const [name, c] of Object.entries(parity.batchnorm)) {
    it(name, () => {
      const o = c.options;
      const opts: nn.BatchNormOptions = { runtime: rt, dtype: 'float64' };
      if ('momentum' in o) opts.momentum = o.momentum ?? null;
      if (o.eps !== undefined) opts.eps = o.eps;
      if (o.affine !== undefined) opts.affine = o.affine;
      if (o.track_running_stats !== undefined) opts.trackRunningStats = o.track_running_stats;
      const m = c.cls === '1d' ? new nn.BatchNorm1d(c.C, opts) : new nn.BatchNorm2d(c.C, opts);
      if (m.weight) {
        rt.noGrad(() => {
          m.weight!.copy_(hashed(rt, [c.C], 50, { shift: 1 }));
          m.bias!.copy_(hashed(rt, [c.C], 51));
        });
      }
      expect(Object.keys(m.stateDict())).toEqual(c.stateDictKeys.map((k) => CAMEL[k] ?? k));
      expect(Object.keys(m.stateDict({ pytorchNames: true }))).toEqual(c.stateDictKeys);
      c.steps.forEach((s, step) => {
        const x = hashed(rt, c.shape, 100 + step, { scale: 3, shift: 0.5, requiresGrad: true });
        m.zeroGrad();
        const out = m.call(x);
        out.mul(hashed(rt, c.shape, 200 + step)).sum().backward();
        expect(maxAbsDiff(values(out), s.out), `step ${step} out`).toBeLessThan(TOL);
        expect(maxAbsDiff(values(x.grad!), s.gradX), `step ${step} grad x`).toBeLessThan(TOL);
        if (s.gradW) expect(maxAbsDiff(values(m.weight!.grad!), s.gradW), `step ${step} grad weight`).toBeLessThan(TOL);
        if (s.gradB) expect(maxAbsDiff(values(m.bias!.grad!), s.gradB), `step ${step} grad bias`).toBeLessThan(TOL);
        if (s.runningMean) {
          expect(maxAbsDiff(values(m.runningMean!), s.runningMean), `step ${step} running mean`).toBeLessThan(TOL);
          expect(maxAbsDiff(values(m.runningVar!), s.runningVar!), `step ${step} running var`).toBeLessThan(TOL);
          expect(m.numBatchesTracked!.item()).toBe(s.numBatchesTracked);
        } else expect(m.runningMean).toBeNull();
      });
      m.eval();
      const ev = rt.noGrad(() => m.call(hashed(rt, c.shape, 300, { scale: 2 })));
      expect(maxAbsDiff(values(ev), c.eval), 'eval output').toBeLessThan(TOL);
    });
  }
});

describe('BatchNorm', () => {
  it('passes gradcheck in training mode (through the batch statistics)', () => {
    const m = new nn.BatchNorm2d(2, { runtime: rt, dtype: 'float64' });
    const x = hashed(rt, [3, 2, 2, 2], 7, { scale: 2, requiresGrad: true });
    expect(gradcheck((t) => m.call(t), [x])).toBe(true);
  });

  it('stateDict carries the running statistics and numBatchesTracked (int32), and loads back', () => {
    const a = new nn.BatchNorm1d(3, { runtime: rt });
    a.call(rt.randn([4, 3]));
    a.call(rt.randn([4, 3]));
    const sd = a.stateDict();
    expect(sd.numBatchesTracked!.dtype).toBe('int32');
    expect(sd.numBatchesTracked!.item()).toBe(2);
    const b = new nn.BatchNorm1d(3, { runtime: rt });
    b.loadStateDict(sd);
    expect(values(b.runningVar!)).toEqual(values(a.runningVar!));
    expect(b.numBatchesTracked!.item()).toBe(2);
  });

  it("says what is wrong, in PyTorch's words", () => {
    const bn1 = new nn.BatchNorm1d(3, { runtime: rt });
    expect(() => bn1.call(rt.zeros([2, 3, 4, 5]))).toThrow(/expected 2D or 3D input \(got 4D input\)/);
    expect(() => bn1.call(rt.zeros([1, 3]))).toThrow(/Expected more than 1 value per channel when training, got input size \[1, 3\]/);
    expect(() => new nn.BatchNorm2d(3, { runtime: rt }).call(rt.zeros([2, 3, 4]))).toThrow(/expected 4D input \(got 3D input\)/);
    expect(() => new nn.BatchNorm2d(3, { runtime: rt }).call(rt.zeros([2, 4, 2, 2]))).toThrow(/running_mean should contain 4 elements not 3/);
  });
});

describe("PyTorch's state-dict names", () => {
  it('a BatchNorm state dict keyed as PyTorch writes it (running_mean, ...) loads, and gives the same eval outputs', () => {
    const a = new nn.BatchNorm1d(3, { runtime: rt, dtype: 'float64' });
    a.call(hashed(rt, [8, 3], 7, { scale: 4, shift: 1 })); // running stats move away from 0 / 1
    a.eval();
    const sd = a.stateDict({ pytorchNames: true });
    expect(Object.keys(sd)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    const b = new nn.BatchNorm1d(3, { runtime: rt, dtype: 'float64' });
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    b.eval();
    const x = hashed(rt, [4, 3], 9);
    expect(values(b.call(x))).toEqual(values(a.call(x)));
    expect(values(b.runningMean!)).toEqual(values(a.runningMean!));
  });
});
