/**
 * Gradients at the edges (zero variance, norms at zero, ties, zeros in prod, -inf in logsumexp,
 * kinks) and gradients of gradients, against PyTorch 1.13: fixtures/parity.json, recorded by
 * fixtures/make_parity_fixtures.py (which says what each field holds). Every case also passes
 * gradcheck / gradgradcheck where it is differentiable.
 */
import { readFileSync } from 'node:fs';
import * as nabla from '@nabla/core';
import { createRuntime, type Runtime, type Tensor, type ValuesIndices } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

type Num = number | 'nan' | 'inf' | '-inf';
interface Recorded {
  inputs: { data: Num[]; shape: number[] }[];
  out: { data: Num[]; shape: number[] };
  node: string | null;
  grad: Num[][];
  gradRequiresGrad: boolean[];
  grad2: Num[][] | null;
}
const { cases } = JSON.parse(readFileSync(new URL('../fixtures/parity.json', import.meta.url), 'utf8')) as { cases: Record<string, Recorded> };

const dec = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
const w1 = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 + ((i % 5) - 2) / 4);
const w2 = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 + ((i % 3) - 1) / 2);

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

type Fn = (...xs: Tensor[]) => Tensor;
const values = (r: Tensor | ValuesIndices): Tensor => (r as ValuesIndices).values;

/** The same functions as make_parity_fixtures.py's CASES, by name. */
const FNS: Record<string, Fn> = {
  std_constant: (x) => x.std(),
  var_constant: (x) => x.var(),
  std_dim_constant_row: (x) => x.std(1),
  std_correction0_one: (x) => x.std(0, { correction: 0 }),
  var_correction0_one: (x) => x.var(0, { correction: 0 }),
  std_keepdim_constant: (x) => x.std(0, { keepdim: true }),
  std_normalize: (x) => x.div(x.std(1, { keepdim: true }).add(1e-8)),
  norm2_zero: (x) => x.norm(),
  norm1_zero: (x) => x.norm(1),
  norminf_zero: (x) => x.norm(Infinity),
  normneginf_zero: (x) => x.norm(-Infinity),
  norm3_zero: (x) => x.norm(3),
  norm2_dim_zero_row: (x) => x.norm(2, 1),
  norm1_dim_zero_row: (x) => x.norm(1, 1),
  norminf_dim_ties: (x) => x.norm(Infinity, 1),
  norm3_dim_zero_row: (x) => x.norm(3, 1),
  norm1p5_with_zero: (x) => x.norm(1.5),
  norm2_with_zero: (x) => x.norm(),
  max_ties: (x) => x.max() as Tensor,
  min_ties: (x) => x.min() as Tensor,
  amax_ties: (x) => x.amax(),
  amax_dim_ties: (x) => x.amax(1),
  amin_dim_ties: (x) => x.amin(1),
  max_dim_ties: (x) => values(x.max(1)),
  min_dim_ties: (x) => values(x.min(1)),
  amax_square_ties: (x) => x.mul(x).amax(1),
  prod_no_zero: (x) => x.prod(),
  prod_one_zero: (x) => x.prod(),
  prod_two_zeros: (x) => x.prod(),
  prod_three_zeros: (x) => x.prod(),
  prod_dim_zeros: (x) => x.prod(1),
  logsumexp_all_neginf: (x) => x.logsumexp(0),
  logsumexp_rows_neginf: (x) => x.logsumexp(1),
  logsumexp_some_neginf: (x) => x.logsumexp(0),
  relu: (x) => x.relu(),
  relu_square: (x) => x.relu().pow(2),
  clamp: (x) => x.clamp(-1, 2),
  clamp_square: (x) => x.clamp(-1, 2).mul(x.clamp(-1, 2)),
  clamp_min: (x) => x.clamp(0),
  abs: (x) => x.abs(),
  sign: (x) => x.sign(),
  maximum_ties: (a, b) => a.maximum(b!),
  minimum_square: (a, b) => a.minimum(b!).pow(2),
  where_square: (x) => nabla.where(x.gt(0), x, x.mul(x)),
  sqrt_pos: (x) => x.sqrt(),
  pow_zero_base: (a, b) => a.pow(b!),
  addmm: (b, m1, m2) => nabla.addmm(b, m1!, m2!),
  addmm_beta_alpha: (b, m1, m2) => nabla.addmm(b, m1!, m2!, { beta: 0.5, alpha: -2 }),
  addmm_beta0: (b, m1, m2) => nabla.addmm(b, m1!, m2!, { beta: 0 }),
  addmm_square: (b, m1, m2) => nabla.addmm(b, m1!, m2!).pow(2),
};

