/**
 * The README's "Writing a module" and hooks examples run as written (default-runtime layers).
 */
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';

beforeAll(async () => {
  const names = nabla.defaultRuntime().plugins().map((p) => p.name);
  if (!names.some((n) => n.includes('cpu'))) await nabla.use(cpuBackend());
  if (!names.some((n) => n.includes('activations'))) await nabla.use(activations());
});

describe('README examples', () => {
  it('a module with class fields; layers on the default runtime', () => {
    class Net extends nn.Module {
      fc1 = new nn.Linear(784, 256);
      drop = new nn.Dropout(0.1);
      fc2 = new nn.Linear(256, 10);
      override forward(x: nabla.Tensor): nabla.Tensor {
        return this.fc2.call(this.drop.call(this.fc1.call(x).relu()));
      }
    }
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(net.call(nabla.randn([2, 784])).shape).toEqual([2, 10]);
    expect(() => new nn.Sequential({ fc1: new nn.Linear(10, 20) }).call(nabla.randn([4, 11]))).toThrow(
      'fc1 (Linear): expected input with 10 features in its last dimension (in_features=10), but got 11 features (input shape [4, 11])',
    );
  });

  it('the hooks recipe', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const acts = new Map<string, number[]>();
    const grads = new Map<string, number[]>();
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof nn.Linear)) continue;
      m.registerForwardHook((_m, _args, out) => void acts.set(name, Array.from((out as nabla.Tensor).dataSync())));
      m.registerFullBackwardHook((_m, _gradIn, gradOut) => void grads.set(name, Array.from(gradOut[0]!.dataSync())));
    }
    model.get(2).registerFullBackwardHook((_m, gradInput) => [gradInput[0]!.clamp(-0.05, 0.05)]);
    const x = nabla.randn([5, 3], { requiresGrad: true });
    model.call(x).sum().backward();
    expect([...acts.keys()].sort()).toEqual(['0', '2']);
    expect(grads.get('2')).toEqual(new Array(10).fill(1));
    expect(grads.get('0')!.every((g) => Math.abs(g) <= 0.05 + 1e-7)).toBe(true);
  });
});
