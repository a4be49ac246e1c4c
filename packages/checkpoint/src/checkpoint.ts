/** `checkpoint(fn, ...args, options?)`: run `fn` now, keep almost nothing, recompute in backward. */
import { NablaError, defaultRuntime, type Runtime } from '@nabla/core';
import { Frame, OPTION_KEYS, isTensor, type CheckpointOptions } from './frame.js';
import { describe } from './policy.js';

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Splits `...args, options?`: a plain object in last place is the options (checked strictly). */
export function splitArgs(op: string, rest: readonly unknown[]): { args: unknown[]; options: CheckpointOptions } {
  const last = rest[rest.length - 1];
  if (!isPlainObject(last)) return { args: rest.slice(), options: {} };
  const unknown = Object.keys(last).filter((k) => !(OPTION_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new NablaError(
      `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}: a plain object in last place is read as the options ` +
        `(${OPTION_KEYS.join(', ')}); pass data for the function inside an array or a class instance, or close over it`,
      { op },
    );
  }
  const o = last as CheckpointOptions;
  if (o.preserveRngState !== undefined && typeof o.preserveRngState !== 'boolean') {
    throw new NablaError(`preserveRngState must be a boolean (got ${describe(o.preserveRngState)})`, { op });
  }
  if (o.policy !== undefined && o.policy !== null && typeof o.policy !== 'function') {
    throw new NablaError(`policy must be a function (info) => 'save' | 'recompute' | 'offload', such as saveMatmuls (got ${describe(o.policy)})`, { op });
  }
  if (o.name !== undefined && typeof o.name !== 'string') throw new NablaError(`name must be a string (got ${describe(o.name)})`, { op });
  return { args: rest.slice(0, -1), options: o };
}

export function checkFn(op: string, fn: unknown, usage: string): void {
  if (typeof fn !== 'function') {
    throw new NablaError(`${op} expects a function to run as its first argument, got ${describe(fn)}; call ${usage}`, { op });
  }
}

export function runtimeOf(args: readonly unknown[], options: CheckpointOptions): Runtime {
  const t = args.find(isTensor);
  if (t) return t.rt;
  return options.runtime ?? defaultRuntime();
}

/**
 * Runs `fn(...args)` and returns what it returns, but the graph keeps none of the tensors `fn`
 * saves for backward: the first backward that needs one reruns `fn` (with the same RNG state, so
 * dropout draws the same mask) and stops as soon as every needed tensor exists again. PyTorch's
 * non-reentrant `torch.utils.checkpoint`: it works with `autograd.grad`, `inputs`, `createGraph`,
 * nested checkpoints, parameters as the only tensors that require grad, several outputs and
 * non-tensor arguments. The options go in a plain object in last place.
 *
 * Like `tidy`, the call frees the tensors `fn` makes and does not return.
 *
 * @example
 * const block = (h: nabla.Tensor) => fc2.call(fc1.call(h).relu());
 * const y = checkpoint(block, x);            // keeps x, not the hidden activations
 * y.sum().backward();                         // reruns block once, then computes the gradients
 * checkpoint(block, x, { policy: saveMatmuls, preserveRngState: false });
 */
export function checkpoint<A extends unknown[], R>(fn: (...args: A) => R, ...args: [...A] | [...A, CheckpointOptions]): R {
  checkFn('checkpoint', fn, 'checkpoint(fn, ...args, options?)');
  const { args: fnArgs, options } = splitArgs('checkpoint', args);
  const rt = runtimeOf(fnArgs, options);
  // Nothing is recorded, so nothing would be saved: no frame needed.
  if (!rt.isGradEnabled()) return fn(...(fnArgs as A));
  return new Frame(rt, fn as (...a: never[]) => unknown, fnArgs, options).run() as R;
}
