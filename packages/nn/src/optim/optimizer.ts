/**
 * The optimizer base class (PyTorch's `torch.optim.Optimizer`): parameter groups with their own
 * hyperparameters, per-parameter state, `zeroGrad`, `stateDict` / `loadStateDict`.
 *
 * Updates run under noGrad and write into the parameters and state tensors in place, disposing
 * their temporaries, so a training loop's memory stays flat.
 */
import { NablaError, Tensor, type Runtime } from '@nabla/core';
import { untracked } from '../lifetime.js';
import { zeroGrads } from '../module.js';

/** Per-parameter optimizer state: tensors (moment buffers) and numbers (the step count). */
export type ParamState = Record<string, Tensor | number>;

/** A parameter group: its parameters and its (complete) hyperparameters. */
export type ParamGroup<H> = H & { params: Tensor[]; initialLr?: number };

/** What the constructor and `addParamGroup` take: params, and hyperparameters overriding the defaults. */
export type ParamGroupInput<H> = Partial<H> & { params: Iterable<Tensor> };

export type Params<H> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

export interface OptimizerStateDict<H> {
  /** State by parameter index (the order of the parameters across groups). */
  state: Record<number, ParamState>;
  /** The groups' hyperparameters, with their parameters as indices. */
  paramGroups: (H & { params: number[]; initialLr?: number })[];
}

