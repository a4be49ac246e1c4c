/**
 * The measuring side of the cpu suite: one group of its rows (`CPU_GROUPS` in `cpu-rows.ts`),
 * measured in a process of its own that the suite forks for it (`cpu-child.ts`), so that no group
 * runs in a heap, a garbage collector's state or a JIT that earlier groups left behind. Here live
 * the workloads on Nabla's three runtimes (JavaScript kernels; wasm SIMD on 1 thread; threads
 * 'auto'), the tfjs-wasm case beside them, the served PyTorch case (through the suite's one
 * PyTorch server), and the rounds interleaved across all six columns.
 *
 * What it answers is plain data: per cell its samples in the row's unit, or why it is missing.
 */
import * as act from '@nabla/activations';
import { cpuBackend, type CpuBackend } from '@nabla/backend-cpu';
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { GcPlacement, gcPlacementWanted } from '../gc-placement.js';
import { interleave, localContender, type Contender, type Measured } from '../interleave.js';
import type { ServedCase, TorchServer } from '../peers/pytorch.js';
import { tfWasmInfo, tfWasmReady, tfwHvp, tfwMatmul, tfwMlp, tfwScalar, tfwSilu, tfwSilu2, type TfCase } from '../peers/tfjs-wasm.js';
import { bench } from '../report/recorder.js';
import { median } from '../stats.js';
import { settleHeap } from '../timing.js';
import { CPU_GROUPS, JS, TFJS, TORCH_1T, TORCH_2T, WASM_1T, WASM_FMA, cpuRows, rowColumns, threadsColumn, type CpuSizes, type GroupKind, type Key } from './cpu-rows.js';

const HVP_BATCH = 64;

/** Deterministic inputs shared by Nabla and tfjs (so second-order values can be compared). */
function seeded(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (u * 2 - 1) * scale * 1.7;
  }
  return out;
}

const HVP_INIT = { w1: seeded(256 * 256, 1, 0.06), w2: seeded(256 * 10, 2, 0.06), x: seeded(HVP_BATCH * 256, 3), t: seeded(HVP_BATCH * 10, 4), batch: HVP_BATCH };
const SILU2_PROBE = seeded(1000, 5, 5);

/** silu''(x) = σ(1-σ)(2 + x(1-2σ)), in float64. */
function silu2Exact(x: number): number {
  const s = 1 / (1 + Math.exp(-x));
  return s * (1 - s) * (2 + x * (1 - 2 * s));
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!) / (scale || 1));
  return Number.isNaN(e) ? Infinity : e;
}


/** One timed call of a workload; `prepare` runs untimed before it and hands it what it works on. */
interface Step {
  run: (prepared: unknown) => unknown;
  prepare?: () => unknown;
}

/** A workload set up on one Nabla runtime: its steps, its second-order check, and how to let go. */
interface NablaCase {
  steps: Partial<Record<string, Step>>;
  /** The result's max relative error against the reference (second-order rows). */
  check?: () => number;
  dispose: () => void;
}

function nablaMatmul(rt: Runtime, sz: CpuSizes): NablaCase {
  const a = rt.randn([sz.matmul, sz.matmul]);
  const b = rt.randn([sz.matmul, sz.matmul]);
  return { steps: { ms: { run: () => a.matmul(b).dispose() } }, dispose: () => [a, b].forEach((t) => t.dispose()) };
}

function nablaSilu(rt: Runtime, sz: CpuSizes): NablaCase {
  const x = rt.randn([sz.silu, sz.silu], { requiresGrad: true });
  const fb = (): void => {
    const y = act.silu(x);
    const ones = rt.onesLike(y);
    y.backward(ones);
    x.grad!.dispose();
    x.grad = null;
    ones.dispose();
    y.dispose();
  };
  return { steps: { fwd: { run: () => rt.noGrad(() => act.silu(x)).dispose() }, fb: { run: fb } }, dispose: () => x.dispose() };
}

