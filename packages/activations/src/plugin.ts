/**
 * The `activations()` plugin: declares every activation's ops in the runtime. Their kernels come
 * from each backend's elementwise compiler — for backends installed before *and* after this plugin
 * — so the plugin imports no backend. Kernels are compiled at install (and when a backend is
 * registered later), so a backend that cannot compile an expression fails loudly then, not in
 * the middle of a training step.
 */
import { NablaError, specForElementwise, type Backend, type DType, type Plugin, type PluginContext, type Runtime } from '@nabla/core';
import { ALL } from './table.js';

export const VERSION = '0.1.0';

const FLOAT: readonly DType[] = ['float32', 'float64'];

function precompile(rt: Runtime, backend: Backend): void {
  for (const dtype of FLOAT) {
    if (!backend.dtypes.includes(dtype)) continue;
    for (const a of ALL) {
      for (const def of [a.forward, a.backward, a.derivative, ...(a.second ? [a.second] : [])]) {
        const spec = specForElementwise(def, dtype);
        try {
          rt.kernels.elementwise(backend, spec, dtype);
        } catch (e) {
          throw new NablaError(
            `device '${backend.device}' cannot run activation '${def.name}' (${dtype}): ${(e as Error).message}`,
            { op: '@nabla/activations install', cause: e },
          );
        }
      }
    }
  }
}

export interface ActivationsOptions {
  /**
   * Where f'(x) is costly (silu, mish, gelu, elu, softplus, ...), a forward that records a node
   * computes it with f(x) in one pass and keeps it for the backward (README, *f′(x) kept by the
   * forward*). Default true. false: the backward recomputes it from x, as PyTorch does: no extra
   * tensor while a graph lives and a cheaper forward in grad mode (a double backward, which never
   * uses the kept f'(x), pays for it too), a costlier first backward.
   */
  keepDerivative?: boolean;
}

/** Runtimes whose plugin was installed with `keepDerivative: false`. */
const recomputing = new WeakSet<Runtime>();

/** Whether the activations keep f'(x) in `rt` (see `ActivationsOptions.keepDerivative`). */
export function keepsDerivative(rt: Runtime): boolean {
  return !recomputing.has(rt);
}

/**
 * The plugin: every activation's ops, in the runtime it is installed in.
 *
 * @example
 * import * as nabla from '@nabla/core';
 * import * as act from '@nabla/activations';
 * await nabla.use(act.activations({ keepDerivative: false }));
 */
export function activations(opts: ActivationsOptions = {}): Plugin {
  // A string such as 'no' would read as "not false" and keep the derivative without a word.
  if (opts?.keepDerivative !== undefined && typeof opts.keepDerivative !== 'boolean') {
    throw new NablaError(`keepDerivative must be true or false, got ${typeof opts.keepDerivative} ${String(opts.keepDerivative)}`, { op: '@nabla/activations' });
  }
  let onBackend: ((p: { device: string }) => void) | null = null;
  return {
    name: '@nabla/activations',
    version: VERSION,
    coreRange: '^0.1.0',
    install(ctx: PluginContext) {
      for (const a of ALL) {
        ctx.defineOp(a.forward);
        ctx.defineOp(a.backward);
        ctx.defineOp(a.derivative);
        if (a.second) ctx.defineOp(a.second);
      }
      const rt = ctx.runtime;
      if (opts?.keepDerivative === false) recomputing.add(rt);
      else recomputing.delete(rt);
      for (const b of rt.backends.all()) precompile(rt, b);
      onBackend = ({ device }) => precompile(rt, rt.backend(device));
      ctx.events.on('backend:register', onBackend);
    },
    uninstall(ctx: PluginContext) {
      recomputing.delete(ctx.runtime);
      if (onBackend) ctx.events.off('backend:register', onBackend);
    },
  };
}
