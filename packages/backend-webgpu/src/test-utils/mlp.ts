/**
 * The 2-layer MLP that the training tests (Node and browser) run on both devices from the same
 * seeded weights: a forward pass, backward, and a plain SGD step that disposes what it makes.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { randoms } from './numbers.js';

export interface Mlp {
  readonly params: Tensor[];
  /** One forward/backward/SGD step; returns the loss (a tensor the caller disposes). */
  step(x: Tensor, y: Tensor, lr: number): Tensor;
}

export function mlp(rt: Runtime, device: string, sizes: readonly [number, number, number], act: 'tanh' | 'relu', seed: number): Mlp {
  const [nIn, nHidden, nOut] = sizes;
  const init = (n: number, s: number, scale: number) => Float32Array.from(randoms(n, s, -scale, scale));
  const w1 = rt.tensor(init(nIn * nHidden, seed, 1 / Math.sqrt(nIn)), { device, shape: [nIn, nHidden], requiresGrad: true });
  const b1 = rt.tensor(init(nHidden, seed + 1, 0.1), { device, requiresGrad: true });
  const w2 = rt.tensor(init(nHidden * nOut, seed + 2, 1 / Math.sqrt(nHidden)), { device, shape: [nHidden, nOut], requiresGrad: true });
  const b2 = rt.tensor(init(nOut, seed + 3, 0.1), { device, requiresGrad: true });
  const params = [w1, b1, w2, b2];
  return {
    params,
    step(x, y, lr) {
      const mm1 = x.matmul(w1);
      const pre = mm1.add(b1);
      const h = act === 'tanh' ? pre.tanh() : pre.relu();
      const mm2 = h.matmul(w2);
      const out = mm2.add(b2);
      const diff = out.sub(y);
      const sq = diff.square();
      const loss = sq.mean();
      loss.backward();
      rt.noGrad(() => {
        for (const p of params) {
          const upd = p.grad!.mul(lr);
          p.sub_(upd);
          upd.dispose();
          p.grad!.dispose();
          p.grad = null;
        }
      });
      for (const t of [mm1, pre, h, mm2, out, diff, sq]) t.dispose();
      return loss;
    },
  };
}