function nablaMlp(rt: Runtime, sz: CpuSizes): NablaCase {
  rt.manualSeed(0);
  const sizes = [784, 256, 256, 10];
  const params: Tensor[] = [];
  for (let i = 0; i < 3; i++) {
    params.push(rt.tidy(() => rt.randn([sizes[i]!, sizes[i + 1]!]).mul(0.05)).requiresGrad_());
    params.push(rt.zeros([sizes[i + 1]!], { requiresGrad: true }));
  }
  const input = rt.randn([sz.batch, 784]);
  const target = rt.randn([sz.batch, 10]);
  const step = (): void =>
    rt.tidy(() => {
      let h = input;
      for (let i = 0; i < 3; i++) {
        h = h.matmul(params[2 * i]!).add(params[2 * i + 1]!);
        if (i < 2) h = h.relu();
      }
      h.sub(target).square().mean().backward();
      rt.noGrad(() => {
        for (const p of params) {
          p.sub_(p.grad!.mul(0.01));
          p.grad!.dispose();
          p.grad = null;
        }
      });
    });
  return { steps: { ms: { run: step } }, dispose: () => [...params, input, target].forEach((t) => t.dispose()) };
}

/**
 * The scalar chain with shared leaves w and b: its forward (building the graph), its backward
 * alone (`.backward()` on a chain built untimed just before), and the backward of the same chain
 * with JS-number constants instead of the shared leaves (nothing meets at a node, so the
 * difference between the two backward rows is what summing 3,333 contributions into each of w
 * and b costs).
 */
function nablaScalar(rt: Runtime, sz: CpuSizes): NablaCase {
  const x0 = rt.tensor(0.3);
  const w = rt.tensor(0.5, { requiresGrad: true });
  const b = rt.tensor(0.1, { requiresGrad: true });
  const chain = (): Tensor => {
    let y = x0;
    for (let i = 0; i < sz.scalar; i++) y = y.mul(w).add(b).tanh();
    return y;
  };
  const x1 = rt.tensor(0.3, { requiresGrad: true });
  const chainU = (): Tensor => {
    let y = x1;
    for (let i = 0; i < sz.scalar; i++) y = y.mul(0.5).add(0.1).tanh();
    return y;
  };
  return {
    steps: {
      fwd: { run: chain },
      bwd: {
        prepare: chain,
        run: (y) => {
          (y as Tensor).backward();
          w.grad = null;
          b.grad = null;
        },
      },
      bwdUnshared: {
        prepare: chainU,
        run: (y) => {
          (y as Tensor).backward();
          x1.grad = null;
        },
      },
    },
    dispose: () => [x0, w, b, x1].forEach((t) => t.dispose()),
  };
}

function nablaSilu2(rt: Runtime, sz: CpuSizes): NablaCase {
  const x2 = rt.randn([sz.silu2], { requiresGrad: true });
  const silu2Of = (v: Tensor): Tensor =>
    rt.tidy(() => {
      const [g] = autograd.grad(act.silu(v).sum(), v, { createGraph: true });
      return autograd.grad(g!.sum(), v)[0]!;
    });
  const check = (): number => {
    const probe = rt.tensor(SILU2_PROBE, { requiresGrad: true });
    const out = silu2Of(probe);
    const err = maxRelErr(out.dataSync() as Float32Array, Array.from(SILU2_PROBE, silu2Exact));
    probe.dispose();
    out.dispose();
    return err;
  };
  return { steps: { ms: { run: () => silu2Of(x2).dispose() } }, check, dispose: () => x2.dispose() };
}