/**
 * The base of every optimizer: groups of parameters with their hyperparameters, lazily created
 * per-parameter state, and `step()` calling the subclass's `update` for each parameter that has a
 * gradient.
 *
 * @example
 * const opt = new optim.SGD([{ params: model.fc1.parameters(), lr: 0.1 }, { params: model.fc2.parameters() }], { lr: 0.01 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export abstract class Optimizer<H extends { lr: number }> {
  readonly defaults: H;
  paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state (created lazily by `step`). */
  state = new Map<Tensor, ParamState>();
  /** @internal how many times step() ran (the LR schedulers check the call order with it) */
  _stepCount = 0;

  constructor(params: Params<H>, defaults: H) {
    this.defaults = defaults;
    if (params instanceof Tensor || params === null || params === undefined || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new NablaError(
        `params argument given to the optimizer should be an iterable of Tensors or of parameter groups, but got ${params instanceof Tensor ? 'a Tensor' : typeof params}`,
        { op: this.constructor.name },
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) throw new NablaError('optimizer got an empty parameter list', { op: this.constructor.name });
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>] : (list as ParamGroupInput<H>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group of parameters with its own hyperparameters (the defaults fill in the rest). */
  addParamGroup(group: ParamGroupInput<H>): void {
    const op = this.constructor.name;
    if (group === null || typeof group !== 'object' || group instanceof Tensor) {
      throw new NablaError(`param group must be an object { params, ...hyperparameters }, got ${group instanceof Tensor ? 'a Tensor' : typeof group}`, { op });
    }
    const raw = group.params as unknown;
    let params: unknown[];
    if (raw instanceof Tensor) params = [raw];
    else if (raw !== null && raw !== undefined && typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') params = [...(raw as Iterable<unknown>)];
    else throw new NablaError('param group must have a "params" iterable of Tensors', { op });
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new NablaError(`optimizer can only optimize Tensors, but params[${i}] is ${p === null ? 'null' : typeof p}`, { op });
      if (p.isDisposed) throw new NablaError(`params[${i}] was disposed`, { op });
      if (!p.isLeaf) {
        throw new NablaError(
          `can't optimize a non-leaf Tensor (params[${i}] has gradFn ${p.gradFn?.name() ?? '?'}); optimize the leaf it was computed from, or pass t.detach().requiresGrad_()`,
          { op },
        );
      }
      if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new NablaError(`can only optimize floating point Tensors, params[${i}] is ${p.dtype}`, { op });
    });
    const tensors = params as Tensor[];
    if (new Set(tensors).size !== tensors.length) {
      throw new NablaError('optimizer contains a parameter group with duplicate parameters', { op });
    }
    for (const g of this.paramGroups) {
      if (g.params.some((p) => tensors.includes(p))) throw new NablaError('some parameters appear in more than one parameter group', { op });
    }
    const full = { ...this.defaults, ...group, params: tensors } as ParamGroup<H>;
    for (const [k, v] of Object.entries(full)) if (v === undefined) (full as Record<string, unknown>)[k] = (this.defaults as Record<string, unknown>)[k];
    this.validate(full);
    this.paramGroups.push(full);
  }

  /** Checks a group's hyperparameters (each optimizer adds its own rules). */
  protected validate(group: ParamGroup<H>): void {
    if (!(group.lr >= 0)) throw new NablaError(`Invalid learning rate: ${group.lr}`, { op: this.constructor.name });
  }

  /**
   * Clears the gradients of every parameter: drops them (the default, as PyTorch) or zeroes them in
   * place (`setToNone: false` keeps the gradient buffers, so training allocates none per step).
   */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) zeroGrads(g.params, opts.setToNone ?? true);
  }

  /** One update of every parameter that has a gradient. `closure` re-evaluates the loss (run with grad on). */
  step(closure?: (() => Tensor | number) | null): Tensor | number | undefined {
    let loss: Tensor | number | undefined;
    if (closure) loss = this.runtime().enableGrad(closure);
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g === null) continue;
        let st = this.state.get(p);
        if (!st) this.state.set(p, (st = {}));
        const state = st;
        // State made here outlives any tidy() around the step; the update frees its temporaries.
        untracked(p.rt, () => p.rt.noGrad(() => this.update(p, g, state, group)));
      }
    }
    this._stepCount++;
    return loss;
  }

  /** Updates one parameter in place from its gradient (called under noGrad). */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  private runtime(): Runtime {
    return this.paramGroups[0]!.params[0]!.rt;
  }

  /** Parameter indices across groups, the hyperparameters and state (tensors by reference, as PyTorch). */
  stateDict(): OptimizerStateDict<H> {
    const index = new Map<Tensor, number>();
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...hyper, params: params.map((p) => (index.has(p) ? index.get(p)! : (index.set(p, next), next++))) } as H & { params: number[] };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /** Restores hyperparameters and state (copied onto each parameter's device and dtype). */
  loadStateDict(sd: OptimizerStateDict<H>): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (!sd || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw new NablaError('expected a state dict { state, paramGroups } from Optimizer.stateDict()', { op });
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new NablaError(`loaded state dict has a different number of parameter groups (${sd.paramGroups.length} vs ${this.paramGroups.length})`, { op });
    }
    sd.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i]!.params.length) {
        throw new NablaError(
          `loaded state dict contains a parameter group that doesn't match the size of optimizer's group ${i} (${g.params.length} vs ${this.paramGroups[i]!.params.length})`,
          { op },
        );
      }
    });
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, i) => g.params.forEach((idx, k) => byIndex.set(idx, this.paramGroups[i]!.params[k]!)));
    const state = new Map<Tensor, ParamState>();
    for (const [k, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(k));
      if (!p) continue;
      const copy: ParamState = {};
      for (const [name, v] of Object.entries(s)) {
        if (v instanceof Tensor) {
          copy[name] = untracked(p.rt, () => p.rt.noGrad(() => {
            const moved = v.device === p.device ? v : v.to(p.device);
            const cast = moved.dtype === p.dtype ? moved : moved.to(p.dtype);
            const c = cast.clone();
            if (cast !== moved) cast.dispose();
            if (moved !== v) moved.dispose();
            return c;
          }));
        } else copy[name] = v;
      }
      state.set(p, copy);
    }
    for (const old of this.state.values()) for (const v of Object.values(old)) if (v instanceof Tensor) v.dispose();
    this.state = state;
    sd.paramGroups.forEach((g, i) => {
      const { params: _ignored, ...hyper } = g;
      Object.assign(this.paramGroups[i]!, hyper);
    });
  }
}

/** A temporary-tensor scope for the update rules: `t(x)` registers `x` for disposal at the end. */
export class Temps {
  private list: Tensor[] = [];
  t(x: Tensor): Tensor {
    this.list.push(x);
    return x;
  }
  dispose(): void {
    for (const x of this.list) x.dispose();
    this.list.length = 0;
  }
}
