import type { DType, ElementwiseSpec, Expr } from '@nabla/core';

const IDENTITY: Expr = { op: 'input', index: 0 };

/** An elementwise spec that copies (and converts) one input. */
export function copySpec(from: DType, to: DType): ElementwiseSpec {
  return { name: 'copy', expr: IDENTITY, inputDtypes: [from], outDtype: to, computeDtype: 'float32', numParams: 0, key: `nb.copy:${from}>${to}` };
}
