/**
 * Finite-difference gradient checks (float64) of the layers and losses, w.r.t. every
 * differentiable input, including second derivatives where nn composes differentiable ops.
 */
import { gradcheck, gradgradcheck, type Runtime, type Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, hashed } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

const F = nn.functional;
const g = (shape: number[], seed: number, scale = 1, shift = 0): Tensor => hashed(rt, shape, seed, { scale, shift, requiresGrad: true });
const int = (v: number[]): Tensor => rt.tensor(v, { dtype: 'int32' });

describe('gradcheck of the layers', () => {
  it('linear, layerNorm', () => {
    expect(gradcheck((x, w, b) => F.linear(x!, w!, b), [g([3, 4], 1), g([2, 4], 2), g([2], 3)])).toBe(true);
    expect(gradcheck((x, w, b) => F.layerNorm(x!, [4], w, b), [g([3, 4], 4, 3), g([4], 5, 1, 1), g([4], 6)])).toBe(true);
    expect(gradgradcheck((x, w) => F.layerNorm(x!, [4], w), [g([2, 4], 7, 3), g([4], 8, 1, 1)])).toBe(true);
  });

  it('conv2d (stride, padding, dilation) and maxPool2d', () => {
    const opts = { stride: [2, 1] as const, padding: 1, dilation: [1, 2] as const };
    expect(gradcheck((x, w, b) => F.conv2d(x!, w!, b, opts), [g([1, 2, 5, 5], 9), g([3, 2, 2, 2], 10), g([3], 11)])).toBe(true);
    expect(gradcheck((x) => F.maxPool2d(x!, 3, { stride: 2, padding: 1 }), [g([1, 2, 5, 5], 12, 10)])).toBe(true);
  });

  it('embedding (repeated indices accumulate)', () => {
    // Without paddingIdx: its row deliberately gets no gradient, which finite differences contradict.
    expect(gradcheck((w) => F.embedding(int([0, 2, 1, 2]), w!), [g([3, 2], 13)])).toBe(true);
  });

  it('module calls with hooks are still exact', () => {
    const lin = new nn.Linear(3, 2, { runtime: rt, dtype: 'float64' });
    lin.registerFullBackwardHook(() => undefined);
    lin.registerForwardHook(() => undefined);
    expect(gradcheck((x) => lin.call(x!), [g([2, 3], 14)])).toBe(true);
  });
});

describe('gradcheck of the losses', () => {
  const logits = (): Tensor => g([4, 3], 20, 6);
  it('crossEntropy with weights, ignored targets and label smoothing; nllLoss', () => {
    const w = hashed(rt, [3], 21, { shift: 1 });
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expect(gradcheck((z) => nn.crossEntropy(z!, int([0, 2, -100, 1]), { weight: w, labelSmoothing: 0.2, reduction }), [logits()])).toBe(true);
      expect(gradcheck((z) => nn.nllLoss(z!, int([1, 0, 2, 2]), { weight: w, reduction }), [logits()])).toBe(true);
    }
    const probs = hashed(rt, [4, 3], 22, { scale: 2 }).softmax(1);
    expect(gradcheck((z) => nn.crossEntropy(z!, probs, { labelSmoothing: 0.1 }), [logits()])).toBe(true);
    expect(gradgradcheck((z) => nn.crossEntropy(z!, int([0, 2, 1, 1])), [logits()])).toBe(true);
  });

  it('binaryCrossEntropyWithLogits (weights, posWeight), mseLoss, l1Loss', () => {
    const y = hashed(rt, [4, 3], 23, { shift: 0.5 });
    const posWeight = hashed(rt, [3], 24, { shift: 2 });
    expect(gradcheck((z) => nn.binaryCrossEntropyWithLogits(z!, y, { posWeight, weight: hashed(rt, [4, 3], 25, { shift: 1 }) }), [logits()])).toBe(true);
    expect(gradcheck((z, t) => nn.mseLoss(z!, t!, { reduction: 'sum' }), [logits(), g([4, 3], 26)])).toBe(true);
    expect(gradcheck((z) => nn.l1Loss(z!, y), [logits()])).toBe(true);
    expect(gradgradcheck((z) => nn.binaryCrossEntropyWithLogits(z!, y), [logits()])).toBe(true);
  });
});
