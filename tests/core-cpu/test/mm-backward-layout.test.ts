/**
 * mm and addmm backward follow PyTorch's `mm_mat1_backward` / `mm_mat2_backward`: a column-major
 * operand's gradient (of an `x.t()`: Linear's `w.t()`, the `Wᵀ` and `hᵀ` the first-order backward
 * records for double backward) is computed as the transpose of a row-major product, so the
 * gradient reaching the transpose's source is contiguous. Values, first and second order, are
 * those of the plain formula.
 */
import * as nabla from '@nabla/core';
import { autograd, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nabla.use(cpuBackend());
});

const f64 = (shape: number[], requiresGrad = true): Tensor => nabla.randn(shape, { dtype: 'float64', requiresGrad });

/** The gradient `src` receives (its layout and values) when `use(src)` is summed and backpropagated. */
function gradAt(src: Tensor, use: (s: Tensor) => Tensor): { contiguous: boolean; values: number[] } {
  const seen: { contiguous: boolean; values: number[] }[] = [];
  const h = src.registerHook((g) => {
    seen.push({ contiguous: g.isContiguous(), values: Array.from(g.dataSync() as Float64Array) });
  });
  use(src).sum().backward();
  h.remove();
  expect(seen.length).toBe(1);
  return seen[0]!;
}

function close(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-12 * (1 + Math.abs(want[i]!)));
}

describe('mm / addmm backward layout (PyTorch mm_mat1_backward, mm_mat2_backward)', () => {
  it('a transposed first operand gets its gradient contiguous at the source, with the plain values', () => {
    nabla.manualSeed(11);
    const x = f64([3, 4]);
    const b = f64([3, 5], false);
    const u = x.mul(1); // a non-leaf: its hook sees what the transpose's backward hands it
    const got = gradAt(u, (s) => s.t().mm(b));
    expect(got.contiguous).toBe(true);
    // d/du sum(uᵀ b) = b · 1ᵀ: row i is the sum of b's row i, in every column.
    const rows = b.sum(1).dataSync() as Float64Array;
    close(got.values, Array.from({ length: 12 }, (_, i) => rows[Math.floor(i / 4)]!));
  });

  it('a transposed second operand (Linear: addmm(bias, x, w.t())) too, through mm and addmm', () => {
    nabla.manualSeed(12);
    const a = f64([6, 4], false);
    const bias = f64([5], false);
    const w = f64([5, 4]);
    const cols = a.sum(0).dataSync() as Float64Array;
    // d/dw sum(a wᵀ) = 1 · a: every row of w's gradient is the column sums of a.
    const want = Array.from({ length: 20 }, (_, i) => cols[i % 4]!);
    for (const use of [(s: Tensor) => a.mm(s.t()), (s: Tensor) => nabla.addmm(bias, a, s.t())]) {
      const got = gradAt(w.mul(1), use);
      expect(got.contiguous).toBe(true);
      close(got.values, want);
    }
  });

  it('passes gradcheck and gradgradcheck with column-major operands, and the HVP of a tanh layer matches its plain-layout twin', () => {
    nabla.manualSeed(13);
    const fn = (p: Tensor, q: Tensor): Tensor => p.t().mm(q.t()).tanh();
    const inputs = [f64([4, 3]), f64([5, 4])];
    expect(nabla.gradcheck(fn, inputs)).toBe(true);
    expect(nabla.gradgradcheck(fn, inputs)).toBe(true);
    // Second order through the transposes the first-order backward records.
    const x = f64([6, 4], false);
    const w = f64([4, 5]);
    const wc = w.detach().clone().requiresGrad_();
    const hvp = (p: Tensor, layout: (t: Tensor) => Tensor): number[] => {
      const [g] = autograd.grad(x.mm(layout(p)).tanh().square().sum(), [p], { createGraph: true });
      const [h] = autograd.grad(g!.sum(), [p]);
      return Array.from(h!.dataSync() as Float64Array);
    };
    // The same product, the weight once as it is and once as the transpose of its transpose.
    close(hvp(w, (p) => p), hvp(wc, (p) => p.t().contiguous().t()));
  });
});