function nablaHvp(rt: Runtime, ref: Float64Array[]): NablaCase {
  const hvpRun = (): { hv: Tensor[]; free: () => void } => {
    const ps = [
      rt.tensor(HVP_INIT.w1).reshape([256, 256]).requiresGrad_(),
      rt.zeros([256], { requiresGrad: true }),
      rt.tensor(HVP_INIT.w2).reshape([256, 10]).requiresGrad_(),
      rt.zeros([10], { requiresGrad: true }),
    ];
    const hx = rt.tensor(HVP_INIT.x).reshape([HVP_BATCH, 256]);
    const ht = rt.tensor(HVP_INIT.t).reshape([HVP_BATCH, 10]);
    const hv = rt.tidy(() => {
      const loss = hx.matmul(ps[0]!).add(ps[1]!).tanh().matmul(ps[2]!).add(ps[3]!).sub(ht).square().mean();
      const gs = autograd.grad(loss, ps, { createGraph: true });
      let dot = gs[0]!.sum();
      for (let i = 1; i < gs.length; i++) dot = dot.add(gs[i]!.sum());
      return autograd.grad(dot, ps) as Tensor[];
    });
    return { hv, free: () => [...ps, hx, ht].forEach((t) => t.dispose()) };
  };
  const step = (): void => {
    const r = hvpRun();
    r.hv.forEach((t) => t.dispose());
    r.free();
  };
  const check = (): number => {
    const r = hvpRun();
    const hv = r.hv.map((t) => Float64Array.from(t.dataSync() as Float32Array));
    r.hv.forEach((t) => t.dispose());
    r.free();
    return Math.max(...hv.map((h, i) => maxRelErr(h, ref[i]!)));
  };
  return { steps: { ms: { run: step } }, check, dispose: () => {} };
}

/** The float64 HVP, computed once with the JavaScript kernels: the reference the float32 runs are checked against. */
function hvpReference(rt: Runtime): Float64Array[] {
  const dtype = 'float64';
  const ps = [
    rt.tensor(HVP_INIT.w1, { dtype }).reshape([256, 256]).requiresGrad_(),
    rt.zeros([256], { dtype, requiresGrad: true }),
    rt.tensor(HVP_INIT.w2, { dtype }).reshape([256, 10]).requiresGrad_(),
    rt.zeros([10], { dtype, requiresGrad: true }),
  ];
  const hx = rt.tensor(HVP_INIT.x, { dtype }).reshape([HVP_BATCH, 256]);
  const ht = rt.tensor(HVP_INIT.t, { dtype }).reshape([HVP_BATCH, 10]);
  const loss = hx.matmul(ps[0]!).add(ps[1]!).tanh().matmul(ps[2]!).add(ps[3]!).sub(ht).square().mean();
  const gs = autograd.grad(loss, ps, { createGraph: true });
  let dot = gs[0]!.sum();
  for (let i = 1; i < gs.length; i++) dot = dot.add(gs[i]!.sum());
  return (autograd.grad(dot, ps) as Tensor[]).map((t) => Float64Array.from(t.dataSync() as Float64Array));
}

type TfGroupCase = TfCase<string> & { values?: (xs: Float32Array) => Float32Array; hv?: () => Float32Array[] };

/** A group's set-ups: the served PyTorch case, the tfjs case, and the Nabla case on a runtime. */
interface GroupCases {
  torch: Omit<ServedCase, 'threads'>;
  tf: () => TfGroupCase;
  nabla: (rt: Runtime) => NablaCase;
}

function groupCases(kind: GroupKind, sz: CpuSizes, ref: () => Float64Array[]): GroupCases {
  switch (kind) {
    case 'matmul':
      return { torch: { kind, arg: sz.matmul }, tf: () => tfwMatmul(sz.matmul), nabla: (rt) => nablaMatmul(rt, sz) };
    case 'silu':
      return { torch: { kind, arg: sz.silu }, tf: () => tfwSilu(sz.silu), nabla: (rt) => nablaSilu(rt, sz) };
    case 'mlp3':
      return { torch: { kind, arg: sz.batch }, tf: () => tfwMlp(sz.batch), nabla: (rt) => nablaMlp(rt, sz) };
    case 'scalar':
      return { torch: { kind, arg: sz.scalar }, tf: () => tfwScalar(sz.scalar), nabla: (rt) => nablaScalar(rt, sz) };
    case 'silu2':
      return { torch: { kind, arg: sz.silu2 }, tf: () => tfwSilu2(sz.silu2), nabla: (rt) => nablaSilu2(rt, sz) };
    case 'hvp':
      return { torch: { kind, arg: HVP_BATCH }, tf: () => tfwHvp(HVP_INIT), nabla: (rt) => nablaHvp(rt, ref()) };
  }
}

/** What the measuring process says about its runtimes and peers before it measures. */
export interface GroupMeta {
  nThreads: number;
  describe: { js: string; wasm: string; threads: string; fma?: string };
  tfNote: string;
  /** Peer versions it found (`bench.peers` of the measuring process). */
  peers: Record<string, string>;
}

