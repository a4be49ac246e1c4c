/**
 * The structured kernels for float16/bfloat16: the float32 ones, each run through the half bridge
 * (widen the 16-bit views, run, narrow the outputs). Registered for exactly the kernels whose
 * float32 version exists, so a 16-bit tensor can do what a float32 one can on WebGPU.
 */
import type { DType, KernelName, KernelSignatures } from '@nabla/core';
import type { HalfBridge } from './half-storage.js';

export const HALF_DTYPES: readonly DType[] = ['float16', 'bfloat16'];

/** Which argument positions each kernel writes (the rest are read). */
const OUTPUTS: { readonly [K in KernelName]: readonly number[] } = {
  sum: [0],
  prod: [0],
  max: [0],
  min: [0],
  argmax: [0],
  argmin: [0],
  bmm: [0],
  addmm: [0],
  gather: [0],
  scatterAdd: [0],
  scatter: [0],
  softmax: [0],
  logSoftmax: [0],
  sort: [0, 1],
  cumsum: [0],
  cumprod: [0],
};

function bridged<K extends KernelName>(k: KernelSignatures[K], bridge: HalfBridge, outs: readonly number[]): KernelSignatures[K] {
  const f = k as (...args: unknown[]) => void;
  return ((...args: unknown[]) => bridge.run(f, args, outs)) as KernelSignatures[K];
}

export function halfKernelTable(kernels: KernelSignatures, bridge: HalfBridge): KernelSignatures {
  const out: Partial<Record<KernelName, unknown>> = {};
  for (const name of Object.keys(OUTPUTS) as KernelName[]) out[name] = bridged(kernels[name], bridge, OUTPUTS[name]);
  return out as KernelSignatures;
}
