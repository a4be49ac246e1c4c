/**
 * The user-facing methods of a runtime (factories, grad modes, RNG), so an isolated runtime is
 * used exactly like the module: `rt.tensor(...)`, `rt.noGrad(() => ...)`.
 */
import type { TypedArray } from '../dtype.js';
import * as GM from '../autograd/grad-mode.js';
import { Runtime } from '../runtime/runtime.js';
import type { NestedData, TensorDataOptions, TensorOptions } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from './factories.js';
import * as FL from './factories-like.js';
import * as L from '../tensor/tidy.js';
import * as SH from '../autograd/saved-hooks.js';
import type { ShapeLike } from './factories.js';
import { checkRngState, checkSeed } from '../validate/rng.js';

declare module '../runtime/runtime.js' {
  interface Runtime {
    tensor(data: NestedData | TypedArray, opts?: TensorDataOptions): Tensor;
    zeros(shape: ShapeLike, opts?: TensorOptions): Tensor;
    ones(shape: ShapeLike, opts?: TensorOptions): Tensor;
    full(shape: ShapeLike, value: number | boolean, opts?: TensorOptions): Tensor;
    zerosLike(t: Tensor, opts?: TensorOptions): Tensor;
    onesLike(t: Tensor, opts?: TensorOptions): Tensor;
    fullLike(t: Tensor, value: number, opts?: TensorOptions): Tensor;
    randLike(t: Tensor, opts?: TensorOptions): Tensor;
    randnLike(t: Tensor, opts?: TensorOptions): Tensor;
    emptyLike(t: Tensor, opts?: TensorOptions): Tensor;
    rand(shape: ShapeLike, opts?: TensorOptions): Tensor;
    randn(shape: ShapeLike, opts?: TensorOptions): Tensor;
    arange(...args: (number | TensorOptions | null | undefined)[]): Tensor;
    linspace(start: number, end: number, steps: number, opts?: TensorOptions): Tensor;
    eye(n: number, m?: number | TensorOptions | null, opts?: TensorOptions): Tensor;
    manualSeed(seed: number): void;
    getRngState(): number[];
    setRngState(state: readonly number[]): void;
    noGrad<T>(fn: () => T): T;
    enableGrad<T>(fn: () => T): T;
    setGradEnabled<T>(flag: boolean, fn: () => T): T;
    /** Sets grad mode for the code that follows (`torch.set_grad_enabled(False)` as a statement). */
    setGradEnabled(flag: boolean): void;
    inferenceMode<T>(fn: () => T): T;
    isGradEnabled(): boolean;
    isInferenceModeEnabled(): boolean;
    detectAnomaly<T>(fn: () => T): T;
    setDetectAnomaly(flag: boolean): void;
    tidy<T>(fn: () => T): T;
    keep<T extends Tensor>(t: T): T;
    outsideTidy<T>(fn: () => T): T;
    /** `nabla.autograd.graph.savedTensorsHooks` for this runtime's tensors. */
    savedTensorsHooks<H, T>(pack: SH.PackHook<H>, unpack: SH.UnpackHook<H>, fn: () => T, opts?: SH.SavedTensorsHooksOptions<H>): T;
    /** `nabla.autograd.graph.currentSavedTensorsHooks` for this runtime. */
    currentSavedTensorsHooks(): SH.SavedTensorsHooks | null;
    /** `nabla.autograd.graph.withoutSavedTensorsHooks` for this runtime. */
    withoutSavedTensorsHooks<T>(fn: () => T): T;
  }
}

