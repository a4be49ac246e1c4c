/**
 * `watch(model)` and its halves, `GradientRecorder` and `ActivationRecorder` (the shape of
 * `wandb.watch`): per-parameter and per-module statistics every `every` steps, computed on the
 * device and read back with one batched read per logged step. Between logged steps the hooks only
 * test a counter. The model is held weakly; `remove()` takes every hook off.
 */
import { cat, NablaError, Tensor, type RemovableHandle } from '@nabla/core';
import type { Module } from '@nabla/nn';
import { statsVector, parseStats, type Stats } from './stats.js';
import { toCSV, toHTML, type ReportOptions } from './report.js';

export type LogWhat = 'grads' | 'params' | 'acts' | 'all';

export interface RecorderOptions {
  /** Record every `every`-th step (steps 0, every, 2·every, ...). Default 1. */
  every?: number;
  /** Histogram bins. Default 30. */
  bins?: number;
}

export interface WatchOptions extends RecorderOptions {
  /** What to record: parameter gradients (default), parameters, module outputs, or all. */
  log?: LogWhat;
}

/** One recorded step. */
export interface StepRecord {
  step: number;
  /** Gradient statistics by parameter name (`layers.0.weight`). */
  grads?: Record<string, Stats>;
  /** Parameter statistics by parameter name. */
  params?: Record<string, Stats>;
  /** Output statistics by module path (`layers.0`). */
  acts?: Record<string, Stats>;
  /** Scalars noted during the step (`gradientClipHook`'s clipped fraction, your own). */
  scalars?: Record<string, number>;
}

/** The JSON form of a recorder: `{ every, bins, history }`. */
export interface RecorderJSON {
  every: number;
  bins: number;
  history: StepRecord[];
}

interface Pending {
  kind: 'grads' | 'params' | 'acts' | 'scalars';
  name: string;
  /** The stats vector (or a noted 0-d tensor) on the device; null for a noted number. */
  vector: Tensor | null;
  numel: number;
  value?: number;
}

function firstTensor(v: unknown): Tensor | null {
  if (v instanceof Tensor) return v;
  if (Array.isArray(v)) for (const x of v) if (x instanceof Tensor) return x;
  return null;
}

const isFloat = (t: Tensor): boolean => t.dtype.startsWith('float');

/**
 * Records statistics of a model's gradients, parameters and module outputs.
 *
 * @example
 * const rec = watch(model, { log: 'all', every: 100, bins: 30 });
 * for (let step = 0; step < 1000; step++) {
 *   nabla.tidy(() => { lossOf(model).backward(); opt.step(); opt.zeroGrad(); });
 *   rec.step();                       // closes the step; every 100th is recorded
 * }
 * await rec.flush();                  // GPU reads land asynchronously
 * rec.latest()!.grads!['0.weight'].norm;
 * writeFileSync('report.html', rec.toHTML());
 */
export class Recorder {
  /** Every recorded step, oldest first. */
  readonly history: StepRecord[] = [];
  readonly every: number;
  readonly bins: number;
  private readonly model: WeakRef<Module>;
  private readonly what: { grads: boolean; params: boolean; acts: boolean };
  private stepIndex = 0;
  private pending: Pending[] = [];
  private readonly handles: RemovableHandle[] = [];
  private inFlight: Promise<void>[] = [];
  private removed = false;
  private actNames = new Map<string, number>();

  constructor(model: Module, what: { grads?: boolean; params?: boolean; acts?: boolean }, opts: RecorderOptions = {}) {
    const op = this.constructor.name;
    if (!model || typeof (model as Module).namedParameters !== 'function') throw new NablaError('expected an nn.Module to watch', { op });
    const every = opts.every ?? 1;
    const bins = opts.bins ?? 30;
    if (!Number.isInteger(every) || every < 1) throw new NablaError(`every must be a positive integer, got ${every}`, { op });
    if (!Number.isInteger(bins) || bins < 1) throw new NablaError(`bins must be a positive integer, got ${bins}`, { op });
    this.every = every;
    this.bins = bins;
    this.model = new WeakRef(model);
    this.what = { grads: !!what.grads, params: !!what.params, acts: !!what.acts };
    if (this.what.acts) {
      const mods = model.namedModules().filter(([name]) => name !== '');
      const list: [string, Module][] = mods.length ? mods : [[model.constructor.name, model]];
      for (const [name, m] of list) this.handles.push(m.registerForwardHook((_m, _a, out) => this.onOutput(name, out)));
    }
  }

