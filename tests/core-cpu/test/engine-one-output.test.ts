/**
 * The engine holds a one-output node's gradient bare and hands it to the node's formula in one
 * array per pass (engine.ts `gradsOf`). What a formula, a hook or a capture sees must not change:
 * a formula that returns the array it received, hooks that replace the gradient, `autograd.grad`
 * capturing at such a node, and several contributions summed at one (shared) node.
 */
import { autograd, createRuntime, gradFormula, record, type MaybeGrad, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});

/** An identity op whose formula hands back the very array of gradients it received. */
const passThrough = gradFormula('PassThroughBackward', (gs: MaybeGrad[]) => gs);
function identity(x: Tensor): Tensor {
  const y = x.detach().clone();
  record(passThrough, [x], [y]);
  return y;
}

describe('one-output nodes in a backward pass', () => {
  it('a formula that returns the gradients array it received passes them on unchanged', () => {
    const x = rt.tensor(0.5, { dtype: 'float64', requiresGrad: true });
    // Two pass-through nodes in a row, then more nodes after them: the pass's array is reused.
    const y = identity(identity(x.mul(3))).tanh().mul(2);
    y.backward();
    expect(x.grad!.item()).toBeCloseTo(2 * (1 - Math.tanh(1.5) ** 2) * 3, 12);
  });

  it('sums several contributions at one node, and gives the same gradients as a hand computation', () => {
    const w = rt.tensor(0.7, { dtype: 'float64', requiresGrad: true });
    const h = w.mul(2); // one node, three consumers
    const y = h.tanh().add(h.mul(h)).add(h.sigmoid());
    y.backward();
    const hv = 1.4;
    const s = 1 / (1 + Math.exp(-hv));
    expect(w.grad!.item()).toBeCloseTo(2 * (1 - Math.tanh(hv) ** 2 + 2 * hv + s * (1 - s)), 12);
  });

  it('tensor hooks replace the gradient and autograd.grad captures it at a one-output node', () => {
    const x = rt.tensor(0.3, { dtype: 'float64', requiresGrad: true });
    const h = x.mul(4);
    const seen: number[] = [];
    h.registerHook((g) => {
      seen.push(g.item());
      return g.mul(10);
    });
    const y = h.tanh();
    const [gh, gx] = autograd.grad(y, [h, x]);
    const d = 1 - Math.tanh(1.2) ** 2;
    expect(seen).toEqual([expect.closeTo(d, 12)]);
    // The capture at h sees the hooked gradient, as PyTorch's does; x gets it through mul.
    expect(gh!.item()).toBeCloseTo(10 * d, 12);
    expect(gx!.item()).toBeCloseTo(40 * d, 12);
  });

  it('a node hook sees the gradients of a one-output node and may replace what it passes down', () => {
    const x = rt.tensor(0.3, { dtype: 'float64', requiresGrad: true });
    const y = x.mul(2).tanh();
    let outs: number[] = [];
    y.gradFn!.registerHook((gradIn, gradOut) => {
      outs = gradOut.map((g) => g!.item());
      return gradIn.map((g) => (g ? g.mul(0.5) : g));
    });
    y.backward();
    expect(outs).toEqual([1]);
    expect(x.grad!.item()).toBeCloseTo(0.5 * 2 * (1 - Math.tanh(0.6) ** 2), 12);
  });
});
