/**
 * One checkpointed call: PyTorch's non-reentrant design on core's saved-tensor hooks.
 *
 * Forward runs `fn` as usual (so its outputs are ordinary graph tensors: `autograd.grad`, `inputs`,
 * `createGraph` and nesting need nothing special) under a pack hook that keeps, per saved tensor,
 * only a handle, its metadata and a decision. Backward's first unpack of a dropped tensor reruns
 * `fn` (same inputs, same RNG state, grad on) under a second pack hook that refills the handles in
 * save order and stops the rerun as soon as every handle still held has its tensor again. Each
 * recomputed tensor goes when the graph lets go of its handle (after the node that needed it ran).
 *
 *   forward:   fn(args) ──pack──► handle #i (+ shape/dtype/device/op)        nothing kept
 *   backward:  unpack #i ─► rerun fn ──pack──► value #0..#k, stop when all held handles are full
 *
 * With a policy, the first run also watches every kernel launch (core's dispatch hooks) and keeps
 * the outputs the policy saves at the 'output' stage; the rerun answers those launches with them,
 * so their kernels do not run (PyTorch's selective checkpointing).
 *
 * The rerun checks it saves the same shapes, dtypes and devices as the first run (and launches the
 * same ops where it answers one) and names the op where it does not. Nothing here reads tensor
 * values, so asynchronous devices never sync.
 */
import {
  NablaError,
  Tensor,
  bytesPerElement,
  fmtShape,
  storageKey,
  storageVersion,
  withDispatchHook,
  type DType,
  type KernelCall,
  type Runtime,
  type SavedTensorsHooks,
} from '@nabla/core';
import { checkDecision, type CheckpointPolicy, type SaveDecision, type SavedTensorInfo } from './policy.js';
import { currentModule, duringRecompute } from './state.js';

export interface CheckpointOptions {
  /**
   * Restore the runtime's RNG state for the rerun, so that dropout draws the same mask (default
   * true). Nabla has one RNG per runtime for every device, so this covers CPU and GPU alike.
   */
  preserveRngState?: boolean;
  /**
   * Selective checkpointing: per op output, 'save' keeps it and the recompute answers that op with
   * it instead of running it; per saved tensor, 'save', 'recompute' (default) or 'offload' (a host
   * copy until backward). See policy.ts; presets `saveMatmuls`, `saveNames`, `policyFrom`.
   */
  policy?: CheckpointPolicy | null;
  /** Record both runs' op lists and show them side by side when the rerun differs. */
  debug?: boolean;
  /** The segment's name in errors and warnings (default: the function's name). */
  name?: string;
  /** The runtime, when no argument is a tensor (default: the first tensor argument's). */
  runtime?: Runtime;
}

export const OPTION_KEYS = ['preserveRngState', 'policy', 'debug', 'name', 'runtime'] as const;

interface Meta {
  shape: readonly number[];
  dtype: DType;
  device: string;
  op: string;
}

type Decision = SaveDecision | 'input';

interface Entry {
  meta: Meta;
  decision: Decision;
  /** The saved tensor's id in the first run (entries of one tensor share a 'save' alias). */
  tensorId: number;
  /** Which input ('input'). */
  input: number;
  /** Made before the segment began (a parameter, a captured tensor): keeping it costs nothing. */
  outside: boolean;
  /** The kept alias ('save'), host copy ('offload') or recomputed tensor ('recompute'). */
  value: Tensor | null;
  /** The graph still holds the handle. */
  live: boolean;
}

/** What the graph keeps of a saved tensor. */
class Handle {
  constructor(
    readonly frame: Frame,
    readonly index: number,
  ) {}
}

/** What the rerun's own (never backwarded) graph keeps: nothing. */
const RERUN_HANDLE = Object.freeze({ rerun: true });
/** Thrown by the rerun's pack hook once every needed tensor exists again. */
const STOP = Object.freeze({ stopRecompute: true });

interface InputSlot {
  /** An alias that keeps the input's storage (no enclosing hooks, or they kept the tensor itself). */
  alias: Tensor | null;
  /** The enclosing pack hooks (a checkpoint around this one) and their handle. */
  outer: SavedTensorsHooks | null;
  handle: unknown;
  requiresGrad: boolean;
  tensor: Tensor;
}

/** An op output kept by the policy ('output' stage): the rerun answers its launch with it. */
interface Stored {
  op: string;
  kernel: string;
  /** Aliases of the launch's writes (they share the storage the kernel filled). */
  values: Tensor[];
  /** The storages' versions when the first run ended (an in-place change since: run the kernel). */
  versions: number[];
  /** A later launch of the first run wrote into it: it no longer holds this launch's result. */
  valid: boolean;
}

