/**
 * Device switcher lesson: the same code on every device this browser has. Only the device name
 * changes; the tensors say where they live and the backend says what ran them.
 */
import * as nabla from '@nabla/core';
import * as nn from '@nabla/nn';
import * as act from '@nabla/activations';

export interface DeviceRun {
  readonly device: string;
  /** What the backend says it is: the CPU kernels, the WebGPU adapter, the WebGL renderer. */
  readonly ranOn: string;
  readonly loss: number;
  readonly grad: Float32Array;
  readonly ms: number;
}

/** A small model's loss and first-layer gradient, on `device`. */
export async function sameCode(device: string): Promise<DeviceRun> {
  const t0 = performance.now();
  nabla.manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(8, 32), new nn.GELU(), new nn.Linear(32, 1));
  model.to(device);
  const x = nabla.linspace(-1, 1, 64 * 8, { device }).reshape([64, 8]);
  const target = act.silu(x.sum(1, true));
  const loss = nn.mseLoss(model.call(x), target);
  loss.backward();
  const result = {
    device: loss.device,
    ranOn: loss.rt.backend(loss.device).describe(),
    loss: await loss.itemAsync(),
    grad: new Float32Array(await model.parameters()[0]!.grad!.data()),
    ms: performance.now() - t0,
  };
  return result;
}
