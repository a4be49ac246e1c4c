/**
 * Selective checkpointing (JAX's `checkpoint_policies`, PyTorch's selective activation
 * checkpointing): per tensor a checkpoint would save, a policy says whether the graph keeps it
 * ('save'), drops it to recompute it in backward ('recompute', the default) or keeps a host copy
 * until backward ('offload'). It sees the op that saves the tensor, the node that made it, the
 * module it was made in (inside `checkpointSequential`), and its size.
 */
import { NablaError, type DType } from '@nabla/core';

export type SaveDecision = 'save' | 'recompute' | 'offload';

/** What a policy (and `savedReport`) sees of one tensor a segment saves for backward. */
export interface SavedTensorInfo {
  /** The op that saves it (the last op dispatched when it was saved: `matmul`, `relu`, ...). */
  op: string;
  /** The graph node that made it (`MmBackward0`), or null for a leaf or an output of `op` itself. */
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

const MATMULS = new Set(['matmul', 'mm', 'bmm', 'addmm', 'mv', 'dot', 'linear']);
const MATMUL_NODES = /^(Mm|Bmm|Addmm|Mv|Dot|Matmul|Linear)Backward/;

/**
 * Keeps what matrix products need for their gradients (their operands) and what they made; the
 * rest (elementwise ops, norms, activations) is recomputed. The rerun stops as soon as every
 * recomputed tensor exists again, so what comes after the last one is not rerun.
 *
 * @example
 * checkpoint(block, x, { policy: saveMatmuls });
 */
export const saveMatmuls: CheckpointPolicy = (info) =>
  MATMULS.has(info.op) || (info.producer !== null && MATMUL_NODES.test(info.producer)) ? 'save' : undefined;

/**
 * Keeps the tensors saved by, or made by, the named ops, nodes or modules (`'relu'`,
 * `'MmBackward0'`, `'3:Linear'`, or a module's class name `'Linear'`); recomputes the rest.
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
 * A policy from tables: `ops` by the saving op or the producing node, `modules` by module label or
 * class name, `otherwise` for the rest (default 'recompute').
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
