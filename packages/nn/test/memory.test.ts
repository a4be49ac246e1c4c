/**
 * A training loop leaves memory as it found it: with each step inside `nn.utils.tidy`, the live
 * tensor count and bytes (`rt.memory()`; on the CPU, storages of 4 KiB and more are tracked) are
 * the same after every one of 1,000 steps — forward, loss, backward, clipping, optimizer,
 * scheduler, dropout, layer norm and hooks included.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
  rt.manualSeed(7);
});

interface Drift {
  first: { numTensors: number; numBytes: number };
  maxTensors: number;
  maxBytes: number;
  minTensors: number;
  minBytes: number;
  last: { numTensors: number; numBytes: number };
}

/** Runs `warmup` steps, then `steps` more, recording the memory after each. */
function measure(step: () => void, steps: number, warmup = 3): Drift {
  for (let i = 0; i < warmup; i++) step();
  const snap = (): { numTensors: number; numBytes: number } => {
    const m = rt.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  };
  const first = snap();
  const d: Drift = { first, maxTensors: first.numTensors, maxBytes: first.numBytes, minTensors: first.numTensors, minBytes: first.numBytes, last: first };
  for (let i = 0; i < steps; i++) {
    step();
    const m = snap();
    d.maxTensors = Math.max(d.maxTensors, m.numTensors);
    d.maxBytes = Math.max(d.maxBytes, m.numBytes);
    d.minTensors = Math.min(d.minTensors, m.numTensors);
    d.minBytes = Math.min(d.minBytes, m.numBytes);
    d.last = m;
  }
  return d;
}

function expectFlat(d: Drift, what: string): void {
  console.log(`[memory] ${what}: ${d.first.numTensors} tensors / ${d.first.numBytes} bytes after warm-up; range over the loop ` +
    `${d.minTensors}..${d.maxTensors} tensors, ${d.minBytes}..${d.maxBytes} bytes; last ${d.last.numTensors} / ${d.last.numBytes}`);
  expect(d.first.numTensors).toBeGreaterThan(10); // the model's parameters, grads and state are tracked
  expect(d.maxTensors).toBe(d.first.numTensors);
  expect(d.minTensors).toBe(d.first.numTensors);
  expect(d.maxBytes).toBe(d.first.numBytes);
  expect(d.minBytes).toBe(d.first.numBytes);
}

describe('a 1,000-step training loop does not grow memory()', () => {
  it('MLP with LayerNorm, Dropout, GELU, hooks; AdamW, clipGradNorm_, StepLR', () => {
    const o = { runtime: rt };
    const model = new nn.Sequential(
      new nn.Linear(32, 64, o),
      new nn.LayerNorm(64, o),
      new nn.GELU(),
      new nn.Dropout(0.1),
      new nn.Linear(64, 64, o),
      new nn.Tanh(),
      new nn.Linear(64, 16, o),
    );
    let seen = 0;
    model.get(0).registerForwardHook(() => void seen++);
    model.get(4).registerFullBackwardHook(() => void seen++);
    const opt = new nn.optim.AdamW(model.parameters(), { lr: 1e-3, amsgrad: true });
    const sched = new nn.optim.lrScheduler.StepLR(opt, { stepSize: 100, gamma: 0.9 });
    const x = rt.randn([64, 32]);
    const y = rt.tensor(Array.from({ length: 64 }, (_, i) => i % 16), { dtype: 'int32' });
    const losses: number[] = [];
    const d = measure(() => {
      losses.push(
        nn.utils.tidy(rt, () => {
          opt.zeroGrad();
          const loss = nn.crossEntropy(model.call(x), y, { labelSmoothing: 0.05 });
          loss.backward();
          nn.utils.clipGradNorm_(model.parameters(), 1.0);
          opt.step();
          sched.step();
          return loss.item();
        }),
      );
    }, 1000);
    expectFlat(d, 'MLP + AdamW, 1000 steps');
    expect(seen).toBe(2 * 1003);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5); // it trained meanwhile
  });

  it('SGD with zeroGrad({ setToNone: false }) and a forward pass tidied apart from backward', () => {
    const o = { runtime: rt };
    const model = new nn.Sequential(new nn.Linear(32, 64, o), new nn.ReLU(), new nn.Linear(64, 8, o));
    const opt = new nn.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
    const x = rt.randn([64, 32]);
    const target = rt.randn([64, 8]);
    const d = measure(() => {
      opt.zeroGrad({ setToNone: false });
      // The loss is returned from the tidy; backward runs outside. The intermediates the graph
      // saved are freed by the next tidy, once backward has released them.
      const loss: Tensor = nn.utils.tidy(rt, () => nn.mseLoss(model.call(x), target));
      loss.backward();
      opt.step();
      loss.dispose();
    }, 1000);
    expectFlat(d, 'MLP + SGD, forward-only tidy, 1000 steps');
  });

  it('Conv2d + MaxPool2d + Flatten with RMSprop (200 steps)', () => {
    const o = { runtime: rt };
    const model = new nn.Sequential(new nn.Conv2d(2, 8, 3, { ...o, padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8 * 8 * 8, 4, o));
    const opt = new nn.optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.5, centered: true });
    const x = rt.randn([8, 2, 16, 16]);
    const y = rt.tensor([0, 1, 2, 3, 0, 1, 2, 3], { dtype: 'int32' });
    const d = measure(() => {
      nn.utils.tidy(rt, () => {
        opt.zeroGrad();
        nn.crossEntropy(model.call(x), y).backward();
        opt.step();
      });
    }, 200);
    expectFlat(d, 'CNN + RMSprop, 200 steps');
  });
});

describe('tidy', () => {
  it('frees what it made, keeps what it returns and what keep() marks, nests', () => {
    const before = rt.memory().numTensors;
    let kept: Tensor | null = null;
    const out = nn.utils.tidy(rt, () => {
      const a = rt.ones([32, 32]);
      const inner = nn.utils.tidy(rt, () => a.mul(2).add(1));
      kept = nn.utils.keep(a.mul(3));
      return { sum: inner.add(a), list: [inner] };
    });
    expect(rt.memory().numTensors).toBe(before + 3);
    expect(out.sum.dataSync()[0]).toBe(4);
    expect(out.list[0]!.dataSync()[0]).toBe(3);
    expect(kept!.dataSync()[0]).toBe(3);
    for (const t of [out.sum, out.list[0]!, kept!]) t.dispose();
    expect(rt.memory().numTensors).toBe(before);
  });

  it('never frees parameters, gradients or optimizer state made inside it', () => {
    const { model, opt } = nn.utils.tidy(rt, () => {
      const m = new nn.Linear(40, 40, { runtime: rt });
      const o = new nn.optim.Adam(m.parameters());
      m.call(rt.randn([4, 40])).sum().backward();
      o.step();
      return { model: m, opt: o };
    });
    expect(model.weight.isDisposed).toBe(false);
    expect(model.weight.grad!.isDisposed).toBe(false);
    expect((opt.state.get(model.weight)!.expAvg as Tensor).isDisposed).toBe(false);
  });

  it('refuses an async function and frees what it made when fn throws', async () => {
    const before = rt.memory().numTensors;
    expect(() =>
      nn.utils.tidy(rt, () => {
        rt.ones([64, 64]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(rt.memory().numTensors).toBe(before);
    expect(() => nn.utils.tidy(rt, (async () => 1) as unknown as () => number)).toThrow(/async/);
  });
});
