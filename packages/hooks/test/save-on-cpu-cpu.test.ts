/**
 * saveOnCpu where the saved tensors already live on the CPU: it keeps them as they are, and they
 * must then be held as core holds saved tensors without hooks — a tensor freed by the code that
 * made it (a loss's temporary scalar) stays readable by the gradient formula that saved it.
 */
import { createRuntime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { describe, expect, it } from 'vitest';
import { saveOnCpu } from '../src/index.js';

describe('saveOnCpu on the CPU', () => {
  it('a training step inside tidy gives the gradients of a step without it', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    rt.manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(2, 8, { runtime: rt, dtype: 'float64' }), new nn.Tanh(), new nn.Linear(8, 3, { runtime: rt, dtype: 'float64' }));
    const x = rt.randn([16, 2], { dtype: 'float64' });
    const y = rt.tensor(Array.from({ length: 16 }, (_, i) => i % 3), { dtype: 'int32' });
    const grads = (offload: boolean): number[][] =>
      rt.tidy(() => {
        model.zeroGrad();
        const loss = offload ? saveOnCpu(() => nn.crossEntropy(model.call(x), y), { runtime: rt }) : nn.crossEntropy(model.call(x), y);
        loss.backward();
        return model.parameters().map((p) => [...(p.grad!.dataSync() as Float64Array)]);
      });
    const plain = grads(false);
    const offloaded = grads(true);
    expect(offloaded).toEqual(plain);
    // A 0-d tensor saved and then disposed by its maker, as losses do with temporaries.
    const s = rt.tensor(4, { dtype: 'float64' });
    const w = rt.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const out = saveOnCpu(() => w.div(s), { runtime: rt });
    s.dispose();
    out.sum().backward();
    expect(w.grad!.tolist()).toEqual([0.25, 0.25, 0.25]);
  });
});
