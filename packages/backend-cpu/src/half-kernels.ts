/**
 * The structured kernels for float16/bfloat16: the float32 ones, each run through the half bridge
 * (widen the 16-bit views, run, narrow the outputs). Registered for exactly the kernels whose
 * float32 version exists, so a 16-bit tensor can do what a float32 one can on the CPU.
 */
import { wrapKernels, type KernelSignatures } from '@nabla/core';
import type { HalfBridge } from './half-storage.js';

export { HALF_DTYPES } from '@nabla/core';

export function halfKernelTable(kernels: KernelSignatures, bridge: HalfBridge): KernelSignatures {
  return wrapKernels(kernels, (kernel, args, outs) => bridge.run(kernel, args, outs));
}
