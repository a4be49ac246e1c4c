/**
 * tanh's and sigmoid's gradients run as one fused op each (tanhBackward, sigmoidBackward, as
 * PyTorch's tanh_backward / sigmoid_backward): first, second and third derivatives against the
 * closed forms (float64), gradgradcheck on each alone, PyTorch 1.13's node names
 * (TanhBackwardBackward0, SigmoidBackwardBackward0, recorded with torch), a float32 wasm/JS
 * agreement on a large input, one kernel per first backward and two per second.
 */
import { autograd, createRuntime, gradcheck, gradgradcheck, withDispatchHook, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
let rtJs: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  rtJs = await createRuntime({ plugins: [cpuBackend({ wasm: false })] });
});

const XS = [-6, -2.5, -1, -0.3, 0, 0.4, 1, 2, 5.5];
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const FNS = {
  tanh: {
    f: (t: Tensor) => t.tanh(),
    d: [(x: number) => 1 - Math.tanh(x) ** 2, (x: number) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2), (x: number) => (1 - Math.tanh(x) ** 2) * (6 * Math.tanh(x) ** 2 - 2)],
    node: 'TanhBackwardBackward0',
    op: 'tanhBackward',
  },
  sigmoid: {
    f: (t: Tensor) => t.sigmoid(),
    d: [(x: number) => sig(x) * (1 - sig(x)), (x: number) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)), (x: number) => sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2)],
    node: 'SigmoidBackwardBackward0',
    op: 'sigmoidBackward',
  },
};

function near(got: Tensor, want: number[], what: string): void {
  const g = Array.from(got.dataSync());
  want.forEach((w, i) => expect(Math.abs(g[i]! - w), `${what}[${i}]: got ${g[i]}, want ${w}`).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(w))));
}

describe('fused tanh / sigmoid gradients', () => {
  it('a Hessian-vector product through a tanh layer touches the hidden activations with fused kernels only', () => {
    const w1 = rt.randn([16, 16], { requiresGrad: true });
    const b1 = rt.zeros([16], { requiresGrad: true });
    const w2 = rt.randn([16, 3], { requiresGrad: true });
    const xb = rt.randn([8, 16]);
    const t = rt.randn([8, 3]);
    const hidden: string[] = [];
    withDispatchHook(
      rt,
      (c) => void (c.kernel === 'elementwise' && c.writes.some((w) => w.shape.join() === '8,16') ? hidden.push(c.op) : undefined),
      () =>
        rt.tidy(() => {
          const loss = xb.matmul(w1).add(b1).tanh().matmul(w2).sub(t).square().mean();
          const gs = autograd.grad(loss, [w1, b1, w2], { createGraph: true });
          return autograd.grad(gs[0]!.sum().add(gs[1]!.sum()).add(gs[2]!.sum()), [w1, b1, w2]);
        }),
    );
    // Forward (bias add, tanh), first backward (tanhBackward), second: tanhBackward w.r.t. its g
    // and y's half in one kernel, tanhBackwardY (the composed −2·gg·g·y was three muls), the
    // gradient sums, and tanh's own backward.
    expect(hidden.filter((o) => o === 'tanhBackwardY')).toHaveLength(1);
    expect(hidden).not.toContain('mul');
    expect(hidden.length).toBeLessThanOrEqual(9);
  });

  for (const [name, c] of Object.entries(FNS)) {
    it(`${name}: first, second and third derivatives, PyTorch's node name`, () => {
      const x = rt.tensor(XS, { dtype: 'float64', requiresGrad: true });
      const [g1] = autograd.grad(c.f(x).sum(), x, { createGraph: true });
      near(g1!, XS.map(c.d[0]!), 'd1');
      expect(g1!.gradFn!.name()).toBe(c.node);
      const [g2] = autograd.grad(g1!.sum(), x, { createGraph: true });
      near(g2!, XS.map(c.d[1]!), 'd2');
      const [g3] = autograd.grad(g2!.sum(), x);
      near(g3!, XS.map(c.d[2]!), 'd3');
    });

    it(`${name}: gradcheck and gradgradcheck, with a non-trivial upstream gradient`, () => {
      const x = rt.randn([7], { dtype: 'float64', requiresGrad: true });
      const w = rt.randn([7], { dtype: 'float64' });
      expect(gradcheck((t) => c.f(t).mul(w), [x])).toBe(true);
      expect(gradgradcheck((t) => c.f(t).mul(w), [x])).toBe(true);
    });

    it(`${name}: the first backward is one kernel`, () => {
      const x = rt.randn([50], { requiresGrad: true });
      const y = c.f(x);
      const ones = rt.onesLike(y);
      const ops: string[] = [];
      const listen = (e: { op: string }): void => void ops.push(e.op);
      rt.events.on('op:dispatch', listen);
      autograd.grad(y, x, { gradOutputs: [ones] });
      rt.events.off('op:dispatch', listen);
      expect(ops).toEqual([c.op]);
    });

    it(`${name}: the second backward is two kernels, one per half of ${c.node}`, () => {
      const x = rt.randn([50], { requiresGrad: true });
      const [g1] = autograd.grad(c.f(x).sum(), x, { createGraph: true });
      const ops: string[] = [];
      const listen = (e: { op: string; shapes: readonly (readonly number[])[] }): void => {
        if (e.shapes.some((sh) => sh.length === 1 && sh[0] === 50)) ops.push(e.op);
      };
      rt.events.on('op:dispatch', listen);
      autograd.grad(g1!, x, { gradOutputs: [rt.onesLike(g1!)] });
      rt.events.off('op:dispatch', listen);
      // w.r.t. y (gg·(−2y·g) or gg·g·(1 − 2y), once three or four kernels), then y's own backward.
      expect(ops.filter((o) => o !== 'onesLike' && o !== 'fill_')).toEqual([`${c.op}Y`, c.op]);
    });

    it(`${name}: float32 on 100,000 elements, wasm against the JavaScript kernels`, () => {
      const vals = Array.from({ length: 100_000 }, (_, i) => Math.fround(Math.sin(i) * 7));
      const grads = [rt, rtJs].map((r) => {
        const x = r.tensor(vals, { requiresGrad: true });
        const [g] = autograd.grad(c.f(x).mul(r.tensor(vals)).sum(), x);
        return Array.from(g!.dataSync());
      });
      // Absolute, on the gradients' scale: 1 - y² cancels where |y| ≈ 1, and the two kernels'
      // float32 tanh (a few ulp apart) feed it, so small gradients differ relatively by more.
      const scale = Math.max(...grads[1]!.map(Math.abs));
      let worst = 0;
      grads[0]!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - grads[1]![i]!))));
      // (The composed formula before the fused op differed by as much: 1.3e-6 and 1.9e-6.)
      expect(worst / scale).toBeLessThan(4e-6);
    });
  }
});
