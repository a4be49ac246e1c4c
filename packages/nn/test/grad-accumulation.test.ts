/**
 * Gradient accumulation over micro-batches, as the README shows it: gradients add up in `.grad`
 * across backward calls, so 4 micro-batches with the loss divided by 4 give the full batch's
 * gradient and the same optimizer step.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, maxAbsDiff, values } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

function setup(): { model: nn.Sequential; opt: nn.optim.AdamW; x: Tensor; y: Tensor } {
  rt.manualSeed(11);
  const o = { runtime: rt, dtype: 'float64' as const };
  const model = new nn.Sequential(new nn.Linear(6, 16, o), new nn.ReLU(), new nn.Linear(16, 4, o));
  const opt = new nn.optim.AdamW(model.parameters(), { lr: 1e-2 });
  const x = rt.randn([32, 6], { dtype: 'float64' });
  const y = rt.tensor(Array.from({ length: 32 }, (_, i) => (i * 5) % 4), { dtype: 'int32' });
  return { model, opt, x, y };
}

describe('gradient accumulation', () => {
  it('4 micro-batches of 8 give the gradient and the step of one batch of 32', () => {
    const full = setup();
    full.opt.zeroGrad();
    nn.utils.tidy(rt, () => nn.crossEntropy(full.model.call(full.x), full.y).backward());
    const fullGrads = full.model.parameters().map((p) => values(p.grad!));
    nn.utils.clipGradNorm_(full.model.parameters(), 1.0);
    full.opt.step();

    // The README's loop.
    const { model, opt, x, y } = setup();
    const microBatches = 4;
    const size = x.shape[0]! / microBatches;
    opt.zeroGrad();
    for (let i = 0; i < microBatches; i++) {
      nn.utils.tidy(rt, () => {
        const loss = nn.crossEntropy(model.call(x.narrow(0, i * size, size)), y.narrow(0, i * size, size));
        loss.div(microBatches).backward(); // each backward adds into .grad
      });
    }
    model.parameters().forEach((p, i) => expect(maxAbsDiff(values(p.grad!), fullGrads[i]!)).toBeLessThan(1e-14));
    nn.utils.clipGradNorm_(model.parameters(), 1.0);
    opt.step();
    model.parameters().forEach((p, i) => expect(maxAbsDiff(values(p), values(full.model.parameters()[i]!))).toBeLessThan(1e-14));
  });
});
