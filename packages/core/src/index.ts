/**
 * @nabla/core — PyTorch's autograd for TypeScript, as a microkernel.
 *
 * @example
 * import * as nabla from '@nabla/core';
 * import { cpuBackend } from '@nabla/backend-cpu';
 * await nabla.use(cpuBackend());
 * const x = nabla.tensor([2, 3], { requiresGrad: true });
 * x.pow(2).sum().backward();
 * console.log(x.grad!.tolist()); // [4, 6]
 */
import 'reflect-metadata';
import './ops/methods.js';
import './ops/methods-everyday.js';
import './ops/methods-half.js';
import './ops/indexing-methods.js';
import './autograd/api.js';
import { Runtime } from './api/runtime-api.js';
import type { Plugin } from './runtime/plugin.js';
import type { MemoryInfo } from './runtime/memory.js';
import type { TypedArray } from './dtype.js';
import type { NestedData, TensorDataOptions, TensorOptions } from './tensor/create.js';
import { Tensor as TensorClass, type Tensor } from './tensor/tensor.js';
import type { ShapeLike } from './api/factories.js';
import * as api from './autograd/api.js';
import * as functional from './autograd/functional.js';
import type { PackHook, UnpackHook, SavedTensorsHooks, SavedTensorsHooksOptions } from './autograd/saved-hooks.js';

