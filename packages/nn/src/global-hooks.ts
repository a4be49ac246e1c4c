/**
 * Global module hooks, PyTorch's `torch.nn.modules.module.register_module_forward_hook` and
 * friends: hooks that run on every `module.call(...)` of every module, before the module's own.
 * `Module.call` reads this registry; while it is empty a call costs one counter test.
 */
import { NablaError, type RemovableHandle } from '@nabla/core';
import type { ForwardHook, ForwardPreHook, FullBackwardHook, FullBackwardPreHook } from './module.js';

/** @internal What `Module.call` runs besides a module's own hooks. */
export const globalHooks = {
  /** How many global hooks are registered (0: `Module.call` takes its fast path). */
  count: 0,
  forwardPre: [] as ForwardPreHook[],
  forward: [] as ForwardHook[],
  /** The forward hooks that also run when forward throws (`alwaysCall`). */
  alwaysCalled: new Set<ForwardHook>(),
  backward: [] as FullBackwardHook[],
  backwardPre: [] as FullBackwardPreHook[],
};

function add<T>(list: T[], fn: T, op: string, onRemove?: (entry: T) => void): { handle: RemovableHandle; entry: T } {
  if (typeof fn !== 'function') throw new NablaError(`a hook must be a function, got ${typeof fn}`, { op });
  // A wrapper per registration, so registering one function twice gives two handles.
  const entry = ((...a: unknown[]) => (fn as (...a: unknown[]) => unknown)(...a)) as T;
  list.push(entry);
  globalHooks.count++;
  let removed = false;
  const handle = {
    remove(): void {
      if (removed) return;
      removed = true;
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      globalHooks.count--;
      onRemove?.(entry);
    },
  };
  return { handle, entry };
}

/**
 * `hook(module, args)` runs before every module's forward (and before the module's own pre-hooks);
 * it may return replacement arguments.
 *
 * @example
 * const h = nn.registerModuleForwardPreHook((m, args) => console.log(m.qualifiedName(), args.length));
 * model.call(x);
 * h.remove();
 */
export function registerModuleForwardPreHook(hook: ForwardPreHook): RemovableHandle {
  return add(globalHooks.forwardPre, hook, 'registerModuleForwardPreHook').handle;
}

/**
 * `hook(module, args, output)` runs after every module's forward (before the module's own forward
 * hooks); it may return a replacement output. With `alwaysCall`, it also runs when forward throws
 * (with `output` undefined; what it throws then is reported and the original error rethrown).
 *
 * @example
 * const shapes: string[] = [];
 * const h = nn.registerModuleForwardHook((m, _args, out) => void shapes.push(`${m.qualifiedName()}: ${(out as Tensor).shape}`));
 * model.call(x);
 * h.remove();
 */
export function registerModuleForwardHook(hook: ForwardHook, opts: { alwaysCall?: boolean } = {}): RemovableHandle {
  const { handle, entry } = add(globalHooks.forward, hook, 'registerModuleForwardHook', (e) => globalHooks.alwaysCalled.delete(e));
  if (opts.alwaysCall) globalHooks.alwaysCalled.add(entry);
  return handle;
}

/**
 * `hook(module, gradInput, gradOutput)` runs in every module's backward, before the module's own
 * full backward hooks; it may return replacement input gradients.
 *
 * @example
 * const h = nn.registerModuleFullBackwardHook((m, gIn, gOut) => console.log(m.qualifiedName(), gOut[0]?.shape));
 */
export function registerModuleFullBackwardHook(hook: FullBackwardHook): RemovableHandle {
  return add(globalHooks.backward, hook, 'registerModuleFullBackwardHook').handle;
}

/**
 * `hook(module, gradOutput)` runs before every module's backward (before the module's own backward
 * pre-hooks); it may return replacement output gradients.
 *
 * @example
 * const h = nn.registerModuleFullBackwardPreHook((m, gOut) => console.log(m.qualifiedName(), gOut.length));
 */
export function registerModuleFullBackwardPreHook(hook: FullBackwardPreHook): RemovableHandle {
  return add(globalHooks.backwardPre, hook, 'registerModuleFullBackwardPreHook').handle;
}