  /** Whether the current step is recorded. */
  get logging(): boolean {
    return !this.removed && this.stepIndex % this.every === 0;
  }

  /** The step the next `step()` call closes. */
  get currentStep(): number {
    return this.stepIndex;
  }

  private onOutput(name: string, out: unknown): void {
    if (!this.logging) return;
    const t = firstTensor(out);
    if (t === null || !isFloat(t) || t.isDisposed) return;
    const n = (this.actNames.get(name) ?? 0) + 1;
    this.actNames.set(name, n);
    this.queue('acts', n === 1 ? name : `${name}#${n}`, t);
  }

  /** @internal Computes a tensor's stats vector now (outside any tidy: it is read at step()). */
  queue(kind: Pending['kind'], name: string, t: Tensor): void {
    const vector = t.rt.outsideTidy(() => statsVector(t, this.bins));
    this.pending.push({ kind, name, vector, numel: t.numel() });
  }

  /**
   * Notes a scalar for the current step: a number, or a 0-d tensor read with the step's batch.
   * Ignored on steps that are not recorded.
   */
  note(name: string, value: number | Tensor): void {
    if (!this.logging) return;
    if (typeof value === 'number') {
      this.pending.push({ kind: 'scalars', name, vector: null, numel: 1, value });
      return;
    }
    const rt = value.rt;
    const vector = rt.outsideTidy(() => rt.noGrad(() => value.detach().reshape([-1]).clone()));
    this.pending.push({ kind: 'scalars', name, vector, numel: 1 });
  }

  /**
   * Closes the current step. On a recorded step, computes the statistics of the gradients and/or
   * parameters and reads them back with the module outputs' in one batch per device: at once on
   * synchronous devices, asynchronously on GPUs (`await flush()` before reading `history`).
   */
  step(): void {
    if (this.removed) throw new NablaError('this recorder was removed', { op: `${this.constructor.name}.step` });
    const k = this.stepIndex++;
    this.actNames.clear();
    if (k % this.every !== 0) return;
    const model = this.model.deref();
    if (model !== undefined && (this.what.grads || this.what.params)) {
      for (const [name, p] of model.namedParameters()) {
        if (this.what.params) this.queue('params', name, p);
        const g = p.grad;
        if (this.what.grads && g !== null && !g.isDisposed) this.queue('grads', name, g);
      }
    }
    const batch = this.pending;
    this.pending = [];
    const record: StepRecord = { step: k };
    const fill = (values: (ArrayLike<number> | null)[]): void => {
      batch.forEach((p, i) => {
        const v = values[i];
        if (p.kind === 'scalars') {
          (record.scalars ??= {})[p.name] = v === null || v === undefined ? p.value! : v[0]!;
          return;
        }
        (record[p.kind] ??= {})[p.name] = parseStats(v!, p.numel);
      });
      for (const p of batch) p.vector?.dispose();
      let at = this.history.length;
      while (at > 0 && this.history[at - 1]!.step > k) at--;
      this.history.splice(at, 0, record);
    };
    const sync = batch.every((p) => p.vector === null || p.vector.rt.backend(p.vector.device).readsSync);
    if (sync) {
      fill(batch.map((p) => (p.vector ? (p.vector.dataSync() as ArrayLike<number>) : null)));
      return;
    }
    const read = readBatched(batch.map((p) => p.vector ?? null)).then(fill);
    this.inFlight.push(read);
    void read.finally(() => (this.inFlight = this.inFlight.filter((r) => r !== read)));
  }

