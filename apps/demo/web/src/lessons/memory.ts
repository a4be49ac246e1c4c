/**
 * Memory lab: the peak memory of one training step (forward + backward) of a deep MLP, without
 * checkpointing and with `checkpointSequential` at several segment counts, read from
 * `memory().peakBytes`; and mixed precision with `autocast`, when this build of core has it.
 */
import * as nabla from '@nabla/core';
import type { Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { checkpointSequential, describePlan, sequentialPlan, type SegmentsSpec } from '@nabla/checkpoint';

/** 8 blocks of Linear(64, 256) + ReLU + Linear(256, 64): the activations dominate the memory. */
export function deepModel(device: string): nn.Sequential {
  nabla.manualSeed(3);
  const blocks = Array.from({ length: 8 }, () => new nn.Sequential(new nn.Linear(64, 256), new nn.ReLU(), new nn.Linear(256, 64)));
  return new nn.Sequential(...blocks).to(device) as nn.Sequential;
}

export interface StepMemory {
  readonly mode: string;
  /** Peak bytes on the device above what was live when the step began. */
  readonly peakBytes: number;
  /** Which blocks each segment runs; `*` marks a checkpointed segment (recomputed in backward). */
  readonly plan: string;
  /** The first parameter's gradient, to compare the modes: checkpointing must not change it. */
  readonly grad: Float32Array;
}

/** One forward + backward with `segments` (null: no checkpointing), measured. */
export async function measure(model: nn.Sequential, x: Tensor, segments: SegmentsSpec | null): Promise<StepMemory> {
  const device = x.device;
  model.zeroGrad();
  for (const p of model.parameters()) p.grad = nabla.zerosLike(p); // as in every step after the first
  await nabla.synchronize(device);
  const before = nabla.memory().byDevice[device]?.numBytes ?? 0;
  nabla.resetPeakMemory();
  nabla.tidy(() => {
    const y = segments === null ? (model.call(x) as Tensor) : checkpointSequential(model, segments, x);
    y.square().mean().backward();
  });
  await nabla.synchronize(device);
  const peakBytes = (nabla.memory().byDevice[device]?.peakBytes ?? 0) - before;
  const plan = segments === null ? 'no checkpoints' : describePlan(sequentialPlan(model, segments, x).segments);
  const grad = new Float32Array(await model.parameters()[0]!.grad!.data());
  return { mode: segments === null ? 'unchecked' : `segments: ${JSON.stringify(segments)}`, peakBytes, plan, grad };
}

type Autocast = <T>(device: string, fn: () => T, opts?: { dtype?: string; enabled?: boolean }) => T;

/** core's `autocast`, if this build exports it (mixed precision is being added in parallel). */
export function findAutocast(): Autocast | null {
  const exports: Record<string, unknown> = { ...nabla };
  return typeof exports['autocast'] === 'function' ? (exports['autocast'] as Autocast) : null;
}

/** The same step with the forward under autocast: its peak and the dtype the model computed in. */
export async function measureAutocast(autocast: Autocast, model: nn.Sequential, x: Tensor): Promise<{ peakBytes: number; dtype: string }> {
  const device = x.device;
  for (const p of model.parameters()) p.grad = nabla.zerosLike(p);
  await nabla.synchronize(device);
  const before = nabla.memory().byDevice[device]?.numBytes ?? 0;
  nabla.resetPeakMemory();
  const dtype = nabla.tidy(() => {
    const y = autocast(device, () => model.call(x) as Tensor);
    y.float().square().mean().backward();
    return y.dtype;
  });
  await nabla.synchronize(device);
  return { peakBytes: (nabla.memory().byDevice[device]?.peakBytes ?? 0) - before, dtype };
}