/**
 * Where PyTorch's gradient is a constant (requires_grad False) only because its formula takes a
 * shortcut, Nabla's stays differentiable and mathematically right: prod with two zeros or more
 * (PyTorch returns zeros_like(input); the true second derivative at two zeros is not zero).
 * First derivatives still match PyTorch; second ones are checked by gradgradcheck.
 */
const DIFFERENTIABLE_WHERE_TORCH_IS_NOT = new Set(['prod_two_zeros', 'prod_three_zeros']);

/** Second derivatives PyTorch itself gets as NaN (0·∞ in its own formulas): not compared. */
const isNum = (v: Num): boolean => v !== 'nan';

function expectValues(got: Tensor, want: Num[], what: string, skipNaN = false): void {
  const g = Array.from(got.contiguous().dataSync() as Float64Array);
  expect(g.length, `${what}: length`).toBe(want.length);
  want.forEach((wv, i) => {
    if (skipNaN && !isNum(wv)) return;
    const w = dec(wv);
    const v = g[i]!;
    if (!Number.isFinite(w)) expect(Object.is(v, w) || (Number.isNaN(w) && Number.isNaN(v)), `${what}[${i}]: got ${v}, expected ${w}`).toBe(true);
    else expect(Math.abs(v - w), `${what}[${i}]: got ${v}, expected ${w}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w)));
  });
}

describe('gradients against PyTorch 1.13 (first and second order)', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const fn = FNS[name];
      expect(fn, `case ${name} has a function here`).toBeDefined();
      const xs = c.inputs.map((i) => rt.tensor(Float64Array.from(i.data.map(dec)), { shape: i.shape, dtype: 'float64', requiresGrad: true }));
      const out = fn!(...xs);
      expect(out.shape).toEqual(c.out.shape);
      expectValues(out, c.out.data, 'out');
      expect(out.gradFn?.name() ?? null).toBe(c.node);
      const weight1 = rt.tensor(w1(out.numel()), { dtype: 'float64' }).reshape(out.shape);
      const gs = nabla.autograd.grad(out.mul(weight1).sum(), xs, { createGraph: true, allowUnused: true }).map((g, i) => g ?? rt.zerosLike(xs[i]!));
      gs.forEach((g, i) => expectValues(g, c.grad[i]!, `grad[${i}]`));
      if (DIFFERENTIABLE_WHERE_TORCH_IS_NOT.has(name)) {
        expect(c.gradRequiresGrad.every((r) => !r)).toBe(true);
        expect(gs.every((g) => g.requiresGrad)).toBe(true);
        expect(nabla.gradgradcheck((...t: Tensor[]) => fn!(...t), xs)).toBe(true);
        return;
      }
      expect(gs.map((g) => g.requiresGrad), 'which gradients require grad').toEqual(c.gradRequiresGrad);
      if (c.grad2 === null) return;
      let total: Tensor | null = null;
      gs.forEach((g) => {
        if (!g.requiresGrad) return;
        const t = g.mul(rt.tensor(w2(g.numel()), { dtype: 'float64' }).reshape(g.shape)).sum();
        total = total === null ? t : total.add(t);
      });
      const g2 = nabla.autograd.grad(total!, xs, { allowUnused: true }).map((g, i) => g ?? rt.zerosLike(xs[i]!));
      g2.forEach((g, i) => expectValues(g, c.grad2![i]!, `grad2[${i}]`, true));
    });
  }
});
