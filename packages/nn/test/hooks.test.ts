/**
 * Module hooks with PyTorch's semantics, checked against what the same hooks see in PyTorch 1.13
 * (fixtures/hooks.json): forward hooks recording activations and full backward hooks recording
 * the gradients w.r.t. every Linear's output and input in a 3-layer net, and a backward hook that
 * clips the gradient w.r.t. a layer's input.
 */
import type { MaybeGrad, Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, hashed, maxAbsDiff, values } from './helpers.js';

interface Recorded {
  activations: Record<string, number[]>;
  gradOutputs: Record<string, number[]>;
  gradInputs: Record<string, number[] | null>;
  paramGrads: Record<string, number[]>;
}
const ref = fixture<{ record: Recorded; clipped: { gradInputBefore: number[]; inputGrad: number[]; paramGrads: Record<string, number[]> } }>('hooks.json');
const TOL = 1e-12;

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** The 3-layer tanh net of make_fixtures.py's hooks(), with its weights. */
function net(): nn.Sequential {
  const sizes = [6, 5, 4, 3];
  const o = { runtime: rt, dtype: 'float64' as const };
  const m = new nn.Sequential(new nn.Linear(6, 5, o), new nn.Tanh(), new nn.Linear(5, 4, o), new nn.Tanh(), new nn.Linear(4, 3, o));
  const state: nn.StateDict = {};
  for (let l = 0; l < 3; l++) {
    state[`${2 * l}.weight`] = hashed(rt, [sizes[l + 1]!, sizes[l]!], 50 + 2 * l, { scale: 1.5 });
    state[`${2 * l}.bias`] = hashed(rt, [sizes[l + 1]!], 51 + 2 * l);
  }
  m.loadStateDict(state);
  return m;
}

const input = (): Tensor => hashed(rt, [4, 6], 60, { scale: 2 });
const weights = (): Tensor => hashed(rt, [4, 3], 61);

describe('the introspection example: hooks on every Linear of a 3-layer net', () => {
  it('forward hooks record activations, full backward hooks the gradients w.r.t. outputs and inputs', () => {
    const model = net();
    const rec: Omit<Recorded, 'paramGrads'> = { activations: {}, gradOutputs: {}, gradInputs: {} };
    const handles = [];
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof nn.Linear)) continue;
      handles.push(m.registerForwardHook((_m, _args, out) => void (rec.activations[name] = values(out as Tensor))));
      handles.push(
        m.registerFullBackwardHook((_m, gradInput, gradOutput) => {
          rec.gradOutputs[name] = values(gradOutput[0]!);
          rec.gradInputs[name] = gradInput[0] ? values(gradInput[0]) : null;
        }),
      );
    }
    model.call(input()).mul(weights()).sum().backward();

    expect(Object.keys(rec.activations).sort()).toEqual(['0', '2', '4']);
    for (const name of ['0', '2', '4']) {
      expect(maxAbsDiff(rec.activations[name]!, ref.record.activations[name]!)).toBeLessThan(TOL);
      expect(maxAbsDiff(rec.gradOutputs[name]!, ref.record.gradOutputs[name]!)).toBeLessThan(TOL);
      const want = ref.record.gradInputs[name];
      if (want === null) expect(rec.gradInputs[name]).toBeNull(); // the input needs no gradient: None, as PyTorch
      else expect(maxAbsDiff(rec.gradInputs[name]!, want!)).toBeLessThan(TOL);
    }
    for (const [name, p] of model.namedParameters()) expect(maxAbsDiff(values(p.grad!), ref.record.paramGrads[name]!)).toBeLessThan(TOL);

    // Removed hooks no longer run.
    for (const hd of handles) hd.remove();
    rec.activations = {};
    model.call(input());
    expect(rec.activations).toEqual({});
  });

  it('a full backward hook that clips the gradient w.r.t. the input changes everything upstream', () => {
    const model = net();
    const x = input().requiresGrad_(true);
    let before: number[] = [];
    const handle = model.get(2).registerFullBackwardHook((_m, gradInput) => {
      before = values(gradInput[0]!);
      return [gradInput[0]!.clamp(-0.05, 0.05)];
    });
    model.call(x).mul(weights()).sum().backward();
    handle.remove();
    expect(maxAbsDiff(before, ref.clipped.gradInputBefore)).toBeLessThan(TOL);
    expect(Math.max(...before.map(Math.abs))).toBeGreaterThan(0.05); // the clip did something
    expect(maxAbsDiff(values(x.grad!), ref.clipped.inputGrad)).toBeLessThan(TOL);
    for (const [name, p] of model.namedParameters()) expect(maxAbsDiff(values(p.grad!), ref.clipped.paramGrads[name]!)).toBeLessThan(TOL);
  });
});

