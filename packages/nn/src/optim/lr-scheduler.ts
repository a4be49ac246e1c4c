/**
 * Learning-rate schedulers (PyTorch's `torch.optim.lr_scheduler`): call `scheduler.step()` once
 * per epoch, after `optimizer.step()`. They write each group's `lr` with PyTorch's recursive
 * formulas, so other changes to `lr` compose the same way.
 *
 * @example
 * const sched = new optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 100 });
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(); }
 */
import { NablaError } from '@nabla/core';
import type { Optimizer } from './optimizer.js';

type AnyOptimizer = Optimizer<{ lr: number }>;

export interface SchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  stepCount: number;
  [k: string]: unknown;
}

/**
 * The scheduler base class: `step()` advances one epoch and writes each group's `lr`.
 *
 * @example
 * for (let epoch = 0; epoch < epochs; epoch++) { trainOneEpoch(); opt.step(); sched.step(); }
 */
export abstract class LRScheduler {
  readonly optimizer: AnyOptimizer;
  baseLrs: number[];
  lastEpoch: number;
  protected stepCount = 0;
  private lastLr: number[] = [];

  constructor(optimizer: AnyOptimizer, lastEpoch = -1) {
    if (!optimizer || !Array.isArray((optimizer as { paramGroups?: unknown }).paramGroups)) {
      throw new NablaError(`${this.constructor.name} expects an Optimizer`, { op: this.constructor.name });
    }
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new NablaError(`param 'initialLr' is not specified in paramGroups[${i}] when resuming an optimizer`, { op: this.constructor.name });
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /**
   * PyTorch's `_initial_step`: the first step sets the learning rate of epoch `lastEpoch + 1`.
   * Subclasses call it at the end of their constructor, once their own fields are set.
   */
  protected initialStep(): void {
    this.optimizer._stepCount = 0;
    this.step();
  }

  /** The learning rates for `lastEpoch`, from the groups' current ones (PyTorch's get_lr). */
  protected abstract getLr(): number[];

  /** Advances one epoch and writes the new learning rates into the groups. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = lrs.slice();
  }

  /** The learning rates the last `step()` set. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): SchedulerStateDict {
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) if (k !== 'optimizer') own[k] = Array.isArray(v) ? v.slice() : v;
    return own as unknown as SchedulerStateDict;
  }

  loadStateDict(sd: SchedulerStateDict): void {
    for (const [k, v] of Object.entries(sd)) if (k !== 'optimizer') (this as Record<string, unknown>)[k] = Array.isArray(v) ? v.slice() : v;
  }
}

export interface StepLROptions {
  /** Decay every `stepSize` epochs. */
  stepSize: number;
  /** Multiplicative decay (default 0.1). */
  gamma?: number;
  lastEpoch?: number;
}

/**
 * Multiplies each group's lr by `gamma` every `stepSize` epochs.
 *
 * @example
 * const sched = new lrScheduler.StepLR(opt, { stepSize: 30, gamma: 0.1 });
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, opts: StepLROptions) {
    const stepSize = opts?.stepSize;
    if (!Number.isInteger(stepSize) || stepSize <= 0) throw new NablaError(`stepSize must be a positive integer, got ${String(stepSize)}`, { op: 'StepLR' });
    super(optimizer, opts.lastEpoch ?? -1);
    this.stepSize = stepSize;
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { stepSize, gamma } = this;
    if (this.lastEpoch === 0 || this.lastEpoch % stepSize !== 0) return this.optimizer.paramGroups.map((g) => g.lr);
    return this.optimizer.paramGroups.map((g) => g.lr * gamma);
  }
}

export interface CosineAnnealingLROptions {
  /** Half period, in epochs. */
  tMax: number;
  /** Minimum learning rate (default 0). */
  etaMin?: number;
  lastEpoch?: number;
}

/**
 * Anneals each group's lr from its initial value to `etaMin` along a cosine over `tMax` epochs
 * (and back up after, as PyTorch's recursive form does).
 *
 * @example
 * const sched = new lrScheduler.CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: AnyOptimizer, opts: CosineAnnealingLROptions) {
    const tMax = opts?.tMax;
    if (!(typeof tMax === 'number' && tMax > 0)) throw new NablaError(`tMax must be positive, got ${String(tMax)}`, { op: 'CosineAnnealingLR' });
    super(optimizer, opts.lastEpoch ?? -1);
    this.tMax = tMax;
    this.etaMin = opts.etaMin ?? 0;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { tMax, etaMin } = this;
    const e = this.lastEpoch;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2);
    }
    if ((e - 1 - tMax) % (2 * tMax) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (g.lr - etaMin) + etaMin,
    );
  }
}
