/**
 * Automatic mixed precision: `autocast` regions, the op lists they follow, `GradScaler`, and the
 * seam plugins call at their ops' entry (`castInputs`).
 */
import { castOperands } from './state.js';
import type { Tensor } from '../tensor/tensor.js';

export { autocast, type AutocastOptions } from './autocast.js';
export { GradScaler, type GradScalerOptions, type GradScalerState, type ScalableOptimizer } from './grad-scaler.js';
export { CPU_OP_POLICY, GPU_OP_POLICY, opPolicyTable, type CastPolicy, type OpPolicyTable } from './op-lists.js';
export { isAutocastEnabled, getAutocastDType, activePolicy, type AutocastDType } from './state.js';

/**
 * For plugin ops: the op's tensor inputs as the active autocast region wants them (cast per the
 * op's policy in op-lists.ts), or the same array when autocast is off for their device or the op
 * is not listed. `null`/`undefined` entries (an absent bias) pass through.
 *
 * @example
 * export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
 *   [x, w, b] = nabla.amp.castInputs('linear', [x, w, b] as const);
 *   // ... the op, now on tensors of one dtype
 * }
 */
export function castInputs<T extends readonly (Tensor | null | undefined)[]>(op: string, inputs: T): T {
  return castOperands(op, inputs);
}
