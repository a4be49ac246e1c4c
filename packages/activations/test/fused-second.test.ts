/**
 * The fused second derivative (`d2fExpr`): a gradient of a gradient taken without createGraph runs
 * gg · g · f''(x) as one kernel. It must agree with the closed form and with the tensor-op path
 * (taken with createGraph), in float64 and float32, with broadcast and full g/gg, NaN/±Inf, and
 * with the third derivative still right (createGraph keeps the differentiable path).
 */
import { autograd, createRuntime, withDispatchHook, type Expr, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import * as act from '../src/index.js';

let rt: Runtime;
let rtJs: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
  rtJs = await createRuntime({ plugins: [cpuBackend({ wasm: false }), act.activations()] });
});

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
/** silu''(x) = σ(1-σ)(2 + x(1-2σ)). */
const silu2 = (x: number): number => {
  const s = sig(x);
  return s * (1 - s) * (2 + x * (1 - 2 * s));
};
/** silu'''(x) = σ(1-σ)(3(1-2σ) + x(1 - 6σ + 6σ²)). */
const silu3 = (x: number): number => {
  const s = sig(x);
  return s * (1 - s) * (3 * (1 - 2 * s) + x * (1 - 6 * s + 6 * s * s));
};

const XS = [-30, -8, -2.5, -1, -0.3, -0, 0, 0.4, 1, 2, 7.5, 40, ...Array.from({ length: 600 }, (_, i) => -12 + (24 * i) / 599)];

function secondDerivative(r: Runtime, dtype: 'float32' | 'float64', xs: number[], createGraph: boolean, weights?: number[]): number[] {
  const x = r.tensor(xs, { dtype, requiresGrad: true });
  const w = weights === undefined ? null : r.tensor(weights, { dtype });
  const y = act.silu(x);
  const [g] = autograd.grad(w === null ? y.sum() : y.mul(w).sum(), x, { createGraph: true });
  const [g2] = autograd.grad(g!.sum(), x, { createGraph });
  return Array.from(g2!.dataSync());
}

function maxRelErr(got: number[], want: number[]): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  return e;
}

describe('silu: fused second derivative', () => {
  it('declares the fused op', () => {
    expect(act.ACTIVATIONS.find((a) => a.spec.name === 'silu')!.second?.name).toBe('siluBackwardBackward');
  });

  for (const dtype of ['float64', 'float32'] as const) {
    const tol = dtype === 'float64' ? 1e-14 : 2e-6;
    it(`${dtype}: matches the closed form and the createGraph (tensor-op) path, wasm and JavaScript kernels`, () => {
      const want = XS.map(silu2);
      for (const r of [rt, rtJs]) {
        const fused = secondDerivative(r, dtype, XS, false);
        const composed = secondDerivative(r, dtype, XS, true);
        expect(maxRelErr(fused, want)).toBeLessThan(tol);
        expect(maxRelErr(composed, want)).toBeLessThan(tol * 4);
      }
    });

    it(`${dtype}: full (not broadcast) g: weighted first derivative`, () => {
      const weights = XS.map((_, i) => 0.5 + (i % 7) - 3);
      const got = secondDerivative(rt, dtype, XS, false, weights);
      expect(maxRelErr(got, XS.map((x, i) => weights[i]! * silu2(x)))).toBeLessThan(tol * 4);
    });
  }

  it('runs one fused kernel without createGraph, the tensor ops with it', () => {
    const opsOf = (createGraph: boolean): string[] => {
      const x = rt.tensor(XS, { requiresGrad: true });
      const [g] = autograd.grad(act.silu(x).sum(), x, { createGraph: true });
      const s = g!.sum();
      const ops: string[] = [];
      // Ops over the whole input (the engine's own 0-d bookkeeping is not the point here).
      const listen = (e: { op: string; shapes: readonly (readonly number[])[] }): void => {
        if (e.shapes.some((sh) => sh.length === 1 && sh[0] === XS.length)) ops.push(e.op);
      };
      rt.events.on('op:dispatch', listen);
      autograd.grad(s, x, { createGraph });
      rt.events.off('op:dispatch', listen);
      return ops.filter((o) => o !== 'expand' && o !== 'fill_' && o !== 'zero_');
    };
    expect(opsOf(false)).toEqual(['siluBackwardBackward']);
    expect(opsOf(true)).not.toContain('siluBackwardBackward');
    expect(opsOf(true)).toContain('sigmoid');
  });

  it("the whole SiLU'' step (the bench's double backward) makes five passes over x-sized memory, three of them one-exp kernels", () => {
    const x = rt.randn([4096], { requiresGrad: true });
    const passes: string[] = [];
    const big = (ts: readonly Tensor[]): boolean => ts.some((t) => t.numel() === 4096);
    withDispatchHook(
      rt,
      (c) => void (big(c.reads) || big(c.writes) ? passes.push(`${c.op}:${c.kernel}`) : undefined),
      () =>
        rt.tidy(() => {
          const [g] = autograd.grad(act.silu(x).sum(), x, { createGraph: true });
          return autograd.grad(g!.sum(), x)[0]!;
        }),
    );
    // The seeds of both backward passes (ones) reach the kernels as broadcast 0-d tensors, never
    // materialized; the forward's sum is what eager autograd cannot skip.
    expect(passes).toEqual(['silu:elementwise', 'sum:sum', 'siluBackward:elementwise', 'sum:sum', 'siluBackwardBackward:elementwise']);
    // Each of the three evaluates σ(x) once: one shared node of its expression DAG.
    const silu = act.ACTIVATIONS.find((a) => a.spec.name === 'silu')!;
    const transcendentals = (e: Expr): number => {
      const seen = new Set<Expr>();
      const walk = (n: Expr): number => {
        if (seen.has(n)) return 0;
        seen.add(n);
        const kids = 'cond' in n ? [n.cond, n.a, n.b] : 'b' in n ? [n.a, n.b] : 'a' in n ? [n.a] : [];
        return (['exp', 'sigmoid', 'tanh', 'log', 'log1p', 'expm1'].includes(n.op) ? 1 : 0) + kids.reduce((k, c) => k + walk(c), 0);
      };
      return walk(e);
    };
    expect([silu.forward, silu.backward, silu.second!].map((d) => transcendentals(d.expr))).toEqual([1, 1, 1]);
  });

  it('NaN and ±Inf follow the tensor-op path', () => {
    const xs = [NaN, Infinity, -Infinity, 1];
    const fused = secondDerivative(rt, 'float64', xs, false);
    const composed = secondDerivative(rt, 'float64', xs, true);
    expect(fused.map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(composed.map((v) => (Number.isNaN(v) ? 'NaN' : v)));
  });

  it('the third derivative (through createGraph) is still right', () => {
    const xs = [-3, -1, 0.5, 2];
    const x = rt.tensor(xs, { dtype: 'float64', requiresGrad: true });
    const [g] = autograd.grad(act.silu(x).sum(), x, { createGraph: true });
    const [g2] = autograd.grad(g!.sum(), x, { createGraph: true });
    const [g3] = autograd.grad((g2 as Tensor).sum(), x);
    expect(maxRelErr(Array.from(g3!.dataSync()), xs.map(silu3))).toBeLessThan(1e-12);
  });
});
