/**
 * `GradScaler`: PyTorch 1.13's `torch.cuda.amp.GradScaler` algorithm, on every device.
 *
 * The scale and growth tracker are kept on the host in float32 arithmetic (Math.fround), exactly
 * as PyTorch's `_amp_update_scale_` kernel computes them, because `step` must read whether the
 * gradients were finite anyway to decide whether to step: that is the one read per step. The
 * check itself runs on the device: one reduction per gradient folded into a single 0-d value
 * (NaN when any gradient holds an inf or NaN), read once.
 */
import { NablaError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** What the scaler needs of an optimizer: its parameter groups and `step()`. */
export interface ScalableOptimizer<R = unknown> {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  step(): R;
}

export interface GradScalerOptions {
  /** The first scale factor (default 65536 = 2¹⁶). */
  initScale?: number;
  /** Multiplies the scale after `growthInterval` steps without inf/NaN (default 2, must be > 1). */
  growthFactor?: number;
  /** Multiplies the scale after a step with inf/NaN gradients (default 0.5, must be < 1). */
  backoffFactor?: number;
  /** Consecutive finite steps before the scale grows (default 2000). */
  growthInterval?: number;
  /** `false`: every method passes through (scale returns the loss, step just steps). Default true. */
  enabled?: boolean;
}

/** `stateDict()`: PyTorch's keys, camelCased (`loadStateDict` also takes `_growth_tracker`). */
export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  growthTracker: number;
}

type Stage = 'ready' | 'unscaled' | 'stepped';

interface OptimizerState {
  stage: Stage;
  /** 0-d on the gradients' device: NaN when some gradient was not finite, else 0. */
  found: Tensor | null;
  /** The value read from `found` (null until read). */
  foundValue: number | null;
}

const OP = 'GradScaler';

function checkNumber(name: string, v: unknown, ok: (n: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !ok(v)) throw new NablaError(`${name} ${what}, got ${String(v)}`, { op: OP });
  return v;
}

/**
 * Scales the loss so that float16 gradients do not underflow, unscales them before the optimizer
 * sees them, skips steps whose gradients overflowed, and adapts the scale: halved after an
 * overflow, doubled after `growthInterval` clean steps (PyTorch's algorithm and defaults).
 *
 * @example
 * const scaler = new nabla.amp.GradScaler();
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   const loss = nabla.autocast('cpu', () => nn.crossEntropy(model.forward(x), y));
 *   scaler.scale(loss).backward();
 *   scaler.unscale_(opt);                       // optional: before clipping
 *   nn.utils.clipGradNorm_(model.parameters(), 1.0);
 *   scaler.step(opt);                           // skipped when a gradient is inf/NaN
 *   scaler.update();                            // halves or grows the scale
 * }
 */
export class GradScaler {
  private scaleValue: number;
  private growthFactor: number;
  private backoffFactor: number;
  private growthInterval: number;
  private growthTracker = 0;
  private readonly enabled: boolean;
  /** Whether `scale()` ran since construction (PyTorch's `_scale is None` check). */
  private started = false;
  private scaleTensor: Tensor | null = null;
  private readonly perOptimizer = new Map<ScalableOptimizer, OptimizerState>();

  constructor(opts: GradScalerOptions = {}) {
    if (opts === null || typeof opts !== 'object') throw new NablaError(`expected an options object, got ${typeof opts}`, { op: OP });
    this.enabled = opts.enabled ?? true;
    if (typeof this.enabled !== 'boolean') throw new NablaError(`enabled must be a boolean, got ${typeof this.enabled}`, { op: OP });
    this.scaleValue = Math.fround(checkNumber('initScale', opts.initScale ?? 65536, (n) => n > 0 && Number.isFinite(n), 'must be a positive finite number'));
    this.growthFactor = checkNumber('growthFactor', opts.growthFactor ?? 2, (n) => n > 1, 'should be > 1');
    this.backoffFactor = checkNumber('backoffFactor', opts.backoffFactor ?? 0.5, (n) => n < 1 && n > 0, 'should be < 1 (and > 0)');
    this.growthInterval = checkNumber('growthInterval', opts.growthInterval ?? 2000, (n) => Number.isInteger(n) && n > 0, 'must be a positive integer');
  }

