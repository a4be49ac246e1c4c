/**
 * Losses against PyTorch 1.13: every reduction, class weights, ignored targets, label smoothing,
 * class-probability targets, a spatial (N, C, d) input, and extreme logits (±100 to ±800) where a
 * naive formula overflows. Float64 inputs from the shared formula; values in fixtures/layers.json.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, hashed, replay, type RecordedCase } from './helpers.js';

const { cases } = fixture<{ cases: Record<string, RecordedCase> }>('layers.json');
const TOL = 1e-10;
let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

const REDUCTIONS = ['mean', 'sum', 'none'] as const;
const int = (v: number[] | number[][]): Tensor => rt.tensor(v, { dtype: 'int32' });
const f64 = (v: number[] | number[][]): Tensor => rt.tensor(v, { dtype: 'float64' });
const logits = (): Tensor[] => [hashed(rt, [6, 5], 30, { scale: 8 })];
const target = (): Tensor => int([1, 0, 4, 2, 2, 3]);
const targetIgnored = (): Tensor => int([1, -100, 4, 2, -100, 3]);
const classWeight = (): Tensor => hashed(rt, [5], 31, { shift: 1 });

function check(name: string, inputs: Tensor[], fn: (z: Tensor) => Tensor, outSeed: number): void {
  const rec = cases[name];
  if (!rec) throw new Error(`no fixture ${name}`);
  const err = replay(rt, rec, inputs, fn, outSeed);
  expect(err.out, `${name} output`).toBeLessThan(TOL);
  expect(err.grad, `${name} gradient`).toBeLessThan(TOL);
}

describe('crossEntropy and nllLoss match PyTorch', () => {
  for (const reduction of REDUCTIONS) {
    for (const ls of ['0.0', '0.2']) {
      it(`crossEntropy ${reduction}, labelSmoothing ${ls}`, () => {
        const labelSmoothing = Number(ls);
        check(`ce_${reduction}_ls${ls}`, logits(), (z) => nn.crossEntropy(z, target(), { reduction, labelSmoothing }), 32);
        check(`ce_weight_ignore_${reduction}_ls${ls}`, logits(), (z) => nn.crossEntropy(z, targetIgnored(), { weight: classWeight(), reduction, labelSmoothing }), 33);
      });
    }
    it(`nllLoss ${reduction} with ignored targets and with class weights`, () => {
      check(`nll_${reduction}`, logits(), (z) => nn.nllLoss(z.logSoftmax(1), targetIgnored(), { reduction }), 34);
      check(`nll_weight_${reduction}`, logits(), (z) => nn.nllLoss(z.logSoftmax(1), target(), { weight: classWeight(), reduction }), 35);
    });
    it(`crossEntropy ${reduction} on extreme logits (±100, ±300) stays finite and exact`, () => {
      const ext = f64([[100, -100, 0, 50, -50], [-100, 100, 100, -100, 0], [0, 0, 0, 0, 0], [300, -300, 1, 2, 3]]);
      check(`ce_extreme_${reduction}_ls0.1`, [ext], (z) => nn.crossEntropy(z, int([1, 0, 2, 1]), { reduction, labelSmoothing: 0.1 }), 47);
    });
  }

  it('class-probability targets with smoothing and weights', () => {
    const probs = hashed(rt, [6, 5], 36, { scale: 3 }).softmax(1);
    check('ce_probs_ls0.1_weight', logits(), (z) => nn.crossEntropy(z, probs, { weight: classWeight(), labelSmoothing: 0.1 }), 37);
  });

  it('an (N, C, d) input with (N, d) targets', () => {
    check('ce_3d_ls0.1', [hashed(rt, [2, 4, 3], 38, { scale: 6 })], (z) => nn.crossEntropy(z, int([[0, 3, 1], [2, 2, 0]]), { labelSmoothing: 0.1 }), 39);
  });
});

describe('binaryCrossEntropyWithLogits and mseLoss match PyTorch', () => {
  const bx = (): Tensor[] => [hashed(rt, [4, 3], 40, { scale: 60 })];
  const by = (): Tensor => hashed(rt, [4, 3], 41, { shift: 0.5 });
  for (const reduction of REDUCTIONS) {
    it(`reduction ${reduction} (logits up to ±30)`, () => {
      check(`bce_logits_${reduction}`, bx(), (z) => nn.binaryCrossEntropyWithLogits(z, by(), { reduction }), 44);
      const weight = hashed(rt, [4, 3], 42, { shift: 1 });
      const posWeight = hashed(rt, [3], 43, { scale: 2, shift: 1.5 });
      check(`bce_logits_weight_posweight_${reduction}`, bx(), (z) => nn.binaryCrossEntropyWithLogits(z, by(), { weight, posWeight, reduction }), 45);
      check(`mse_${reduction}`, bx(), (z) => nn.mseLoss(z, by(), { reduction }), 46);
    });
  }

  it('extreme logits (±100, ±800) give finite losses and PyTorch gradients', () => {
    const x = (): Tensor[] => [f64([[100, -100, 0], [-100, 100, 40], [800, -800, -40]])];
    const y = f64([[1, 0, 0.5], [1, 0, 0.25], [0, 1, 1]]);
    check('bce_logits_extreme_mean', x(), (z) => nn.binaryCrossEntropyWithLogits(z, y), 48);
    check('bce_logits_extreme_posweight_none', x(), (z) => nn.binaryCrossEntropyWithLogits(z, y, { posWeight: f64([2, 0.5, 3]), reduction: 'none' }), 49);
  });

  it('float32 extreme logits stay finite too', () => {
    const z = rt.tensor([[1000, -1000], [-88.8, 88.8]], { requiresGrad: true });
    const loss = nn.crossEntropy(z, int([1, 0]));
    loss.backward();
    expect(Number.isFinite(loss.item())).toBe(true);
    expect(loss.item()).toBeCloseTo((2000 + 177.6) / 2, 2);
    expect(Array.from(z.grad!.dataSync()).every(Number.isFinite)).toBe(true);
    const b = nn.binaryCrossEntropyWithLogits(z, rt.tensor([[0, 1], [1, 0]]), { reduction: 'sum' });
    expect(b.item()).toBeCloseTo(2000 + 177.6, 1);
  });
});