  /** Resolves when every recorded step's values have landed. */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** The most recent recorded step (null before the first). */
  latest(): StepRecord | null {
    return this.history[this.history.length - 1] ?? null;
  }

  /** `{ every, bins, history }`, ready for `JSON.stringify`. */
  toJSON(): RecorderJSON {
    return { every: this.every, bins: this.bins, history: this.history };
  }

  /** One row per step and tensor: `step,kind,name,numel,mean,std,norm,min,max,nanCount,infCount` (scalars: kind `scalar`, value in `mean`). */
  toCSV(): string {
    return toCSV(this.history);
  }

  /** One self-contained offline HTML page: histogram-over-steps heatmaps, norm sparklines, NaN markers. */
  toHTML(opts: ReportOptions = {}): string {
    return toHTML(this.history, { title: `${this.constructor.name} report`, ...opts });
  }

  /** Takes every hook off and frees what a pending step computed. Idempotent. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    for (const h of this.handles) h.remove();
    this.handles.length = 0;
    for (const p of this.pending) p.vector?.dispose();
    this.pending = [];
  }
}

/** One read per (device, dtype): the vectors joined, read, and split again. */
async function readBatched(vectors: (Tensor | null)[]): Promise<(ArrayLike<number> | null)[]> {
  const groups = new Map<string, number[]>();
  vectors.forEach((v, i) => {
    if (v === null) return;
    const key = `${v.device}/${v.dtype}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const out: (ArrayLike<number> | null)[] = vectors.map(() => null);
  await Promise.all(
    [...groups.values()].map(async (idx) => {
      const first = vectors[idx[0]!]!;
      const rt = first.rt;
      const joined = idx.length === 1 ? first : rt.outsideTidy(() => rt.noGrad(() => cat(idx.map((i) => vectors[i]!))));
      const data = await joined.data();
      if (joined !== first) joined.dispose();
      let at = 0;
      for (const i of idx) {
        const n = vectors[i]!.numel();
        out[i] = data.subarray(at, at + n) as unknown as ArrayLike<number>;
        at += n;
      }
    }),
  );
  return out;
}

/**
 * Records parameter gradients (and, with `params: true`, the parameters) at every `step()`.
 *
 * @example
 * const rec = new GradientRecorder(model, { every: 10, bins: 20 });
 * loss.backward(); rec.step();
 * rec.latest()!.grads!['fc1.weight'].histogram.counts;
 */
export class GradientRecorder extends Recorder {
  constructor(model: Module, opts: RecorderOptions & { params?: boolean } = {}) {
    super(model, { grads: true, params: !!opts.params }, opts);
  }
}

/**
 * Records every submodule's output (its first tensor) on recorded steps, by module path.
 *
 * @example
 * const rec = new ActivationRecorder(model, { every: 1 });
 * model.call(x); rec.step();
 * rec.latest()!.acts!['layers.0'].mean;
 */
export class ActivationRecorder extends Recorder {
  constructor(model: Module, opts: RecorderOptions = {}) {
    super(model, { acts: true }, opts);
  }
}

/**
 * Watches a model like `wandb.watch`: `log` picks gradients (default), parameters, module outputs
 * or all; statistics every `every` steps with `bins`-bin histograms.
 *
 * @example
 * const rec = watch(model, { log: 'all', every: 100 });
 * // ... training: loss.backward(); rec.step();
 * writeFileSync('report.html', rec.toHTML());
 * rec.remove();
 */
export function watch(model: Module, opts: WatchOptions = {}): Recorder {
  const log = opts.log ?? 'grads';
  if (!['grads', 'params', 'acts', 'all'].includes(log)) {
    throw new NablaError(`log must be 'grads', 'params', 'acts' or 'all', got ${String(log)}`, { op: 'watch' });
  }
  const all = log === 'all';
  return new Recorder(model, { grads: all || log === 'grads', params: all || log === 'params', acts: all || log === 'acts' }, opts);
}
