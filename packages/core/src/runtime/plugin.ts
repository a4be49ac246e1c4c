/**
 * The plugin contract. A plugin is a plain object; `install` receives a context through which it
 * registers what it brings (backends, kernels, ops) and listens to lifecycle events.
 */
import type { Backend, ElementwiseKernel, KernelName, StructuredKernel } from '../backend/types.js';
import type { DType } from '../dtype.js';
import type { EventBus } from './events.js';
import type { Runtime } from './runtime.js';
import type { Token } from './tokens.js';

export interface Plugin {
  readonly name: string;
  readonly version: string;
  /** Core versions this plugin works with, as a semver range (`^0.1.0`). Checked at install. */
  readonly coreRange?: string;
  install(ctx: PluginContext): void | Promise<void>;
  /** Undoes what `install` did beyond registrations (which the runtime removes itself). */
  uninstall?(ctx: PluginContext): void | Promise<void>;
}

export interface KernelRegistration<K extends KernelName = KernelName> {
  readonly name: K;
  readonly device: string;
  readonly dtypes: readonly DType[];
  readonly kernel: StructuredKernel<K>;
  /** Replace a kernel another plugin registered for the same (name, device, dtype). */
  readonly override?: boolean;
}

/**
 * A hand-written kernel for an elementwise op, used instead of compiling its expression. Like a
 * compiled one it reads its `inputs` array only while it runs (core lends it for the call: see
 * `ElementwiseKernel`).
 */
export interface ElementwiseKernelRegistration {
  readonly op: string;
  readonly device: string;
  readonly dtypes: readonly DType[];
  readonly kernel: ElementwiseKernel;
  readonly override?: boolean;
}

export interface PluginContextBase {
  registerBackend(backend: Backend): void;
  registerKernel<K extends KernelName>(reg: KernelRegistration<K>): void;
  registerElementwiseKernel(reg: ElementwiseKernelRegistration): void;
}

/** A declaration with a name: what `defineOp` registers (see `ops/elementwise/define.ts`). */
export interface NamedOp {
  readonly name: string;
}

/** What `install(ctx)` receives. */
export interface PluginContext extends PluginContextBase {
  readonly runtime: Runtime;
  readonly events: EventBus;
  /**
   * The installing runtime's service for a DI token: `RUNTIME`, `BACKEND_REGISTRY`,
   * `KERNEL_REGISTRY`, `EVENTS`, `GRAD_MODE`, `MEMORY`, `RNG` (exported by core, each with its
   * type). The documented way to reach a runtime's services; the container behind them is not.
   *
   * @example
   * install(ctx) {
   *   if (!ctx.resolve(BACKEND_REGISTRY).get('cpu')) throw new Error('install a CPU backend first');
   * }
   */
  resolve<T>(token: Token<T>): T;
  /** Declares an op (elementwise ops get kernels on every backend, present and future). */
  defineOp(def: NamedOp): void;
}