describe('hook semantics', () => {
  it('a forward pre-hook may replace the input, a forward hook the output', () => {
    const lin = new nn.Linear(3, 2, { runtime: rt, dtype: 'float64' });
    const x = hashed(rt, [2, 3], 70);
    const plain = values(lin.call(x));
    const calls: string[] = [];
    const pre = lin.registerForwardPreHook((_m, args) => {
      calls.push('pre');
      return [(args[0] as Tensor).mul(2)];
    });
    const post = lin.registerForwardHook((_m, args, out) => {
      calls.push('post');
      expect(values(args[0] as Tensor)).toEqual(values(x)); // the hook sees the replaced input (0.5x · 2)
      return (out as Tensor).neg();
    });
    const doubled = values(lin.call(x.mul(0.5)));
    expect(maxAbsDiff(doubled, plain.map((v) => -v))).toBeLessThan(1e-12);
    expect(calls).toEqual(['pre', 'post']);
    pre.remove();
    post.remove();
    expect(values(lin.call(x))).toEqual(plain);
  });

  it('hooks run in registration order; prepend puts one first', () => {
    const m = new nn.ReLU();
    const order: number[] = [];
    m.registerForwardHook(() => void order.push(1));
    m.registerForwardHook(() => void order.push(2));
    m.registerForwardHook(() => void order.push(0), { prepend: true });
    m.call(rt.tensor([1]));
    expect(order).toEqual([0, 1, 2]);
  });

  it('a full backward pre-hook sees the gradient w.r.t. the output first and may replace it', () => {
    const lin = new nn.Linear(3, 2, { runtime: rt, dtype: 'float64' });
    const x = hashed(rt, [4, 3], 71, { requiresGrad: true });
    lin.call(x).sum().backward();
    const g1 = values(lin.weight.grad!);
    const gx1 = values(x.grad!);
    lin.zeroGrad();
    x.grad = null;
    const order: string[] = [];
    lin.registerFullBackwardPreHook((_m, gradOutput) => {
      order.push('pre');
      expect(values(gradOutput[0]!)).toEqual(new Array(8).fill(1));
      return [gradOutput[0]!.mul(3)];
    });
    lin.registerFullBackwardHook((_m, gradInput, gradOutput) => {
      order.push('post');
      expect(values(gradOutput[0]!)).toEqual(new Array(8).fill(3)); // the replaced one
      expect(maxAbsDiff(values(gradInput[0]!), gx1.map((v) => 3 * v))).toBeLessThan(1e-12);
    });
    lin.call(x).sum().backward();
    expect(order).toEqual(['pre', 'post']);
    expect(maxAbsDiff(values(lin.weight.grad!), g1.map((v) => 3 * v))).toBeLessThan(1e-12);
  });

  it('non-tensor arguments get null gradients; multiple outputs each get theirs', () => {
    class Split extends nn.Module {
      override forward(x: Tensor, scale: number): Tensor[] {
        return [x.mul(scale), x.square()];
      }
    }
    const m = new Split();
    let seen: { gi: MaybeGrad[]; go: MaybeGrad[] } | null = null;
    m.registerFullBackwardHook((_m, gi, go) => void (seen = { gi, go }));
    const x = rt.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const [a, b] = m.call(x, 5);
    a!.sum().add(b!.sum()).backward();
    const s = seen as unknown as { gi: MaybeGrad[]; go: MaybeGrad[] };
    expect(s.gi.length).toBe(2);
    expect(s.gi[1]).toBeNull();
    expect(values(s.gi[0]!)).toEqual([7, 9]); // 5 + 2x
    expect(s.go.map((g) => values(g!))).toEqual([[1, 1], [1, 1]]);
    expect(values(x.grad!)).toEqual([7, 9]);
  });

  it('a backward hook returning the wrong number of gradients is an error naming the module', () => {
    const model = new nn.Sequential(new nn.Linear(2, 2, { runtime: rt }));
    model.get(0).registerFullBackwardHook(() => [null, null]);
    const x = rt.randn([1, 2], { requiresGrad: true });
    expect(() => model.call(x).sum().backward()).toThrow(/0 \(Linear\).*invalid number of grad_input, got 2, but expected 1/);
  });

  it('hooks see the module itself; a non-function hook is refused', () => {
    const m = new nn.Tanh();
    let who: nn.Module | null = null;
    m.registerForwardPreHook((mod) => void (who = mod));
    m.call(rt.tensor([0]));
    expect(who).toBe(m);
    expect(() => m.registerForwardHook(42 as unknown as nn.ForwardHook)).toThrow(/hook must be a function/);
  });
});