export { VERSION } from './version.js';
export { NablaError } from './errors.js';
export * from './dtype.js';
export { finfo, type FInfo } from './dtype/finfo.js';
export {
  isHalfDType,
  encodeHalf,
  decodeHalf,
  toHalfBits,
  toBfloat16Bits,
  halfBitsToNumber,
  bfloat16BitsToNumber,
  float32BitsToHalfBits,
  float32BitsToBfloat16Bits,
  halfBitsToFloat32Bits,
  bfloat16BitsToFloat32Bits,
  type HalfDType,
} from './dtype/half.js';
export type * from './backend/types.js';
export { HALF_DTYPES, KERNEL_OUTPUTS, runWidened, wrapKernels, type KernelWrapper, type Widening } from './backend/wrap-kernels.js';
export { collapseDims, checkReduceAxes, checkBmmShapes, checkAddmmViews, checkViewBounds, sizeClass, isContiguous, numelOf, fmtShape, type Geometry } from './backend/kit.js';
export type * from './expr/ir.js';
export * as expr from './expr/build.js';
export { exprToString, isUnary, isBinary, UNARY_FNS, BINARY_FNS } from './expr/ir.js';
export { F32_MATH, hornerSteps, hornerExpr } from './expr/f32-math.js';
export type * from './runtime/plugin.js';
export { dtypesLike, registerKernels, type KernelTable, type KernelTableRegistration } from './runtime/register-kernels.js';
export type { MemoryInfo, DeviceMemory } from './runtime/memory.js';
export { Runtime } from './runtime/runtime.js';
export { EventBus, type NablaEvents, type NablaEventName } from './runtime/events.js';
export { RUNTIME, BACKEND_REGISTRY, KERNEL_REGISTRY, EVENTS, GRAD_MODE, MEMORY, RNG, type Token } from './runtime/tokens.js';
export type { BackendRegistry, KernelRegistry } from './runtime/registries.js';
export type { GradMode } from './runtime/grad-mode.js';
export type { MemoryTracker } from './runtime/memory.js';
export type { Rng, RngState } from './runtime/rng.js';
export { Tensor, type NestedArray } from './tensor/tensor.js';
export type { NestedData, TensorDataOptions, TensorOptions } from './tensor/create.js';
export type { ShapeLike } from './api/factories.js';
export type { Operand } from './ops/dispatch.js';
export type { Dims, ValuesIndices, VarOptions } from './ops/reduce.js';
export { Node, type Edge, type GradHook, type NodeHook, type NodePreHook, type RemovableHandle, type MaybeGrad, type SavedInfo } from './autograd/node.js';
export { OpNode } from './autograd/op-node.js';
export { AccumulateGrad } from './autograd/accumulate-grad.js';
export { Function, FunctionCtx, type FunctionArgs, type FunctionResult } from './autograd/function.js';
export { gradcheck, gradgradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export type { BackwardOptions, AutogradBackwardOptions, GradOptions } from './autograd/api.js';
export type { FunctionalOptions } from './autograd/functional.js';
export type { PackHook, UnpackHook, SavedTensorsHooks, SavedTensorsHooksOptions } from './autograd/saved-hooks.js';
export { withDispatchHook, storageKey, storageVersion, type DispatchHook, type KernelCall } from './ops/dispatch-hooks.js';
/** Automatic mixed precision: `nabla.amp.GradScaler`, `nabla.amp.castInputs` (plugins), the op lists. */
export * as amp from './amp/index.js';
export { autocast, isAutocastEnabled, getAutocastDType, type AutocastOptions, type AutocastDType } from './amp/index.js';
export { defineElementwise, runElementwise, specForElementwise, type ElementwiseOpDef, type ElementwiseGrad } from './ops/elementwise/define.js';
export { runWithDerivative, cachedDerivative, gradFromCache, recordedGradFromCache, pairSpecFor, shareNodes, type DerivativeCacheAttrs } from './ops/elementwise/derivative-cache.js';
export { record, grad as gradFormula, needsGrad } from './ops/dispatch.js';
export * from './ops/functions.js';
export * from './ops/functions-everyday.js';
export * from './ops/indexing-methods.js';
// By name, so they take precedence over the unchecked ones of the line above.
export {
  sum, mean, prod, amax, amin, max, min, logsumexp, std, var, norm, argmax, argmin, clamp, maskedFill, matmul, mm, bmm, dot, outer,
  reshape, view, flatten, squeeze, unsqueeze, transpose, permute, expand, t, narrow, select, indexSelect, gather, scatterAdd,
  softmax, logSoftmax, clone, contiguous, detach, to,
} from './api/tensor-first.js';

let current: Runtime | null = null;

/** The runtime that module-level functions use. */
export function defaultRuntime(): Runtime {
  return (current ??= new Runtime({ label: 'the default runtime' }));
}

/**
 * An isolated runtime with its own plugins, kernels, grad mode, RNG and memory accounting.
 *
 * @example
 * const rt = await nabla.createRuntime({ plugins: [cpuBackend()] });
 * const x = rt.tensor([1, 2, 3], { requiresGrad: true });
 * rt.noGrad(() => x.mul(2)).requiresGrad; // false
 */
export async function createRuntime(opts: { plugins?: readonly Plugin[] } = {}): Promise<Runtime> {
  const rt = new Runtime();
  for (const p of opts.plugins ?? []) await rt.use(p);
  return rt;
}

/**
 * Installs a plugin into the default runtime; resolves when it is ready.
 *
 * @example
 * await nabla.use(cpuBackend());
 * await nabla.use(activations());
 */
export async function use(plugin: Plugin): Promise<Runtime> {
  return defaultRuntime().use(plugin);
}

export const setDefaultDevice = (device: string): void => defaultRuntime().setDefaultDevice(device);
export const getDefaultDevice = (): string => defaultRuntime().defaultDevice;
export const synchronize = (device?: string): Promise<void> => defaultRuntime().synchronize(device);
/**
 * Live tensors and bytes per device, and the peak since `resetPeakMemory()`.
 *
 * @example
 * const before = nabla.memory().numBytes;
 * nabla.zeros([1024, 1024]).dispose();
 * nabla.memory().numBytes === before; // true
 */
export const memory = (): MemoryInfo => defaultRuntime().memory();
export const resetPeakMemory = (): void => defaultRuntime().resetPeakMemory();

/**
 * A tensor from nested arrays, a number (0-d) or a TypedArray (with `shape`). Numbers default to
 * float32, booleans to bool.
 *
 * @example
 * nabla.tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true });
 * nabla.tensor(new Float32Array(6), { shape: [2, 3] });
 */
export const tensor = (data: NestedData | TypedArray, opts?: TensorDataOptions): Tensor => defaultRuntime().tensor(data, opts);
export const zeros = (shape: ShapeLike, opts?: TensorOptions): Tensor => defaultRuntime().zeros(shape, opts);
export const ones = (shape: ShapeLike, opts?: TensorOptions): Tensor => defaultRuntime().ones(shape, opts);
export const full = (shape: ShapeLike, value: number | boolean, opts?: TensorOptions): Tensor => defaultRuntime().full(shape, value, opts);
/** t's runtime; for a non-tensor the default one, whose factory then says what was wrong. */
const likeRuntime = (t: unknown): Runtime => (t instanceof TensorClass ? t.rt : defaultRuntime());
export const zerosLike = (t: Tensor, opts?: TensorOptions): Tensor => likeRuntime(t).zerosLike(t, opts);
export const onesLike = (t: Tensor, opts?: TensorOptions): Tensor => likeRuntime(t).onesLike(t, opts);
export const fullLike = (t: Tensor, value: number, opts?: TensorOptions): Tensor => likeRuntime(t).fullLike(t, value, opts);
/** Uniform [0, 1) numbers shaped like t. @example nabla.randLike(x, { dtype: 'float64' }); */
export const randLike = (t: Tensor, opts?: TensorOptions): Tensor => likeRuntime(t).randLike(t, opts);
/** Standard normal numbers shaped like t. @example nabla.randnLike(w).mul(0.01); */
export const randnLike = (t: Tensor, opts?: TensorOptions): Tensor => likeRuntime(t).randnLike(t, opts);
/** A tensor shaped like t, contents unspecified. @example nabla.emptyLike(x).fill_(3); */
export const emptyLike = (t: Tensor, opts?: TensorOptions): Tensor => likeRuntime(t).emptyLike(t, opts);
export const rand = (shape: ShapeLike, opts?: TensorOptions): Tensor => defaultRuntime().rand(shape, opts);
export const randn = (shape: ShapeLike, opts?: TensorOptions): Tensor => defaultRuntime().randn(shape, opts);
export const arange = (...args: (number | TensorOptions | null | undefined)[]): Tensor => defaultRuntime().arange(...args);
export const linspace = (start: number, end: number, steps: number, opts?: TensorOptions): Tensor =>
  defaultRuntime().linspace(start, end, steps, opts);
export const eye = (n: number, m?: number | TensorOptions | null, opts?: TensorOptions): Tensor => defaultRuntime().eye(n, m, opts);
export const manualSeed = (seed: number): void => defaultRuntime().manualSeed(seed);
export const getRngState = (): number[] => defaultRuntime().getRngState();
export const setRngState = (state: readonly number[]): void => defaultRuntime().setRngState(state);

/**
 * Runs `fn` without recording the graph and returns its result.
 *
 * @example
 * nabla.noGrad(() => w.sub_(w.grad!.mul(0.1))); // an SGD step on a leaf
 */
export const noGrad = <T>(fn: () => T): T => defaultRuntime().noGrad(fn);
export const enableGrad = <T>(fn: () => T): T => defaultRuntime().enableGrad(fn);
/**
 * Runs `fn` with grad mode set to `flag`; without `fn`, sets the mode for the code that follows
 * (PyTorch's `torch.set_grad_enabled(False)` statement).
 *
 * @example
 * nabla.setGradEnabled(false, () => x.mul(2)).requiresGrad; // false
 * nabla.setGradEnabled(false);                               // from here on, no graph
 * nabla.isGradEnabled();                                     // false
 */
export function setGradEnabled<T>(flag: boolean, fn: () => T): T;
export function setGradEnabled(flag: boolean): void;
export function setGradEnabled<T>(flag: boolean, fn?: () => T): T | void {
  const rt = defaultRuntime();
  return fn === undefined ? rt.setGradEnabled(flag) : rt.setGradEnabled(flag, fn);
}
export const inferenceMode = <T>(fn: () => T): T => defaultRuntime().inferenceMode(fn);
export const isGradEnabled = (): boolean => defaultRuntime().isGradEnabled();
export const isInferenceModeEnabled = (): boolean => defaultRuntime().isInferenceModeEnabled();

/**
 * Runs the synchronous `fn` and disposes every tensor made meanwhile, except those in its result
 * (a tensor, or arrays / plain objects / Maps / Sets of them, which pass to an enclosing `tidy`) and
 * those passed to `keep()`. Tensors a graph saved for backward keep their storage until the graph
 * lets go, so backward may run after the tidy that made them. Leaf gradients (`.grad`) made by
 * `backward()` are never its to free.
 *
 * @example
 * for (let step = 0; step < 1000; step++) {
 *   const loss = nabla.tidy(() => {
 *     const l = x.matmul(w).sub(y).square().mean();
 *     l.backward();
 *     nabla.noGrad(() => w.sub_(w.grad!.mul(0.1)));
 *     return l.item();        // a number: nothing made in the step survives it
 *   });
 *   w.grad = null;
 * }
 */
export const tidy = <T>(fn: () => T): T => defaultRuntime().tidy(fn);

/**
 * Marks `t` so that no enclosing `tidy` disposes it; it is then the caller's to dispose.
 *
 * @example
 * let kept: nabla.Tensor | null = null;
 * nabla.tidy(() => { kept = nabla.keep(x.mul(2)); x.add(1); }); // x.add(1) is freed, kept is not
 */
export const keep = <T extends Tensor>(t: T): T => defaultRuntime().keep(t);

/**
 * Runs `fn` so that the tensors it makes belong to no enclosing `tidy` (state that outlives a step:
 * parameters, optimizer moments, caches).
 *
 * @example
 * nabla.tidy(() => { state ??= nabla.outsideTidy(() => nabla.zerosLike(w)); });
 */
export const outsideTidy = <T>(fn: () => T): T => defaultRuntime().outsideTidy(fn);

/** PyTorch's torch.autograd. */
export const autograd = {
  grad: api.grad,
  backward: api.backward,
  functional,
  detectAnomaly: <T>(fn: () => T): T => defaultRuntime().detectAnomaly(fn),
  setDetectAnomaly: (flag: boolean): void => defaultRuntime().setDetectAnomaly(flag),
  /** PyTorch's torch.autograd.graph: saved-tensor hooks (see autograd/saved-hooks.ts). */
  graph: {
    /**
     * Runs `fn` so that every tensor saved for backward goes through `pack`, and comes back through
     * `unpack` when backward needs it (PyTorch's `saved_tensors_hooks`).
     *
     * @example
     * const y = nabla.autograd.graph.savedTensorsHooks((t) => t.to('cpu'), (h) => h.to('cpu'), () => x.mul(x).sum());
     * y.backward(); // x.grad = 2x, from the unpacked copies
     */
    savedTensorsHooks: <H, T>(pack: PackHook<H>, unpack: UnpackHook<H>, fn: () => T, opts?: SavedTensorsHooksOptions<H>): T =>
      defaultRuntime().savedTensorsHooks(pack, unpack, fn, opts),
    /** The pair a tensor saved now would go through, or null. */
    currentSavedTensorsHooks: (): SavedTensorsHooks | null => defaultRuntime().currentSavedTensorsHooks(),
    /** Runs `fn` with enclosing saved-tensor hooks switched off (tensors are saved as usual). */
    withoutSavedTensorsHooks: <T>(fn: () => T): T => defaultRuntime().withoutSavedTensorsHooks(fn),
  },
};
