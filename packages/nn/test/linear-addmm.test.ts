/**
 * Linear runs as PyTorch 1.13's F.linear does: one fused addmm for 2-D inputs with a bias
 * (AddmmBackward0), addmm on the rows of a contiguous 3-D input (ViewBackward0), matmul + add
 * otherwise (AddBackward0); values and gradients against fixtures/parity.json.
 */
import type { Runtime } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, hashed, maxAbsDiff, values } from './helpers.js';
import { parity } from './parity-fixtures.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

describe('functional.linear against PyTorch 1.13', () => {
  for (const [name, c] of Object.entries(parity.linear)) {
    it(`${name}: ${c.node}, values and gradients`, () => {
      const x = hashed(rt, c.xShape, 1, { requiresGrad: true });
      const w = hashed(rt, [3, 4], 2, { requiresGrad: true });
      const b = c.bias ? hashed(rt, [3], 3, { requiresGrad: true }) : null;
      const out = nn.functional.linear(c.transpose ? x.transpose(-1, -2) : x, w, b);
      expect(out.shape).toEqual(c.outShape);
      // Without a bias PyTorch's matmul folds 3-D inputs (UnsafeViewBackward0); Nabla's matmul
      // broadcasts them through bmm: same values, another node name.
      if (c.bias || x.ndim === 2) expect(out.gradFn!.name()).toBe(c.node);
      expect(maxAbsDiff(values(out), c.out)).toBeLessThan(1e-12);
      out.mul(hashed(rt, c.outShape, 4)).sum().backward();
      expect(maxAbsDiff(values(x.grad!), c.gradX)).toBeLessThan(1e-12);
      expect(maxAbsDiff(values(w.grad!), c.gradW)).toBeLessThan(1e-12);
      if (b) expect(maxAbsDiff(values(b.grad!), c.gradB!)).toBeLessThan(1e-12);
    });
  }

  it('nn.Linear on a batch records AddmmBackward0, as in PyTorch', () => {
    const fc = new nn.Linear(4, 3, { runtime: rt });
    const y = fc.call(rt.randn([5, 4]));
    expect(y.gradFn!.name()).toBe('AddmmBackward0');
    expect(y.gradFn!.nextFunctions.length).toBe(3);
  });
});
