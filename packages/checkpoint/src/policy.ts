/**
 * Selective checkpointing (JAX's `checkpoint_policies`, PyTorch's selective activation
 * checkpointing). A policy is asked at two stages of a checkpoint's first run:
 *
 * - `'output'`, once per op output (per kernel launch, through core's dispatch hooks): `'save'`
 *   keeps the output, and the recompute answers that op with it instead of running its kernel
 *   (PyTorch's `MUST_SAVE`). This is how a policy keeps the expensive matmuls and recomputes only
 *   the cheap elementwise ops between them. Other answers keep nothing at this stage.
 * - `'saved'`, once per tensor the graph saves for backward: keep it (`'save'`), drop it and
 *   recompute it in backward (`'recompute'`, the default), or keep a host copy until backward
 *   (`'offload'`, for GPU tensors). A saved tensor that is a kept output is kept without asking.
 *
 * It sees the op, the node that made the tensor (`'saved'` stage), the module it was made in
 * (inside `checkpointSequential`), and its size.
 */
import { NablaError, type DType } from '@nabla/core';

export type SaveDecision = 'save' | 'recompute' | 'offload';

/** What a policy (and `savedReport`) sees of one tensor a segment saves for backward. */
export interface SavedTensorInfo {
  /** `'output'`: an op's output, before the op's kernel runs; `'saved'`: a tensor saved for backward. */
  stage: 'output' | 'saved';
  /**
   * `'output'` stage: the op that makes it (`mm`, `addmm`, `relu`, ...). `'saved'` stage: the op
   * that saves it (the last op dispatched when it was saved).
   */
  op: string;
  /**
   * The graph node that made it (`MmBackward0`), or null for a leaf, an output of `op` itself, or
   * at the `'output'` stage (the node is recorded after the kernel).
   */
  producer: string | null;
  /** The module it was saved in (`checkpointSequential`: `3:Linear`), or null. */
  module: string | null;
  shape: readonly number[];
  dtype: DType;
  device: string;
  bytes: number;
}

/** Decides per saved tensor; `undefined` means the default, 'recompute'. */
export type CheckpointPolicy = (info: SavedTensorInfo) => SaveDecision | undefined | void;

const MATMULS = new Set(['matmul', 'mm', 'bmm', 'addmm', 'mv', 'dot', 'linear', 'einsum']);

/**
 * Keeps the outputs of matrix products and recomputes everything else (PyTorch's selective
 * checkpointing example, JAX's `dots_saveable`): the recompute answers each matmul with its kept
 * output instead of running it, so it runs only the elementwise ops, norms and activations in
 * between, and stops as soon as every dropped tensor exists again.
 *
 * @example
 * const block = (h: Tensor) => fc2.call(fc1.call(h).relu());
 * checkpoint(block, x, { policy: saveMatmuls }).sum().backward(); // the recompute runs relu, no addmm
 */
export const saveMatmuls: CheckpointPolicy = (info) => (info.stage === 'output' && MATMULS.has(info.op) ? 'save' : undefined);

/**
 * Keeps the outputs of, and the tensors saved by or made by, the named ops, nodes or modules
 * (`'relu'`, `'MmBackward0'`, `'3:Linear'`, or a module's class name `'Linear'`); recomputes the
 * rest. A kept op output is also what the recompute answers that op with instead of running it.
 *
 * @example
 * checkpoint(block, x, { policy: saveNames(['matmul', 'softmax']) });
 */
export function saveNames(names: readonly string[]): CheckpointPolicy {
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw new NablaError(`saveNames expects an array of op, node or module names (got ${describe(names)})`, { op: 'saveNames' });
  }
  const set = new Set(names);
  return (info) => {
    if (set.has(info.op) || (info.producer !== null && set.has(info.producer))) return 'save';
    if (info.module !== null && (set.has(info.module) || set.has(info.module.slice(info.module.indexOf(':') + 1)))) return 'save';
    return undefined;
  };
}

/**
 * A policy from tables: `ops` by op (the op that makes an output, or that saves a tensor) or by
 * producing node, `modules` by module label or class name, `otherwise` for the rest (default
 * 'recompute'). The same decision applies at both stages (see the file comment).
 *
 * @example
 * checkpoint(fn, x, { policy: policyFrom({ ops: { matmul: 'save' }, modules: { Dropout: 'offload' } }) });
 */
export function policyFrom(table: {
  ops?: Readonly<Record<string, SaveDecision>>;
  modules?: Readonly<Record<string, SaveDecision>>;
  otherwise?: SaveDecision;
}): CheckpointPolicy {
  const all = [...Object.values(table.ops ?? {}), ...Object.values(table.modules ?? {}), ...(table.otherwise ? [table.otherwise] : [])];
  for (const d of all) checkDecision(d, 'policyFrom');
  return (info) => {
    const ops = table.ops ?? {};
    const byOp = Object.hasOwn(ops, info.op) ? ops[info.op] : info.producer !== null && Object.hasOwn(ops, info.producer) ? ops[info.producer] : undefined;
    if (byOp) return byOp;
    if (info.module !== null) {
      const mods = table.modules ?? {};
      const cls = info.module.slice(info.module.indexOf(':') + 1);
      if (Object.hasOwn(mods, info.module)) return mods[info.module];
      if (Object.hasOwn(mods, cls)) return mods[cls];
    }
    return table.otherwise;
  };
}

export function checkDecision(d: unknown, op: string): SaveDecision {
  if (d === 'save' || d === 'recompute' || d === 'offload') return d;
  throw new NablaError(`a checkpoint policy must return 'save', 'recompute', 'offload' or undefined (got ${describe(d)})`, { op });
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `'${x}'`;
  if (typeof x === 'function') return 'a function';
  return typeof x === 'object' ? `an object (${Object.prototype.toString.call(x)})` : `${typeof x} ${String(x)}`;
}