  /** Whether this scaler does anything. @example new nabla.amp.GradScaler({ enabled: false }).isEnabled(); // false */
  isEnabled(): boolean {
    return this.enabled;
  }

  /**
   * The loss (or each of several outputs) multiplied by the current scale, on the loss's device;
   * call `backward()` on it. The product is float32 for a 16-bit loss, as PyTorch's.
   *
   * @example
   * scaler.scale(loss).backward();
   */
  scale(outputs: Tensor): Tensor;
  scale(outputs: readonly Tensor[]): Tensor[];
  scale(outputs: Tensor | readonly Tensor[]): Tensor | Tensor[] {
    if (!this.enabled) return outputs instanceof Tensor ? outputs : outputs.slice();
    const one = (t: Tensor, i?: number): Tensor => {
      if (!(t instanceof Tensor)) throw new NablaError(`scale expects a Tensor${i === undefined ? '' : ` at index ${i}`}, got ${t === null ? 'null' : typeof t}`, { op: `${OP}.scale` });
      t._alive(`${OP}.scale`);
      this.started = true;
      return t.mul(this.scaleOn(t));
    };
    if (outputs instanceof Tensor) return one(outputs);
    if (!Array.isArray(outputs)) throw new NablaError(`scale expects a Tensor or an array of Tensors, got ${typeof outputs}`, { op: `${OP}.scale` });
    return outputs.map((t, i) => one(t, i));
  }

  /** The 0-d scale tensor on `t`'s device, remade when the scale changed (never written in place: a graph may have saved it). */
  private scaleOn(t: Tensor): Tensor {
    const s = this.scaleTensor;
    if (s !== null && !s._disposed && s.rt === t.rt && s.device === t.device && s.dtype === 'float32' && this.scaleTensorValue === this.scaleValue) return s;
    if (s !== null && !s._disposed) s.dispose();
    const rt = t.rt;
    this.scaleTensor = rt.outsideTidy(() => rt.keep(rt.full([], this.scaleValue, { dtype: 'float32', device: t.device })));
    this.scaleTensorValue = this.scaleValue;
    return this.scaleTensor;
  }
  private scaleTensorValue = NaN;

  private stateOf(optimizer: ScalableOptimizer): OptimizerState {
    let s = this.perOptimizer.get(optimizer);
    if (s === undefined) {
      s = { stage: 'ready', found: null, foundValue: null };
      this.perOptimizer.set(optimizer, s);
    }
    return s;
  }