Object.assign(Runtime.prototype, {
  tensor(this: Runtime, data: NestedData | TypedArray, opts?: TensorDataOptions) {
    return F.tensor(this, data, opts);
  },
  zeros(this: Runtime, shape: ShapeLike, opts?: TensorOptions) {
    return F.zeros(this, shape, opts);
  },
  ones(this: Runtime, shape: ShapeLike, opts?: TensorOptions) {
    return F.ones(this, shape, opts);
  },
  full(this: Runtime, shape: ShapeLike, value: number | boolean, opts?: TensorOptions) {
    return F.full(this, shape, value, opts);
  },
  zerosLike(this: Runtime, t: Tensor, opts?: TensorOptions) {
    return F.zerosLike(this, t, opts);
  },
  onesLike(this: Runtime, t: Tensor, opts?: TensorOptions) {
    return F.onesLike(this, t, opts);
  },
  fullLike(this: Runtime, t: Tensor, value: number, opts?: TensorOptions) {
    return F.fullLike(this, t, value, opts);
  },
  randLike(this: Runtime, t: Tensor, opts?: TensorOptions) {
    return FL.randLike(this, t, opts);
  },
  randnLike(this: Runtime, t: Tensor, opts?: TensorOptions) {
    return FL.randnLike(this, t, opts);
  },
  emptyLike(this: Runtime, t: Tensor, opts?: TensorOptions) {
    return FL.emptyLike(this, t, opts);
  },
  rand(this: Runtime, shape: ShapeLike, opts?: TensorOptions) {
    return F.rand(this, shape, opts);
  },
  randn(this: Runtime, shape: ShapeLike, opts?: TensorOptions) {
    return F.randn(this, shape, opts);
  },
  arange(this: Runtime, ...args: (number | TensorOptions | null | undefined)[]) {
    return F.arange(this, ...args);
  },
  linspace(this: Runtime, start: number, end: number, steps: number, opts?: TensorOptions) {
    return F.linspace(this, start, end, steps, opts);
  },
  eye(this: Runtime, n: number, m?: number | TensorOptions | null, opts?: TensorOptions) {
    return F.eye(this, n, m, opts);
  },
  manualSeed(this: Runtime, seed: number) {
    this.rng.seed(checkSeed('manualSeed', seed));
  },
  getRngState(this: Runtime) {
    return this.rng.getState();
  },
  setRngState(this: Runtime, state: readonly number[]) {
    this.rng.setState(checkRngState('setRngState', state));
  },
  noGrad<T>(this: Runtime, fn: () => T) {
    return GM.noGrad(this, fn);
  },
  enableGrad<T>(this: Runtime, fn: () => T) {
    return GM.enableGrad(this, fn);
  },
  setGradEnabled<T>(this: Runtime, flag: boolean, fn?: () => T) {
    return GM.setGradEnabled(this, flag, fn);
  },
  inferenceMode<T>(this: Runtime, fn: () => T) {
    return GM.inferenceMode(this, fn);
  },
  isGradEnabled(this: Runtime) {
    return this.gradMode.enabled;
  },
  isInferenceModeEnabled(this: Runtime) {
    return this.gradMode.inference;
  },
  detectAnomaly<T>(this: Runtime, fn: () => T) {
    return GM.detectAnomaly(this, fn);
  },
  setDetectAnomaly(this: Runtime, flag: boolean) {
    this.gradMode.anomaly = !!flag;
  },
  tidy<T>(this: Runtime, fn: () => T) {
    return L.tidy(this, fn);
  },
  keep<T extends Tensor>(this: Runtime, t: T) {
    return L.keep(t);
  },
  outsideTidy<T>(this: Runtime, fn: () => T) {
    return L.outsideTidy(this, fn);
  },
  savedTensorsHooks<H, T>(this: Runtime, pack: SH.PackHook<H>, unpack: SH.UnpackHook<H>, fn: () => T, opts?: SH.SavedTensorsHooksOptions<H>) {
    return SH.savedTensorsHooks(this, pack, unpack, fn, opts);
  },
  currentSavedTensorsHooks(this: Runtime) {
    return SH.currentSavedTensorsHooks(this);
  },
  withoutSavedTensorsHooks<T>(this: Runtime, fn: () => T) {
    return SH.withoutSavedTensorsHooks(this, fn);
  },
});

export { Runtime };
