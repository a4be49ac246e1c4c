/**
 * Optimizers beyond the parity fixture: schedulers' learning-rate sequences against PyTorch,
 * param groups, zeroGrad, stateDict / loadStateDict (a resumed run is bit-identical), closures.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, values } from './helpers.js';

const schedules = fixture<Record<string, number[][]>>('schedulers.json');
let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** The two-group SGD optimizer of make_fixtures.py's schedulers(). */
function twoGroups(): nn.optim.SGD {
  const a = rt.zeros([1], { requiresGrad: true });
  const b = rt.zeros([1], { requiresGrad: true });
  return new nn.optim.SGD([{ params: [a], lr: 0.1 }, { params: [b], lr: 0.02 }], { lr: 0.1 });
}

describe('learning-rate schedulers match PyTorch', () => {
  const cases: [string, (o: nn.optim.SGD) => nn.optim.lrScheduler.LRScheduler][] = [
    ['StepLR_3_0.5', (o) => new nn.optim.lrScheduler.StepLR(o, { stepSize: 3, gamma: 0.5 })],
    ['CosineAnnealingLR_5_0.01', (o) => new nn.optim.lrScheduler.CosineAnnealingLR(o, { tMax: 5, etaMin: 0.01 })],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const opt = twoGroups();
      const sched = make(opt);
      const want = schedules[name]!;
      const got = [opt.paramGroups.map((g) => g.lr)];
      for (let e = 1; e < want.length; e++) {
        opt.step();
        sched.step();
        got.push(opt.paramGroups.map((g) => g.lr));
        expect(sched.getLastLr()).toEqual(got[e]);
      }
      got.forEach((lrs, e) => lrs.forEach((lr, i) => expect(lr).toBeCloseTo(want[e]![i]!, 14)));
    });
  }

  it('a scheduler state dict resumes the schedule', () => {
    const opt = twoGroups();
    const s1 = new nn.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 5, etaMin: 0.01 });
    for (let e = 0; e < 3; e++) s1.step();
    const saved = s1.stateDict();
    const opt2 = twoGroups();
    opt2.loadStateDict(opt.stateDict());
    const s2 = new nn.optim.lrScheduler.CosineAnnealingLR(opt2, { tMax: 5, etaMin: 0.01 });
    s2.loadStateDict(saved);
    s1.step();
    s2.step();
    expect(opt2.paramGroups.map((g) => g.lr)).toEqual(opt.paramGroups.map((g) => g.lr));
  });
});

/** A small float64 regression problem and a model for it. */
function problem(): { model: nn.Sequential; x: Tensor; y: Tensor } {
  rt.manualSeed(3);
  const o = { runtime: rt, dtype: 'float64' as const };
  const model = new nn.Sequential(new nn.Linear(4, 8, o), new nn.Tanh(), new nn.Linear(8, 1, o));
  return { model, x: rt.randn([16, 4], { dtype: 'float64' }), y: rt.randn([16, 1], { dtype: 'float64' }) };
}

function train(model: nn.Module, opt: nn.optim.Optimizer<{ lr: number }>, x: Tensor, y: Tensor, steps: number): void {
  for (let i = 0; i < steps; i++) {
    nn.utils.tidy(rt, () => {
      opt.zeroGrad();
      nn.mseLoss(model.call(x) as Tensor, y).backward();
      opt.step();
    });
  }
}

describe('optimizer state', () => {
  const makers: [string, (ps: nn.Parameter[]) => nn.optim.Optimizer<{ lr: number }>][] = [
    ['SGD', (ps) => new nn.optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }) as unknown as nn.optim.Optimizer<{ lr: number }>],
    ['Adam', (ps) => new nn.optim.Adam(ps, { lr: 0.01, amsgrad: true }) as unknown as nn.optim.Optimizer<{ lr: number }>],
    ['AdamW', (ps) => new nn.optim.AdamW(ps, { lr: 0.01 }) as unknown as nn.optim.Optimizer<{ lr: number }>],
    ['RMSprop', (ps) => new nn.optim.RMSprop(ps, { lr: 0.01, momentum: 0.5, centered: true }) as unknown as nn.optim.Optimizer<{ lr: number }>],
  ];
  for (const [name, make] of makers) {
    it(`${name}: stateDict / loadStateDict resumes bit-identically`, () => {
      const a = problem();
      const optA = make(a.model.parameters());
      train(a.model, optA, a.x, a.y, 3);
      // Snapshot (the state dict holds the live state tensors, as PyTorch's does: copy them).
      const modelState = Object.fromEntries(Object.entries(a.model.stateDict()).map(([k, v]) => [k, v.clone()]));
      const sd = optA.stateDict();
      const optState = { ...sd, state: Object.fromEntries(Object.entries(sd.state).map(([k, s]) => [k, Object.fromEntries(Object.entries(s).map(([n, v]) => [n, typeof v === 'number' ? v : v.clone()]))])) };
      expect(Object.keys(optState.state).length).toBe(4);
      train(a.model, optA, a.x, a.y, 2);

      const b = problem();
      b.model.loadStateDict(modelState);
      const optB = make(b.model.parameters());
      optB.loadStateDict(optState);
      train(b.model, optB, b.x, b.y, 2);
      a.model.parameters().forEach((p, i) => expect(values(b.model.parameters()[i]!)).toEqual(values(p)));
    });
  }

  it('param groups keep their own hyperparameters; zeroGrad clears every group', () => {
    const { model } = problem();
    const opt = new nn.optim.SGD([{ params: model.get(0).parameters(), lr: 0.5 }, { params: model.get(2).parameters() }], { lr: 0.01, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.5, 0.9], [0.01, 0.9]]);
    opt.addParamGroup({ params: [rt.zeros([2], { requiresGrad: true })], momentum: 0 });
    expect(opt.paramGroups[2]!.momentum).toBe(0);
    expect(() => opt.addParamGroup({ params: model.get(0).parameters() })).toThrow(/more than one parameter group/);
    model.call(rt.ones([1, 4], { dtype: 'float64' })).sum().backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    opt.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('one SGD step with lr 0.5 on group 0 and 0.01 on group 1 moves each by lr·grad', () => {
    const w0 = rt.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const w1 = rt.tensor([3], { dtype: 'float64', requiresGrad: true });
    const opt = new nn.optim.SGD([{ params: [w0], lr: 0.5 }, { params: [w1] }], { lr: 0.01 });
    w0.square().sum().add(w1.mul(4).sum()).backward();
    opt.step();
    expect(values(w0)).toEqual([0, 0]);
    expect(values(w1)[0]).toBeCloseTo(2.96, 14);
  });

  it('step(closure) re-evaluates the loss with grad enabled and returns it', () => {
    const w = rt.tensor([2], { dtype: 'float64', requiresGrad: true });
    const opt = new nn.optim.SGD([w], { lr: 0.25 });
    const loss = rt.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.square().sum();
        l.backward();
        return l;
      }),
    ) as Tensor;
    expect(loss.item()).toBe(4);
    expect(values(w)).toEqual([1]);
  });

  it('parameters without a gradient are skipped; maximize ascends', () => {
    const a = rt.tensor([1], { dtype: 'float64', requiresGrad: true });
    const b = rt.tensor([1], { dtype: 'float64', requiresGrad: true });
    const opt = new nn.optim.SGD([a, b], { lr: 0.5, maximize: true });
    a.mul(2).sum().backward();
    opt.step();
    expect(values(a)).toEqual([2]);
    expect(values(b)).toEqual([1]);
    expect(opt.state.has(b)).toBe(false);
  });
});
