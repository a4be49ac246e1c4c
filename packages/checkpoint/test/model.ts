/** The model (16 blocks of Linear(128,512)+ReLU+Linear(512,128)) and a measured step. */
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';

export function blockModel(rt: Runtime, device: string, batch: number, blocks = 16): { model: nn.Sequential; x: Tensor } {
  rt.manualSeed(42);
  const list = Array.from(
    { length: blocks },
    () => new nn.Sequential(new nn.Linear(128, 512, { runtime: rt } as never), new nn.ReLU(), new nn.Linear(512, 128, { runtime: rt } as never)),
  );
  const model = new nn.Sequential(...list);
  if (device !== 'cpu') model.to(device);
  const x = rt.randn([batch, 128], { device });
  return { model, x };
}

export interface Measured {
  /** The device's memory().byDevice peakBytes during the step, above its numBytes before it. */
  peak: number;
  /** Copies of the parameters' gradients after the step. */
  grads: Tensor[];
}

/** One forward + backward in a tidy, with the gradients allocated beforehand and zeroed. */
export function measureStep(rt: Runtime, model: nn.Module, forward: () => Tensor, device = 'cpu'): Measured {
  const params = model.parameters();
  for (const p of params) {
    if (p.grad) p.grad.zero_();
    else p.grad = rt.outsideTidy(() => rt.zerosLike(p));
  }
  const before = rt.memory().byDevice[device]?.numBytes ?? 0;
  rt.resetPeakMemory();
  rt.tidy(() => {
    forward().sum().backward();
  });
  const peak = rt.memory().byDevice[device]!.peakBytes - before;
  const grads = params.map((p) => rt.outsideTidy(() => p.grad!.clone()));
  return { peak, grads };
}
