/**
 * Bad input is a NablaError that says where and what: the layer's name in the model and both
 * sizes, the state-dict key and both shapes, the tensor an optimizer refuses.
 */
import { NablaError, type Runtime, type Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** The error `fn` throws (failing when it throws none or not a NablaError). */
function errorOf(fn: () => unknown): NablaError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NablaError);
    return e as NablaError;
  }
  throw new Error('expected an error');
}

describe('layers name themselves and both sizes', () => {
  class Model extends nn.Module {
    fc1 = new nn.Linear(10, 20, { runtime: rt });
    fc2 = new nn.Linear(20, 2, { runtime: rt });
    override forward(x: Tensor): Tensor {
      return this.fc2.call(this.fc1.call(x).relu());
    }
  }

  it('Linear(10, 20) named fc1 given [4, 11]', () => {
    const e = errorOf(() => new Model().call(rt.randn([4, 11])));
    expect(e.message).toMatch(/^fc1 \(Linear\): /);
    expect(e.message).toMatch(/in_features=10/);
    expect(e.message).toMatch(/got 11 features/);
    expect(e.message).toMatch(/\[4, 11\]/);
    expect(e.op).toBe('fc1 (Linear)');
  });

  it('a nested layer is named by its dotted path', () => {
    const seq = new nn.Sequential({ encoder: new nn.Sequential(new nn.Linear(3, 4, { runtime: rt }), new nn.Linear(5, 2, { runtime: rt })) });
    expect(errorOf(() => seq.call(rt.randn([2, 3]))).message).toMatch(/^encoder\.1 \(Linear\): expected input with 5 features .* but got 4 features/);
  });

  it('Conv2d, LayerNorm and Embedding say what they expected', () => {
    const conv = new nn.Sequential({ conv: new nn.Conv2d(3, 8, 3, { runtime: rt }) });
    expect(errorOf(() => conv.call(rt.randn([1, 4, 8, 8]))).message).toMatch(/^conv \(Conv2d\): expected input \[N, 3, H, W\].*\[1, 4, 8, 8\]/);
    const ln = new nn.LayerNorm([4, 5], { runtime: rt });
    expect(errorOf(() => ln.call(rt.randn([2, 5, 4]))).message).toMatch(/normalized_shape=\[4, 5\].*\[2, 5, 4\]/);
    const emb = new nn.Embedding(5, 2, { runtime: rt });
    expect(errorOf(() => emb.call(rt.tensor([1.5]))).message).toMatch(/int32 indices, got float32/);
  });
});

describe('state dicts and optimizers', () => {
  it('loadStateDict with a wrong shape names the key and both shapes', () => {
    const model = new nn.Sequential({ fc1: new nn.Linear(10, 20, { runtime: rt }) });
    const e = errorOf(() => model.loadStateDict({ 'fc1.weight': rt.zeros([20, 11]), 'fc1.bias': rt.zeros([20]) }));
    expect(e.message).toMatch(/size mismatch for fc1\.weight: copying a param with shape \[20, 11\] from checkpoint, the shape in current model is \[20, 10\]/);
  });

  it('an optimizer refuses a non-leaf tensor, and other non-parameters', () => {
    const w = rt.randn([3], { requiresGrad: true });
    const e = errorOf(() => new nn.optim.SGD([w.mul(2)], { lr: 0.1 }));
    expect(e.message).toMatch(/can't optimize a non-leaf Tensor/);
    expect(e.message).toMatch(/MulBackward0/);
    expect(errorOf(() => new nn.optim.Adam([w, w])).message).toMatch(/duplicate parameters/);
    expect(errorOf(() => new nn.optim.Adam([])).message).toMatch(/empty parameter list/);
    expect(errorOf(() => new nn.optim.Adam(w as unknown as Tensor[])).message).toMatch(/iterable of Tensors/);
    expect(errorOf(() => new nn.optim.SGD([rt.tensor([1, 2], { dtype: 'int32' })], { lr: 1 })).message).toMatch(/floating point/);
    expect(errorOf(() => new nn.optim.SGD([w], { lr: -1 })).message).toMatch(/Invalid learning rate: -1/);
    expect(errorOf(() => new nn.optim.SGD([w], { lr: 0.1, nesterov: true })).message).toMatch(/Nesterov momentum requires a momentum/);
    expect(errorOf(() => new nn.optim.Adam([w], { betas: [1, 0.999] })).message).toMatch(/Invalid beta parameter at index 0/);
  });
});

describe('losses check their targets', () => {
  it('class indices must be int32 and in range; shapes must match', () => {
    const logits = rt.randn([3, 4]);
    expect(errorOf(() => nn.crossEntropy(logits, rt.tensor([0, 1, 4], { dtype: 'int32' }))).message).toMatch(/Target 4 is out of bounds/);
    expect(errorOf(() => nn.crossEntropy(logits, rt.tensor([0, 1]))).message).toMatch(/class-probability targets must have the input's shape/);
    expect(errorOf(() => nn.nllLoss(logits, rt.tensor([0, 1], { dtype: 'int32' }))).message).toMatch(/expected target of shape \[3\]/);
    expect(errorOf(() => nn.crossEntropy(logits, rt.tensor([0, 1, 2], { dtype: 'int32' }), { reduction: 'avg' as nn.Reduction })).message).toMatch(/avg is not a valid value for reduction/);
    expect(errorOf(() => nn.crossEntropy(logits, rt.tensor([0, 1, 2], { dtype: 'int32' }), { labelSmoothing: 1.5 })).message).toMatch(/label_smoothing must be between 0.0 and 1.0/);
    expect(errorOf(() => nn.binaryCrossEntropyWithLogits(logits, rt.zeros([3]))).message).toMatch(/Target size \(\[3\]\) must be the same as input size \(\[3, 4\]\)/);
  });
});

describe('a loss of shapes that do not broadcast', () => {
  it('names the loss the user called (not sub) and both shapes, leaving nothing behind', () => {
    const a = rt.ones([2, 3]);
    const b = rt.ones([4]);
    const before = rt.memory();
    for (const [name, fn] of [['mseLoss', nn.mseLoss], ['l1Loss', nn.l1Loss]] as const) {
      const e = errorOf(() => fn(a, b));
      expect(e.op).toBe(name);
      expect(e.message).toMatch(new RegExp(`^${name}: The size of tensor a \\(3\\) must match the size of tensor b \\(4\\)`));
      expect(e.message).toContain('[2, 3]');
      expect(e.message).toContain('[4]');
    }
    expect([rt.memory().numTensors, rt.memory().numBytes]).toEqual([before.numTensors, before.numBytes]);
    a.dispose();
    b.dispose();
  });
});