  /**
   * Divides the optimizer's gradients by the scale, in place, and checks on the device whether any
   * is inf or NaN (no read yet). Call it before clipping or inspecting gradients; `step` calls it
   * if you did not. At most once per optimizer between `update()`s.
   *
   * @example
   * scaler.scale(loss).backward();
   * scaler.unscale_(opt);
   * nn.utils.clipGradNorm_(model.parameters(), 1.0);
   */
  unscale_(optimizer: ScalableOptimizer): void {
    if (!this.enabled) return;
    const op = `${OP}.unscale_`;
    checkOptimizer(optimizer, op);
    const st = this.stateOf(optimizer);
    if (st.stage === 'unscaled') throw new NablaError('unscale_() has already been called on this optimizer since the last update().', { op });
    if (st.stage === 'stepped') throw new NablaError('unscale_() is being called after step().', { op });
    if (!this.started) {
      throw new NablaError(
        'Attempted unscale_ but the scale was never used. This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration.',
        { op },
      );
    }
    const grads: Tensor[] = [];
    for (const group of optimizer.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g === null) continue;
        if (g.dtype === ('float16' as string)) throw new NablaError('Attempting to unscale FP16 gradients.', { op });
        grads.push(g);
      }
    }
    // As PyTorch: the reciprocal in double precision, then rounded to float32.
    const inv = Math.fround(1 / this.scaleValue);
    const first = grads[0];
    if (first === undefined) {
      st.found = null;
      st.foundValue = 0;
      st.stage = 'unscaled';
      return;
    }
    for (const g of grads) {
      if (g.device !== first.device || g.rt !== first.rt) {
        throw new NablaError(`gradients on several devices (${first.device} and ${g.device}); unscale_ checks one device per optimizer`, { op });
      }
    }
    const rt = first.rt;
    st.found = rt.noGrad(() =>
      rt.outsideTidy(() =>
        rt.tidy(() => {
          // 0·g is 0 for every finite value and NaN for inf/NaN: the sum of those is NaN exactly
          // when some gradient is not finite, whatever their magnitudes (a plain sum could overflow).
          let acc: Tensor | null = null;
          for (const g of grads) {
            const s = g.mul(0).sum();
            acc = acc === null ? s : acc.add(s);
            g.mul_(inv);
          }
          return rt.keep(acc!);
        }),
      ),
    );
    st.foundValue = null;
    st.stage = 'unscaled';
  }

  /**
   * `optimizer.step()` unless the (unscaled) gradients hold an inf or NaN, in which case the
   * step is skipped. Unscales first if `unscale_` was not called. Reads one value from the device:
   * synchronous devices only (CPU); on WebGPU use `stepAsync`. Returns what `optimizer.step()`
   * returned, or undefined when skipped.
   *
   * @example
   * scaler.step(opt);
   * scaler.update();
   */
  step<R>(optimizer: ScalableOptimizer<R>): R | undefined {
    if (!this.enabled) return optimizer.step();
    const st = this.prepareStep(optimizer, `${OP}.step`);
    if (st.foundValue === null) {
      const f = st.found!;
      if (!f._ref.backend.readsSync) {
        throw new NablaError(`device '${f.device}' reads back asynchronously: use 'await scaler.stepAsync(optimizer)'`, { op: `${OP}.step` });
      }
      st.foundValue = f.item();
    }
    return this.finishStep(optimizer, st);
  }

  /**
   * `step` for devices that read back asynchronously (WebGPU); works on every device.
   *
   * @example
   * await scaler.stepAsync(opt);
   * scaler.update();
   */
  async stepAsync<R>(optimizer: ScalableOptimizer<R>): Promise<R | undefined> {
    if (!this.enabled) return optimizer.step();
    const st = this.prepareStep(optimizer, `${OP}.stepAsync`);
    if (st.foundValue === null) st.foundValue = await st.found!.itemAsync();
    return this.finishStep(optimizer, st);
  }

  private prepareStep(optimizer: ScalableOptimizer, op: string): OptimizerState {
    checkOptimizer(optimizer, op);
    const st = this.stateOf(optimizer);
    if (st.stage === 'stepped') throw new NablaError('step() has already been called since the last update().', { op });
    if (st.stage === 'ready') this.unscale_(optimizer);
    return st;
  }

  private finishStep<R>(optimizer: ScalableOptimizer<R>, st: OptimizerState): R | undefined {
    if (st.found !== null) {
      st.found.dispose();
      st.found = null;
    }
    st.stage = 'stepped';
    // NaN (from a non-finite gradient) and any non-zero value mean: skip.
    return st.foundValue === 0 ? optimizer.step() : undefined;
  }

  /**
   * Adapts the scale for the next iteration: times `backoffFactor` if any stepped optimizer saw
   * inf/NaN gradients (and the growth count restarts), times `growthFactor` after
   * `growthInterval` clean steps in a row. With `newScale`, sets the scale instead. No device read.
   *
   * @example
   * scaler.step(opt);
   * scaler.update();
   * scaler.getScale(); // 32768 after an overflow from the initial 65536
   */
  update(newScale?: number | null): void {
    if (!this.enabled) return;
    const op = `${OP}.update`;
    if (newScale !== undefined && newScale !== null) {
      this.scaleValue = Math.fround(checkNumber('newScale', newScale, (n) => n > 0 && Number.isFinite(n), 'must be a positive finite number'));
    } else {
      const recorded = [...this.perOptimizer.values()].filter((s) => s.stage !== 'ready');
      if (recorded.length === 0) throw new NablaError('No inf checks were recorded prior to update.', { op });
      let found = false;
      for (const s of recorded) {
        if (s.foundValue === null) {
          // unscale_ without step: the check was not read yet.
          const f = s.found!;
          if (!f._ref.backend.readsSync) {
            throw new NablaError(`device '${f.device}' reads back asynchronously: call 'await scaler.stepAsync(optimizer)' before update()`, { op });
          }
          s.foundValue = f.item();
        }
        if (s.foundValue !== 0) found = true;
      }
      // PyTorch's _amp_update_scale_, in float32.
      if (found) {
        this.scaleValue = Math.fround(this.scaleValue * this.backoffFactor);
        this.growthTracker = 0;
      } else {
        const successful = this.growthTracker + 1;
        if (successful === this.growthInterval) {
          const grown = Math.fround(this.scaleValue * this.growthFactor);
          if (Number.isFinite(grown)) this.scaleValue = grown;
          this.growthTracker = 0;
        } else {
          this.growthTracker = successful;
        }
      }
    }
    for (const s of this.perOptimizer.values()) if (s.found !== null && !s.found._disposed) s.found.dispose();
    this.perOptimizer.clear();
  }

  /**
   * The current scale (1 when disabled). No device read.
   *
   * @example
   * new nabla.amp.GradScaler().getScale(); // 65536
   */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** @example scaler.getGrowthFactor(); // 2 */
  getGrowthFactor(): number {
    return this.growthFactor;
  }
  /** @example scaler.setGrowthFactor(4); */
  setGrowthFactor(v: number): void {
    this.growthFactor = checkNumber('growthFactor', v, (n) => n > 1, 'should be > 1');
  }
  /** @example scaler.getBackoffFactor(); // 0.5 */
  getBackoffFactor(): number {
    return this.backoffFactor;
  }
  /** @example scaler.setBackoffFactor(0.25); */
  setBackoffFactor(v: number): void {
    this.backoffFactor = checkNumber('backoffFactor', v, (n) => n < 1 && n > 0, 'should be < 1 (and > 0)');
  }
  /** @example scaler.getGrowthInterval(); // 2000 */
  getGrowthInterval(): number {
    return this.growthInterval;
  }
  /** @example scaler.setGrowthInterval(100); */
  setGrowthInterval(v: number): void {
    this.growthInterval = checkNumber('growthInterval', v, (n) => Number.isInteger(n) && n > 0, 'must be a positive integer');
  }

  /**
   * The scaler's state (empty when disabled), for checkpoints.
   *
   * @example
   * const saved = scaler.stateDict();   // { scale, growthFactor, backoffFactor, growthInterval, growthTracker }
   * new nabla.amp.GradScaler().loadStateDict(saved);
   */
  stateDict(): GradScalerState | Record<string, never> {
    if (!this.enabled) return {};
    return {
      scale: this.scaleValue,
      growthFactor: this.growthFactor,
      backoffFactor: this.backoffFactor,
      growthInterval: this.growthInterval,
      growthTracker: this.growthTracker,
    };
  }

  /**
   * Restores `stateDict()`'s output (PyTorch's snake_case keys are accepted too).
   *
   * @example
   * scaler.loadStateDict({ scale: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 7 });
   */
  loadStateDict(source: Partial<GradScalerState> | Readonly<Record<string, unknown>>): void {
    const state = source as Readonly<Record<string, unknown>>;
    const op = `${OP}.loadStateDict`;
    if (!this.enabled) return;
    if (state === null || typeof state !== 'object') throw new NablaError(`expected a state object, got ${state === null ? 'null' : typeof state}`, { op });
    if (Object.keys(state).length === 0) {
      throw new NablaError('The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler.', { op });
    }
    const pick = (camel: string, snake: string): unknown => (state[camel] !== undefined ? state[camel] : state[snake]);
    const scale = pick('scale', 'scale');
    this.scaleValue = Math.fround(checkNumber('scale', scale, (n) => n > 0 && Number.isFinite(n), 'must be a positive finite number'));
    this.growthFactor = checkNumber('growthFactor', pick('growthFactor', 'growth_factor'), (n) => n > 1, 'should be > 1');
    this.backoffFactor = checkNumber('backoffFactor', pick('backoffFactor', 'backoff_factor'), (n) => n < 1 && n > 0, 'should be < 1 (and > 0)');
    this.growthInterval = checkNumber('growthInterval', pick('growthInterval', 'growth_interval'), (n) => Number.isInteger(n) && n > 0, 'must be a positive integer');
    this.growthTracker = checkNumber('growthTracker', pick('growthTracker', '_growth_tracker') ?? 0, (n) => Number.isInteger(n) && n >= 0, 'must be a non-negative integer');
  }
}

function checkOptimizer(optimizer: ScalableOptimizer, op: string): void {
  if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups) || typeof optimizer.step !== 'function') {
    throw new NablaError('expected an optimizer (an object with paramGroups and step())', { op });
  }
}
