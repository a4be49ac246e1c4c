/**
 * Global module hooks named by fully qualified module path: nn's `registerModuleForwardHook` and
 * friends with the module's path (`layers.2.fc1`) as the hook's last argument.
 */
import type { MaybeGrad, RemovableHandle } from '@nabla/core';
import * as nn from '@nabla/nn';

const pathOf = (m: nn.Module): string => m.qualifiedName() ?? '';

/**
 * @example
 * const h = registerModuleForwardPreHook((m, args, path) => console.log(path, args.length));
 */
export function registerModuleForwardPreHook(hook: (module: nn.Module, args: unknown[], path: string) => unknown): RemovableHandle {
  return nn.registerModuleForwardPreHook((m, a) => hook(m, a, pathOf(m)));
}

/**
 * `alwaysCall`: also runs when forward throws (with `output` undefined).
 *
 * @example
 * const acts = new Map<string, Tensor>();
 * const h = registerModuleForwardHook((m, args, out, path) => void acts.set(path, out as Tensor));
 */
export function registerModuleForwardHook(hook: (module: nn.Module, args: unknown[], output: unknown, path: string) => unknown, opts: { alwaysCall?: boolean } = {}): RemovableHandle {
  return nn.registerModuleForwardHook((m, a, o) => hook(m, a, o, pathOf(m)), opts);
}

/**
 * @example
 * const h = registerModuleFullBackwardHook((m, gIn, gOut, path) => console.log(path, gOut[0]?.shape));
 */
export function registerModuleFullBackwardHook(hook: (module: nn.Module, gradInput: MaybeGrad[], gradOutput: MaybeGrad[], path: string) => MaybeGrad[] | void | null | undefined): RemovableHandle {
  return nn.registerModuleFullBackwardHook((m, gi, go) => hook(m, gi, go, pathOf(m)));
}

/**
 * @example
 * const h = registerModuleFullBackwardPreHook((m, gOut, path) => console.log(path));
 */
export function registerModuleFullBackwardPreHook(hook: (module: nn.Module, gradOutput: MaybeGrad[], path: string) => MaybeGrad[] | void | null | undefined): RemovableHandle {
  return nn.registerModuleFullBackwardPreHook((m, go) => hook(m, go, pathOf(m)));
}
