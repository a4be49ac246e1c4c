/**
 * Conv2d, MaxPool2d, LayerNorm and Embedding, forward and backward, against PyTorch 1.13 (float64
 * inputs from the shared formula; outputs and gradients recorded in fixtures/layers.json).
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

interface Case {
  inputs: () => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  outSeed: number;
}

const F = nn.functional;
const conv = (): Tensor[] => [hashed(rt, [2, 3, 7, 6], 11), hashed(rt, [4, 3, 3, 2], 12), hashed(rt, [4], 13)];
const pool = (): Tensor[] => [hashed(rt, [2, 2, 7, 7], 16)];

const CASES: Record<string, Case> = {
  conv2d_basic: { inputs: conv, fn: (x, w, b) => F.conv2d(x!, w!, b), outSeed: 14 },
  conv2d_stride_pad_dilation: {
    inputs: conv,
    fn: (x, w, b) => F.conv2d(x!, w!, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }),
    outSeed: 15,
  },
  conv2d_nobias_1x1_stride2: { inputs: () => [hashed(rt, [2, 3, 7, 6], 11), hashed(rt, [5, 3, 1, 1], 25)], fn: (x, w) => F.conv2d(x!, w!, null, { stride: 2 }), outSeed: 26 },
  maxpool2d_k3_s2_p1: { inputs: pool, fn: (x) => F.maxPool2d(x!, 3, { stride: 2, padding: 1 }), outSeed: 17 },
  maxpool2d_k2: { inputs: pool, fn: (x) => F.maxPool2d(x!, 2), outSeed: 18 },
  layernorm: {
    inputs: () => [hashed(rt, [3, 4, 5], 19, { scale: 4, shift: 1 }), hashed(rt, [4, 5], 20, { shift: 1 }), hashed(rt, [4, 5], 21)],
    fn: (x, w, b) => F.layerNorm(x!, [4, 5], w, b, 1e-5),
    outSeed: 22,
  },
  embedding_padding: {
    inputs: () => [hashed(rt, [5, 3], 23)],
    fn: (w) => F.embedding(rt.tensor([[0, 2, 4], [2, 1, 0]], { dtype: 'int32' }), w!, 2),
    outSeed: 24,
  },
};

describe('layers match PyTorch forward and backward (float64)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const err = replay(rt, cases[name]!, c.inputs(), c.fn, c.outSeed);
      expect(err.out).toBeLessThan(TOL);
      expect(err.grad).toBeLessThan(TOL);
    });
  }
});

describe('the layer modules use the functional forms', () => {
  it('Conv2d with PyTorch padding/stride options gives the recorded output', () => {
    const [x, w, b] = conv();
    const m = new nn.Conv2d(3, 4, [3, 2], { runtime: rt, dtype: 'float64', stride: [2, 1], padding: [1, 2], dilation: [1, 2] });
    m.loadStateDict({ weight: w!, bias: b! });
    const err = replay(rt, cases.conv2d_stride_pad_dilation!, [x!], (t) => m.call(t), 15);
    expect(err.out).toBeLessThan(TOL);
    expect(m.weight.grad).not.toBeNull();
  });

  it('MaxPool2d, LayerNorm and Embedding modules', () => {
    expect(replay(rt, cases.maxpool2d_k3_s2_p1!, pool(), (x) => new nn.MaxPool2d(3, { stride: 2, padding: 1 }).call(x), 17).out).toBeLessThan(TOL);
    const ln = new nn.LayerNorm([4, 5], { runtime: rt, dtype: 'float64' });
    const [x, w, b] = CASES.layernorm!.inputs();
    ln.loadStateDict({ weight: w!, bias: b! });
    expect(replay(rt, cases.layernorm!, [x!], (t) => ln.call(t), 22).out).toBeLessThan(TOL);
    const emb = new nn.Embedding(5, 3, { runtime: rt, dtype: 'float64', paddingIdx: 2 });
    emb.loadStateDict({ weight: hashed(rt, [5, 3], 23) });
    const out = emb.call(rt.tensor([[0, 2, 4], [2, 1, 0]], { dtype: 'int32' }));
    out.mul(hashed(rt, [2, 3, 3], 24)).sum().backward();
    const want = cases.embedding_padding!.grads[0]!;
    expect(Array.from(emb.weight.grad!.dataSync())).toEqual(want.map((v) => expect.closeTo(v, 12)));
  });

  it('Embedding starts its padding row at zero, LayerNorm at weight 1 and bias 0', () => {
    const emb = new nn.Embedding(4, 3, { runtime: rt, paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(3);
    expect(emb.weight.select(0, 3).tolist()).toEqual([0, 0, 0]);
    const ln = new nn.LayerNorm(3, { runtime: rt });
    expect(ln.weight!.tolist()).toEqual([1, 1, 1]);
    expect(ln.bias!.tolist()).toEqual([0, 0, 0]);
  });
});
