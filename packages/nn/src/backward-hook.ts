/**
 * Full backward hooks on modules, as PyTorch's `torch.utils.hooks.BackwardHook`.
 *
 * One `module.call(...)` wraps the tensor inputs and the tensor outputs in an identity custom
 * Function (`BackwardHookFunction`). In backward, the gradients reach the outputs' identity node
 * first: a pre-hook on it records the gradients w.r.t. the outputs (and runs the backward
 * pre-hooks, which may replace them). They then flow through the module's own graph to the inputs'
 * identity node, whose post-hook sees the gradients w.r.t. the inputs and calls the user's hooks
 * with both, letting them replace the input gradients.
 */
import { Function, Tensor, type FunctionCtx, type MaybeGrad, type Node } from '@nabla/core';
import type { FullBackwardHook, FullBackwardPreHook, Module } from './module.js';

/**
 * The identity whose graph node carries the hooks (PyTorch's `BackwardHookFunctionBackward`).
 * `Module.call` applies it; it is exported for tools that wrap tensors the same way.
 *
 * @example
 * const [y] = BackwardHookFunction.apply(x) as Tensor[];
 * y.gradFn!.name(); // 'BackwardHookFunctionBackward'
 */
export class BackwardHookFunction extends Function {
  static override forward(ctx: FunctionCtx, ...args: Tensor[]): Tensor[] {
    ctx.markNonDifferentiable(...args.filter((a) => !a.requiresGrad));
    ctx.setMaterializeGrads(false);
    return args;
  }

  static override backward(_ctx: FunctionCtx, ...grads: MaybeGrad[]): MaybeGrad[] {
    return grads;
  }
}

interface Wrapped {
  values: unknown[];
  node: Node | null;
  /** Positions of the tensors among the values. */
  indices: number[];
}

/** Passes the tensors among `values` through one identity node (when some need a gradient). */
function wrapTensors(values: unknown[]): Wrapped {
  const indices: number[] = [];
  const tensors: Tensor[] = [];
  values.forEach((v, i) => {
    if (v instanceof Tensor) {
      indices.push(i);
      tensors.push(v);
    }
  });
  const first = tensors[0];
  if (!first || !first.rt.isGradEnabled() || !tensors.some((t) => t.requiresGrad)) return { values, node: null, indices };
  const outs = BackwardHookFunction.apply(...tensors) as Tensor[];
  const node = outs.find((t) => t.gradFn !== null)?.gradFn ?? null;
  const replaced = values.slice();
  indices.forEach((pos, k) => (replaced[pos] = outs[k]));
  return { values: replaced, node, indices };
}

function packWithNull(indices: readonly number[], grads: readonly MaybeGrad[], size: number): MaybeGrad[] {
  const out = new Array<MaybeGrad>(size).fill(null);
  indices.forEach((pos, k) => (out[pos] = grads[k] ?? null));
  return out;
}

function unpack(indices: readonly number[], grads: readonly MaybeGrad[]): MaybeGrad[] {
  return indices.map((pos) => grads[pos] ?? null);
}

function checkCount(module: Module, what: string, got: unknown, expected: number): MaybeGrad[] {
  if (!Array.isArray(got) || got.length !== expected) {
    throw module.error(
      `Backward hook returned an invalid number of ${what}, got ${Array.isArray(got) ? got.length : typeof got}, but expected ${expected}`,
    );
  }
  got.forEach((g, i) => {
    if (g !== null && g !== undefined && !(g instanceof Tensor)) {
      throw module.error(`Backward hook returned a non-Tensor ${what} at index ${i} (${typeof g})`);
    }
  });
  return got.map((g) => (g === undefined ? null : g)) as MaybeGrad[];
}

/** The state of one `module.call` with full backward hooks. */
export class BackwardHookState {
  private nInputs = 0;
  /** Positions of the tensor inputs, or null when no input needs a gradient. */
  private inputIndices: number[] | null = null;
  private nOutputs = 0;
  private outputIndices: number[] = [];
  private gradOutputs: MaybeGrad[] | null = null;

  constructor(
    private readonly module: Module,
    private readonly hooks: FullBackwardHook[],
    private readonly preHooks: FullBackwardPreHook[],
  ) {}

  setupInputHook(args: unknown[]): unknown[] {
    this.nInputs = args.length;
    const w = wrapTensors(args);
    if (w.node === null) return args;
    this.inputIndices = w.indices;
    w.node.registerHook((gradInputs) => this.onInputGrads(gradInputs));
    return w.values;
  }

  setupOutputHook(output: unknown): unknown {
    const single = !Array.isArray(output);
    const values = single ? [output] : (output as unknown[]);
    this.nOutputs = values.length;
    const w = wrapTensors(values);
    if (w.node === null) return output;
    this.outputIndices = w.indices;
    w.node.registerPrehook((gradOutputs) => this.onOutputGrads(gradOutputs));
    return single ? w.values[0] : w.values;
  }

  private onOutputGrads(gradOutputs: MaybeGrad[]): MaybeGrad[] | undefined {
    const m = this.module;
    let grads = packWithNull(this.outputIndices, gradOutputs, this.nOutputs);
    let changed = false;
    for (const h of this.preHooks) {
      const r = h(m, grads.slice());
      if (r !== undefined && r !== null) {
        grads = checkCount(m, 'grad_output', r, this.nOutputs);
        changed = true;
      }
    }
    this.gradOutputs = grads;
    if (this.inputIndices === null) {
      // No input needs a gradient: the hooks run now, with null input gradients.
      const gradInputs = new Array<MaybeGrad>(this.nInputs).fill(null);
      for (const h of this.hooks) {
        const r = h(m, gradInputs.slice(), grads.slice());
        if (r && (r as MaybeGrad[]).some((g) => g !== null && g !== undefined)) {
          throw m.error('Backward hook for Modules where no input requires gradient should always return None or None for all gradients.');
        }
      }
      this.gradOutputs = null;
    }
    return changed ? unpack(this.outputIndices, grads) : undefined;
  }

  private onInputGrads(gradInputs: MaybeGrad[]): MaybeGrad[] | undefined {
    const m = this.module;
    const indices = this.inputIndices!;
    if (this.gradOutputs === null && this.hooks.length) {
      throw m.error(
        "Module backward hook for grad_input is called before the grad_output one. This happens because the gradient in your Module " +
          "flows to the Module's input without passing through the Module's output. Make sure that the output depends on the input " +
          'and that the loss is computed based on the output.',
      );
    }
    let grads = packWithNull(indices, gradInputs, this.nInputs);
    let changed = false;
    for (const h of this.hooks) {
      const r = h(m, grads.slice(), this.gradOutputs!.slice());
      if (r !== undefined && r !== null) {
        grads = checkCount(m, 'grad_input', r, this.nInputs);
        changed = true;
      }
    }
    this.gradOutputs = null;
    return changed ? unpack(indices, grads) : undefined;
  }
}