/** One cell of the table: its samples in the row's unit (and cpu/wall per sample), or why it is missing. */
export interface CellResult {
  key: Key;
  impl: string;
  samples?: number[];
  cpuPerWall?: number[];
  /** Samples per interleaved round (see `CaseRecord.rounds`). */
  rounds?: number[];
  note?: string;
  missing?: string;
}

export interface GroupResult {
  cells: CellResult[];
  /** Second-order checks (max relative error) per column, for the suite's note. */
  checks: Record<'silu2Err' | 'hvpErr', Partial<Record<string, number>>>;
}

/** A missing cell's reason, as `bench.missing` words it: the error's first line. */
export function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/**
 * Measures group `index` of `CPU_GROUPS` in this process: sets up the three Nabla runtimes (four
 * with `fmaColumn`: this process was started with relaxed SIMD's flag, the default columns keep
 * `fma: false` and one more runtime multiplies with FMA) and tfjs-wasm, says what they are
 * (`onMeta`, before measuring), then measures each row of the group in rounds interleaved across
 * the columns.
 */
export async function measureGroup(index: number, sz: CpuSizes, torch: TorchServer | { missing: string }, onMeta: (m: GroupMeta) => void, fmaColumn = false): Promise<GroupResult> {
  const asThisNode = fmaColumn ? { fma: false } : {};
  const rtJs = await createRuntime({ plugins: [cpuBackend({ wasm: false }), act.activations()] });
  const rtWasm = await createRuntime({ plugins: [cpuBackend(asThisNode), act.activations()] });
  const rtThreads = await createRuntime({ plugins: [cpuBackend({ threads: 'auto', ...asThisNode }), act.activations()] });
  const rtFma = fmaColumn ? await createRuntime({ plugins: [cpuBackend({ fma: true }), act.activations()] }) : null;
  try {
    // A column named FMA must run it: no quiet fallback to mul + add.
    if (rtFma !== null && !(rtFma.backend('cpu') as unknown as CpuBackend).info.fma) throw new Error(`${WASM_FMA}: this process was started for relaxed SIMD, but the backend does not run its FMA kernel`);
    const nThreads = (rtThreads.backend('cpu') as unknown as CpuBackend).info.threads;
    const tfOk = await tfWasmReady();
    const tfNote = tfOk ? tfWasmInfo() : 'TensorFlow.js wasm: not measured';
    const describe = { js: rtJs.backend('cpu').describe(), wasm: rtWasm.backend('cpu').describe(), threads: rtThreads.backend('cpu').describe(), ...(rtFma ? { fma: rtFma.backend('cpu').describe() } : {}) };
    onMeta({ nThreads, describe, tfNote, peers: { ...bench.peers } });
    const nt = threadsColumn(nThreads);
    const sides = [
      { impl: JS, rt: rtJs },
      { impl: WASM_1T, rt: rtWasm },
      ...(rtFma ? [{ impl: WASM_FMA, rt: rtFma }] : []),
      { impl: nt, rt: rtThreads },
    ];
    let refMemo: Float64Array[] | null = null;
    const ref = (): Float64Array[] => (refMemo ??= hvpReference(rtJs));
    return await measureRows(CPU_GROUPS[index]!, groupCases(CPU_GROUPS[index]!.kind, sz, ref), sz, torch, tfOk, sides, nt, ref, rtFma !== null);
  } finally {
    await rtFma?.dispose();
    await rtWasm.dispose();
    await rtThreads.dispose();
    await rtJs.dispose();
  }
}