let segmentCount = 0;
const warned = new WeakSet<object>();

type Geometry = Pick<Meta, 'shape' | 'dtype' | 'device'>;

function sameMeta(a: Geometry, b: Geometry): boolean {
  return a.dtype === b.dtype && a.device === b.device && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

function fmtMeta(m: Geometry): string {
  return `${m.dtype} ${fmtShape(m.shape)} on ${m.device}`;
}

export class Frame {
  readonly name: string;
  private readonly entries: Entry[] = [];
  private readonly inputs: (InputSlot | null)[] = [];
  private readonly aliases = new Map<number, { t: Tensor; refs: number }>();
  private rng: number[] | null = null;
  private startId = 0;
  private live = 0;
  private forwardDone = false;
  private finished = false;
  private recomputing = false;
  private lastOp = '(none)';
  private firstOps: string[] | null = null;
  /** Kept op outputs by launch number (first run, with a policy). */
  private readonly stored = new Map<number, Stored>();
  /** Storage key -> launch number of the kept output that lives there. */
  private readonly storedAt = new WeakMap<object, number>();
  /** Storages the first run's launches touched so far (a write into one is not a fresh output). */
  private readonly touched = new WeakSet<object>();
  private launches = 0;

  constructor(
    readonly rt: Runtime,
    private readonly fn: (...args: never[]) => unknown,
    private readonly args: readonly unknown[],
    private readonly opts: CheckpointOptions,
  ) {
    this.name = opts.name ?? (fn.name && fn.name !== 'anonymous' ? fn.name : `checkpoint #${++segmentCount}`);
  }

  /** The forward: runs `fn` with its saved tensors replaced by handles. */
  run(): unknown {
    const rt = this.rt;
    this.saveInputs();
    if (this.opts.preserveRngState !== false) this.rng = rt.getRngState();
    if (this.opts.debug) this.firstOps = [];
    const stopListening = this.listen(this.firstOps);
    // Tensor ids only grow: the first tensor made inside marks where the segment's own tensors begin.
    this.startId = Infinity;
    const onCreate = (p: { id: number }): void => {
      this.startId = p.id;
      rt.events.off('tensor:create', onCreate);
    };
    rt.events.on('tensor:create', onCreate);
    let out: unknown;
    try {
      const body = (): unknown => this.fn(...(this.args as never[]));
      const watched = this.opts.policy ? (): unknown => withDispatchHook(rt, this.observe, body) : body;
      out = rt.tidy(() => rt.savedTensorsHooks(this.pack, this.unpack, watched, { release: this.release }));
    } catch (e) {
      this.abandon();
      throw e;
    } finally {
      stopListening();
      rt.events.off('tensor:create', onCreate);
    }
    this.forwardDone = true;
    for (const st of this.stored.values()) st.versions = st.values.map(storageVersion);
    this.shareSaved();
    this.warnIfUseless();
    if (this.live === 0) this.finish();
    return out;
  }

  // ---- forward

  private saveInputs(): void {
    const rt = this.rt;
    const outer = rt.currentSavedTensorsHooks();
    rt.outsideTidy(() =>
      rt.noGrad(() => {
        for (const a of this.args) {
          if (!isTensor(a)) {
            this.inputs.push(null);
            continue;
          }
          // Through an enclosing checkpoint's hooks, so that it may drop (and recompute) this
          // segment's input too; otherwise an alias keeps the storage until backward is done.
          const handle = outer !== null ? outer.pack(a) : a;
          const slot: InputSlot = { alias: null, outer: null, handle: null, requiresGrad: a.requiresGrad, tensor: a };
          if (outer !== null && handle !== a) {
            slot.outer = outer;
            slot.handle = handle;
          } else slot.alias = a.detach();
          this.inputs.push(slot);
        }
      }),
    );
  }

  private listen(ops: string[] | null): () => void {
    const events = this.rt.events;
    const fn = (p: { op: string }): void => {
      this.lastOp = p.op;
      ops?.push(p.op);
    };
    events.on('op:dispatch', fn);
    return () => void events.off('op:dispatch', fn);
  }

  /**
   * First run, with a policy: every kernel launch. Asks the policy about each output ('output'
   * stage) and keeps the outputs of launches it saves whole, so the rerun can answer them.
   */
  private readonly observe = (call: KernelCall): undefined => {
    const i = this.launches++;
    const rt = this.rt;
    let fresh = call.writes.length > 0;
    for (const w of call.writes) {
      const key = storageKey(w);
      const at = this.storedAt.get(key);
      if (at !== undefined) this.unstore(at); // written again: no longer that launch's result
      // A fresh output is made by this launch: not an in-place write into a tensor seen before.
      if (this.touched.has(key) || w.id < this.startId) fresh = false;
    }
    for (const r of call.reads) this.touched.add(storageKey(r));
    for (const w of call.writes) this.touched.add(storageKey(w));
    if (!fresh) return undefined;
    const policy = this.opts.policy!;
    for (const w of call.writes) {
      const info: SavedTensorInfo = {
        stage: 'output',
        op: call.op,
        producer: null,
        module: currentModule(),
        shape: w.shape,
        dtype: w.dtype,
        device: w.device,
        bytes: w.numel() * bytesPerElement(w.dtype),
      };
      const d = policy(info);
      if ((d === undefined || d === null ? 'recompute' : checkDecision(d, 'checkpoint')) !== 'save') return undefined;
    }
    const values = rt.outsideTidy(() => rt.noGrad(() => call.writes.map((w) => w.detach())));
    this.stored.set(i, { op: call.op, kernel: call.kernel, values, versions: [], valid: true });
    for (const w of call.writes) this.storedAt.set(storageKey(w), i);
    return undefined;
  };

  private unstore(i: number): void {
    const st = this.stored.get(i);
    if (!st) return;
    this.stored.delete(i);
    for (const v of st.values) v.dispose();
  }

  /** The rerun no longer needs the kept outputs (or the segment is done with). */
  private dropStored(): void {
    for (const i of [...this.stored.keys()]) this.unstore(i);
  }

  private readonly pack = (t: Tensor): Handle => {
    const index = this.entries.length;
    const meta: Meta = { shape: t.shape, dtype: t.dtype, device: t.device, op: this.lastOp };
    const input = this.inputs.findIndex((s) => s !== null && s.tensor === t);
    const outside = t.id < this.startId;
    let decision: Decision;
    if (input >= 0) decision = 'input';
    else if (outside) decision = 'save';
    else if (this.storedAt.has(storageKey(t)) && this.stored.has(this.storedAt.get(storageKey(t))!)) decision = 'save'; // a kept output
    else decision = this.decide(t, meta);
    if (decision === 'offload' && t.device === 'cpu') decision = 'save'; // already in host memory
    const e: Entry = { meta, decision, tensorId: t.id, input, outside, value: null, live: true };
    if (decision === 'save' || decision === 'offload') e.value = this.keepAlias(t, decision === 'offload');
    this.entries.push(e);
    this.live++;
    return new Handle(this, index);
  };

  private decide(t: Tensor, meta: Meta): SaveDecision {
    const policy = this.opts.policy;
    if (!policy) return 'recompute';
    const info: SavedTensorInfo = {
      stage: 'saved',
      op: meta.op,
      producer: t.gradFn?.name() ?? null,
      module: currentModule(),
      shape: meta.shape,
      dtype: meta.dtype,
      device: meta.device,
      bytes: t.numel() * bytesPerElement(t.dtype),
    };
    const d = policy(info);
    return d === undefined || d === null ? 'recompute' : checkDecision(d, 'checkpoint');
  }

  /** An alias of `t` ('save') or a host copy ('offload'), made once per tensor and shared. */
  private keepAlias(t: Tensor, host = false): Tensor {
    const key = host ? -1 - t.id : t.id;
    const a = this.aliases.get(key);
    if (a) {
      a.refs++;
      return a.t;
    }
    const kept = this.rt.outsideTidy(() => this.rt.noGrad(() => (host ? t.to('cpu') : t.detach())));
    this.aliases.set(key, { t: kept, refs: 1 });
    return kept;
  }

  /** A tensor saved once by a 'save' decision is kept for every op that saved it. */
  private shareSaved(): void {
    for (const e of this.entries) {
      if (e.decision !== 'recompute') continue;
      const a = this.aliases.get(e.tensorId);
      if (!a) continue;
      a.refs++;
      e.decision = 'save';
      e.value = a.t;
    }
  }

  private warnIfUseless(): void {
    if (this.entries.length === 0 || this.entries.some((e) => !e.outside && e.decision !== 'input')) return;
    if (warned.has(this.fn)) return;
    warned.add(this.fn);
    console.warn(
      `@nabla/checkpoint: checkpoint '${this.name}' saves nothing: every tensor it would save for backward is one of its inputs or ` +
        `was made before it (parameters), which are kept anyway. It frees no memory and only adds a recompute; ` +
        `checkpoint a longer segment (several layers) or call the function directly.`,
    );
  }

  // ---- backward

  private readonly unpack = (h: unknown): Tensor => {
    if (!(h instanceof Handle) || h.frame !== this) {
      throw new NablaError(`checkpoint '${this.name}': unpack got a handle that is not this checkpoint's`, { op: 'checkpoint' });
    }
    const e = this.entries[h.index]!;
    if (!e.live) throw new NablaError(`checkpoint '${this.name}': saved tensor #${h.index} was already released`, { op: 'checkpoint' });
    switch (e.decision) {
      case 'input':
        return this.inputValue(e.input);
      case 'save':
        return e.value!;
      case 'offload':
        return e.value!.to(e.meta.device);
      case 'recompute':
        if (e.value === null) this.recompute();
        return e.value!;
    }
  };

  private readonly release = (h: unknown): void => {
    if (!(h instanceof Handle)) return;
    const e = this.entries[h.index]!;
    if (!e.live) return;
    e.live = false;
    this.drop(e);
    if (--this.live === 0 && this.forwardDone) this.finish();
  };

  private drop(e: Entry): void {
    const v = e.value;
    e.value = null;
    if (v === null) return;
    if (e.decision === 'save' || e.decision === 'offload') {
      const key = e.decision === 'offload' ? -1 - e.tensorId : e.tensorId;
      const a = this.aliases.get(key)!;
      if (--a.refs === 0) {
        this.aliases.delete(key);
        a.t.dispose();
      }
    } else v.dispose();
  }

  private inputValue(k: number): Tensor {
    const s = this.inputs[k]!;
    return s.alias ?? s.outer!.unpack(s.handle);
  }

  /** The graph let go of every handle: the inputs need not be kept any more. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.dropStored();
    for (const s of this.inputs) {
      if (s === null) continue;
      s.alias?.dispose();
      if (s.outer !== null) s.outer.release?.(s.handle);
    }
  }

  /** The forward failed: nothing of this call stays allocated. */
  private abandon(): void {
    for (const e of this.entries) {
      if (e.live) this.drop(e);
      e.live = false;
    }
    this.live = 0;
    this.finish();
  }

  /** Reruns `fn` to refill the handles the graph still holds, stopping once they are all full. */
  private recompute(): void {
    if (this.recomputing) {
      throw new NablaError(
        `checkpoint '${this.name}': a tensor of this segment was needed while the segment itself was being recomputed ` +
          `(does the function call backward on its own outputs?)`,
        { op: 'checkpoint' },
      );
    }
    const needed = new Set<number>();
    this.entries.forEach((e, i) => {
      if (e.decision === 'recompute' && e.live && e.value === null) needed.add(i);
    });
    if (needed.size === 0) return;
    const rt = this.rt;
    const rerun: Meta[] = [];
    const rerunOps: string[] | null = this.firstOps ? [] : null;
    let remaining = needed.size;
    const pack = (t: Tensor): unknown => {
      const i = rerun.length;
      const meta: Meta = { shape: t.shape, dtype: t.dtype, device: t.device, op: this.lastOp };
      rerun.push(meta);
      const first = this.entries[i];
      if (first === undefined || !sameMeta(first.meta, meta)) throw this.mismatch(i, rerun, rerunOps);
      if (needed.has(i)) {
        first.value = t.detach();
        if (--remaining === 0) throw STOP;
      }
      return RERUN_HANDLE;
    };
    const unpack = (): Tensor => {
      throw new NablaError(`checkpoint '${this.name}': the graph of a recompute is not for backward`, { op: 'checkpoint' });
    };
    let launch = 0;
    const answer = (call: KernelCall): readonly Tensor[] | undefined => {
      const i = launch++;
      const st = this.stored.get(i);
      if (st === undefined) return undefined;
      if (st.op !== call.op || st.kernel !== call.kernel || !sameWrites(st.values, call.writes)) throw this.launchMismatch(i, st, call);
      // Changed in place since the first run (an output the caller modified): recompute it.
      if (st.values.some((v, k) => storageVersion(v) !== st.versions[k])) return undefined;
      return st.values;
    };
    const body = (args: unknown[]): unknown => {
      const run = (): unknown => this.fn(...(args as never[]));
      return this.stored.size > 0 ? withDispatchHook(rt, answer, run) : run();
    };
    this.recomputing = true;
    const stopListening = this.listen(rerunOps);
    const rngNow = this.rng ? rt.getRngState() : null;
    try {
      rt.outsideTidy(() =>
        rt.tidy(() => {
          const args = this.args.map((a, k) => {
            const slot = this.inputs[k];
            if (!slot) return a;
            const d = rt.noGrad(() => this.inputValue(k).detach());
            if (slot.requiresGrad) d.requiresGrad = true;
            return d;
          });
          if (this.rng) rt.setRngState(this.rng);
          try {
            duringRecompute(() => rt.enableGrad(() => rt.savedTensorsHooks(pack, unpack, () => body(args))));
          } catch (e) {
            if (e !== STOP) throw e;
          }
        }),
      );
    } catch (e) {
      for (const i of needed) {
        const en = this.entries[i]!;
        en.value?.dispose();
        en.value = null;
      }
      throw e;
    } finally {
      if (rngNow) rt.setRngState(rngNow);
      stopListening();
      this.recomputing = false;
    }
    if (remaining > 0) throw this.mismatch(rerun.length, rerun, rerunOps);
    // Every dropped tensor exists again until the graph lets go of it: no rerun will follow.
    this.dropStored();
  }

  private launchMismatch(i: number, st: Stored, call: KernelCall): NablaError {
    const fmt = (op: string, kernel: string, ws: readonly Tensor[]): string => `'${op}' (kernel ${kernel}, writing ${ws.map(fmtMeta).join(', ')})`;
    return new NablaError(
      `checkpoint '${this.name}': the recompute differs from the first run: kernel launch #${i} is ${fmt(call.op, call.kernel, call.writes)}, ` +
        `but the first run launched ${fmt(st.op, st.kernel, st.values)} there, whose output the policy kept. ` +
        `The function must run the same ops on the same shapes when it is rerun in backward: keep preserveRngState on, ` +
        `and do not branch on tensor values or on state that changes between the runs.`,
      { op: 'checkpoint' },
    );
  }

  private mismatch(i: number, rerun: readonly Meta[], rerunOps: string[] | null): NablaError {
    const first = this.entries[i]?.meta;
    const got = rerun[i];
    let what: string;
    if (first && got) {
      what = `tensor #${i} it saved for op '${got.op}' is ${fmtMeta(got)}, but the first run saved ${fmtMeta(first)} there (for op '${first.op}')`;
    } else if (got) {
      what = `it saved more tensors than the first run (${this.entries.length}); the extra tensor #${i} is ${fmtMeta(got)} for op '${got.op}'`;
    } else {
      what = `it saved only ${i} tensors where the first run saved ${this.entries.length}; the first missing one is #${i}, ${fmtMeta(first!)} for op '${first!.op}'`;
    }
    let msg =
      `checkpoint '${this.name}': the recompute differs from the first run: ${what}. ` +
      `The function must run the same ops on the same shapes when it is rerun in backward: keep preserveRngState on, ` +
      `and do not branch on tensor values or on state that changes between the runs.`;
    if (this.firstOps && rerunOps) msg += `\n${sideBySide(this.entries.map((e) => e.meta), rerun, this.firstOps, rerunOps)}`;
    else msg += ` Pass { debug: true } to see both runs' op lists side by side.`;
    return new NablaError(msg, { op: 'checkpoint' });
  }
}

function sideBySide(first: readonly Meta[], rerun: readonly Meta[], firstOps: readonly string[], rerunOps: readonly string[]): string {
  const rows: [string, string][] = [['first run', 'recompute']];
  const n = Math.max(firstOps.length, rerunOps.length);
  for (let i = 0; i < n; i++) rows.push([firstOps[i] ?? '', rerunOps[i] ?? '']);
  rows.push(['-- saved tensors --', '']);
  const m = Math.max(first.length, rerun.length);
  for (let i = 0; i < m; i++) {
    const a = first[i];
    const b = rerun[i];
    rows.push([a ? `#${i} ${a.op}: ${fmtMeta(a)}` : '', b ? `#${i} ${b.op}: ${fmtMeta(b)}` : '']);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)} | ${b}${a !== b && b !== '' && a !== '' && !a.startsWith('--') ? '   <--' : ''}`).join('\n');
}

function sameWrites(kept: readonly Tensor[], writes: readonly Tensor[]): boolean {
  return kept.length === writes.length && kept.every((k, i) => sameMeta(k, writes[i]!));
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
