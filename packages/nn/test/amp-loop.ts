/**
 * The tutorial's AMP training setup as `fixtures/make_amp_fixtures.py` builds it for amp.json's
 * runs: Linear(4,16) → ReLU → Linear(16,3) with hashed weights, hashed inputs, cyclic labels, SGD
 * with momentum and a GradScaler with the fixture's initial scale and growth interval. The CPU and
 * WebGPU loops (float32, bfloat16 and float16 autocast) start from this one place.
 */
import { amp, type Runtime, type Tensor } from '@nabla/core';
import * as nn from '../src/index.js';
import { hashed } from './helpers.js';

export interface AmpSetup {
  readonly model: nn.Sequential;
  readonly fc1: nn.Linear;
  readonly params: Tensor[];
  readonly x: Tensor;
  readonly y: Tensor;
  readonly opt: nn.optim.SGD;
  readonly scaler: amp.GradScaler;
}

export function ampSetup(r: Runtime, fx: { initScale: number; growthInterval: number }, device = 'cpu'): AmpSetup {
  const f32 = (shape: number[], seed: number, scale = 1): Tensor => hashed(r, shape, seed, { dtype: 'float32', scale, device });
  const fc1 = new nn.Linear(4, 16, { runtime: r, device });
  const fc2 = new nn.Linear(16, 3, { runtime: r, device });
  r.noGrad(() => {
    fc1.weight.copy_(f32([16, 4], 11));
    fc1.bias!.copy_(f32([16], 12, 0.2));
    fc2.weight.copy_(f32([3, 16], 13, 0.5));
    fc2.bias!.copy_(f32([3], 14, 0.2));
  });
  const model = new nn.Sequential(fc1, new nn.ReLU(), fc2);
  const x = f32([8, 4], 21, 2);
  const y = r.tensor(Array.from({ length: 8 }, (_, i) => (i * 7 + 3) % 3), { dtype: 'int32', device });
  const opt = new nn.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const scaler = new amp.GradScaler({ initScale: fx.initScale, growthInterval: fx.growthInterval });
  return { model, fc1, params: [...model.parameters()], x, y, opt, scaler };
}