async function measureRows(
  layout: (typeof CPU_GROUPS)[number],
  g: GroupCases,
  sz: CpuSizes,
  torch: TorchServer | { missing: string },
  tfOk: boolean,
  sides: { impl: string; rt: Runtime }[],
  nt: string,
  ref: () => Float64Array[],
  fma: boolean,
): Promise<GroupResult> {
  const rows = cpuRows(sz);
  const out: GroupResult = { cells: [], checks: { silu2Err: {}, hvpErr: {} } };
  // Set up on every column (untimed); a column that fails to set up is left out with its reason.
  const failed = new Map<string, unknown>();
  const contenders = new Map<string, (step: string) => Contender>();
  if ('setup' in torch) {
    for (const [impl, threads] of [[TORCH_1T, 1], [TORCH_2T, 2]] as const) {
      const c = { ...g.torch, threads };
      try {
        await torch.setup(c);
        contenders.set(impl, (step) => torch.contender(impl, c, step));
      } catch (e) {
        failed.set(impl, e);
      }
    }
  }
  let tf: TfGroupCase | null = null;
  if (tfOk) {
    try {
      tf = g.tf();
      const t = tf;
      contenders.set(TFJS, (step) => localContender(TFJS, t.steps[step]!));
    } catch (e) {
      failed.set(TFJS, e);
    }
  }
  const nab = new Map<string, NablaCase>();
  for (const { impl, rt } of sides) {
    try {
      const n = g.nabla(rt);
      nab.set(impl, n);
      contenders.set(impl, (step) => {
        const s = n.steps[step]!;
        return localContender(impl, s.run, s.prepare);
      });
    } catch (e) {
      failed.set(impl, e);
    }
  }

  // Per row and column, the wall ms of every sample (tfjs's scalar backward needs its forward's).
  const wallMs = new Map<string, number[]>();
  const toUnit = (key: Key, ms: number): number =>
    key === 'matmulGflops' ? (2 * sz.matmul ** 3) / ms / 1e6 : key.startsWith('scalar') ? (ms * 1000) / (3 * sz.scalar) : ms;
  for (const r of layout.rows) {
    const row = rows.find((x) => x.key === r.key)!;
    const order = rowColumns(r, nt, fma).filter((c) => contenders.has(c.impl) || failed.has(c.impl));
    // A clean heap for every row: the previous row's garbage and finalizers are not this one's.
    await settleHeap();
    const gc = gcPlacementWanted() ? new GcPlacement() : null;
    const measured = await interleave(
      order.filter((c) => contenders.has(c.impl)).map((c) => contenders.get(c.impl)!(c.step)).map((c) => gc?.wrap(c) ?? c),
      layout.timing,
    );
    if (gc) for (const line of await gc.lines(row.name)) bench.log(line);
    for (const { impl } of order) {
      const m: Measured = measured.get(impl) ?? { samples: [], cpuMs: [], error: failed.get(impl) };
      if (m.error !== undefined) {
        out.cells.push({ key: r.key, impl, missing: reasonOf(m.error) });
        continue;
      }
      wallMs.set(`${r.key}|${impl}`, m.samples);
      let ms = m.samples;
      if (impl === TFJS && r.key === 'scalarBwd') {
        const f = median(wallMs.get(`scalarFwd|${TFJS}`) ?? []);
        ms = ms.map((v) => v - f);
      }
      let note: string | undefined;
      if (row.check) {
        const err = impl === TFJS ? tfCheck(row.check, tf, ref) : nab.get(impl)?.check?.();
        if (err !== undefined) out.checks[row.check][impl] = err;
        // A second-order result more than 1e-3 (relative to its largest entry) off the reference is wrong.
        if (err !== undefined && !(err <= 1e-3)) note = `wrong: max rel. error ${err.toExponential(1)}`;
      }
      out.cells.push({ key: r.key, impl, samples: ms.map((v) => toUnit(r.key, v)), cpuPerWall: m.samples.map((v, i) => m.cpuMs[i]! / v), ...(m.rounds ? { rounds: m.rounds } : {}), ...(note ? { note } : {}) });
    }
  }
  tf?.dispose();
  for (const n of nab.values()) n.dispose();
  return out;
}

function tfCheck(check: 'silu2Err' | 'hvpErr', tf: TfGroupCase | null, ref: () => Float64Array[]): number | undefined {
  if (tf === null) return undefined;
  if (check === 'silu2Err') return tf.values ? maxRelErr(tf.values(SILU2_PROBE), Array.from(SILU2_PROBE, silu2Exact)) : undefined;
  return tf.hv ? Math.max(...tf.hv().map((h, i) => maxRelErr(h, ref()[i]!))) : undefined;
}
