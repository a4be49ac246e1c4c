/**
 * Global module hooks (PyTorch's register_module_forward_pre_hook / register_module_forward_hook /
 * register_module_full_backward_hook): every module's call runs them, before its own hooks; they
 * see each module by its qualified path; alwaysCall hooks run when forward throws; handles remove.
 */
import type { MaybeGrad, Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

class Block extends nn.Module {
  fc1: nn.Linear;
  constructor() {
    super();
    this.fc1 = new nn.Linear(3, 3, { runtime: rt });
  }
  override forward(x: Tensor): Tensor {
    return this.fc1.call(x).tanh();
  }
}

class Boom extends nn.Module {
  override forward(_x: Tensor): Tensor {
    throw new Error('boom');
  }
}

describe('global module hooks', () => {
  it('run on every module call, before the module’s own hooks, and see qualified paths', () => {
    const model = new nn.Sequential(new Block(), new Block());
    const seen: string[] = [];
    const pre = nn.registerModuleForwardPreHook((m) => void seen.push(`pre ${m.qualifiedName() ?? '<root>'}`));
    const post = nn.registerModuleForwardHook((m, _a, out) => void seen.push(`post ${m.qualifiedName() ?? '<root>'} ${(out as Tensor).shape.join('x')}`));
    const own = (model.get(1) as Block).fc1.registerForwardHook(() => void seen.push('own 1.fc1'));
    model.call(rt.ones([2, 3]));
    expect(seen).toEqual([
      'pre <root>',
      'pre 0',
      'pre 0.fc1',
      'post 0.fc1 2x3',
      'post 0 2x3',
      'pre 1',
      'pre 1.fc1',
      'post 1.fc1 2x3',
      'own 1.fc1',
      'post 1 2x3',
      'post <root> 2x3',
    ]);
    pre.remove();
    post.remove();
    pre.remove(); // idempotent
    own.remove();
    seen.length = 0;
    model.call(rt.ones([2, 3]));
    expect(seen).toEqual([]);
  });

  it('may replace arguments and outputs', () => {
    const lin = new nn.Linear(2, 2, { runtime: rt, bias: false });
    const h1 = nn.registerModuleForwardPreHook((_m, [x]) => [(x as Tensor).mul(0)]);
    const h2 = nn.registerModuleForwardHook((_m, _a, out) => (out as Tensor).add(7));
    const y = lin.call(rt.ones([1, 2]));
    h1.remove();
    h2.remove();
    expect(y.tolist()).toEqual([[7, 7]]);
  });

  it('alwaysCall hooks run when forward throws, others do not, and removal after the throw is clean', () => {
    const calls: string[] = [];
    const always = nn.registerModuleForwardHook((m, _a, out) => void calls.push(`always ${m.constructor.name} ${String(out)}`), { alwaysCall: true });
    const normal = nn.registerModuleForwardHook(() => void calls.push('normal'));
    expect(() => new Boom().call(rt.ones([1]))).toThrow('boom');
    expect(calls).toEqual(['always Boom undefined']);
    always.remove();
    normal.remove();
    calls.length = 0;
    expect(() => new Boom().call(rt.ones([1]))).toThrow('boom');
    expect(calls).toEqual([]);
  });

  it('full backward hooks see every module’s output and input gradients', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4, { runtime: rt }), new nn.Tanh(), new nn.Linear(4, 2, { runtime: rt }));
    const got: [string, number[] | null][] = [];
    const pre: string[] = [];
    const hb = nn.registerModuleFullBackwardHook((m, _gIn: MaybeGrad[], gOut: MaybeGrad[]) => void got.push([m.qualifiedName() ?? '<root>', gOut[0] ? [...gOut[0].shape] : null]));
    const hp = nn.registerModuleFullBackwardPreHook((m) => void pre.push(m.qualifiedName() ?? '<root>'));
    model.call(rt.ones([5, 3], { requiresGrad: true })).sum().backward();
    hb.remove();
    hp.remove();
    expect(got.map(([n]) => n).sort()).toEqual(['0', '1', '2', '<root>']);
    expect(Object.fromEntries(got)).toEqual({ '<root>': [5, 2], '2': [5, 2], '1': [5, 4], '0': [5, 4] });
    expect(pre[0]).toBe('<root>');
  });
});
