/**
 * The CPU backend against PyTorch (1 and 2 threads) and TensorFlow.js's WebAssembly backend, the
 * rows of issue 12, all measured in this one run: matmul 1024², fused SiLU on 1000², a
 * 784-256-256-10 MLP step, a scalar graph tanh(x·w+b), SiLU'' on 2^20 by double backward and a
 * Hessian-vector product through a tanh MLP. Nabla runs three times: with its JavaScript kernels
 * (`cpuBackend({ wasm: false })`, before), and with its WebAssembly SIMD kernels on 1 thread (the
 * default) and on `threads: 'auto'` (after). Second-order results are checked: against the closed
 * form for SiLU'', against Nabla's own float64 result for the HVP.
 *
 * How it measures, so that the numbers can be trusted on a shared 2-core machine:
 * - every row is measured in rounds interleaved across all six columns (`interleave.ts`): PyTorch
 *   as a server in its own process (`startTorchServer`), tfjs and the three Nabla runtimes in this
 *   one, so drift hits every column alike and the ratios the goals read hold;
 * - a full garbage collection before each row (never between samples: see `collectGarbage`), and
 *   a return to the event loop before each sample, so that no row pays for the previous one's
 *   garbage or finalizers;
 * - backward rows time `.backward()` alone, on a graph built untimed just before;
 * - each cell keeps the process's CPU time per sample: its cpu/wall share shows a cell whose
 *   samples lost their core to other processes.
 * The runtimes stay alive together: idle pool workers sleep in `Atomics.wait` (no CPU).
 */
import * as act from '@nabla/activations';
import { cpuBackend, type CpuBackend } from '@nabla/backend-cpu';
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { interleave, localContender, type Contender, type Measured } from '../interleave.js';
import { startTorchServer, type ServedCase, type TorchServer } from '../peers/pytorch.js';
import { tfWasmInfo, tfWasmReady, tfwHvp, tfwMatmul, tfwMlp, tfwScalar, tfwSilu, tfwSilu2, type TfCase } from '../peers/tfjs-wasm.js';
import { bench } from '../report/recorder.js';
import { median } from '../stats.js';
import { collectGarbage, yieldToEventLoop } from '../timing.js';
import { cpuGoals, type CpuRow } from './cpu-goals.js';

// Sizes of a full run; cpuSuite shrinks the first ones for --quick (the HVP is small already).
let MATMUL = 1024;
let SILU = 1000;
const BATCH = 64;
let SCALAR = 3333;
let SILU2 = 1 << 20;
const HVP_BATCH = 64;

/** `scalarBwdUnshared`: the same chain with JS-number constants instead of the two shared leaves. */
type Key = 'matmulGflops' | 'siluFwd' | 'siluFb' | 'mlp' | 'scalarFwd' | 'scalarBwd' | 'scalarBwdUnshared' | 'silu2' | 'hvp';


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

function nablaMatmul(rt: Runtime): NablaCase {
  const a = rt.randn([MATMUL, MATMUL]);
  const b = rt.randn([MATMUL, MATMUL]);
  return { steps: { ms: { run: () => a.matmul(b).dispose() } }, dispose: () => [a, b].forEach((t) => t.dispose()) };
}

function nablaSilu(rt: Runtime): NablaCase {
  const x = rt.randn([SILU, SILU], { requiresGrad: true });
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

function nablaMlp(rt: Runtime): NablaCase {
  rt.manualSeed(0);
  const sizes = [784, 256, 256, 10];
  const params: Tensor[] = [];
  for (let i = 0; i < 3; i++) {
    params.push(rt.tidy(() => rt.randn([sizes[i]!, sizes[i + 1]!]).mul(0.05)).requiresGrad_());
    params.push(rt.zeros([sizes[i + 1]!], { requiresGrad: true }));
  }
  const input = rt.randn([BATCH, 784]);
  const target = rt.randn([BATCH, 10]);
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
function nablaScalar(rt: Runtime): NablaCase {
  const x0 = rt.tensor(0.3);
  const w = rt.tensor(0.5, { requiresGrad: true });
  const b = rt.tensor(0.1, { requiresGrad: true });
  const chain = (): Tensor => {
    let y = x0;
    for (let i = 0; i < SCALAR; i++) y = y.mul(w).add(b).tanh();
    return y;
  };
  const x1 = rt.tensor(0.3, { requiresGrad: true });
  const chainU = (): Tensor => {
    let y = x1;
    for (let i = 0; i < SCALAR; i++) y = y.mul(0.5).add(0.1).tanh();
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

function nablaSilu2(rt: Runtime): NablaCase {
  const x2 = rt.randn([SILU2], { requiresGrad: true });
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


type Row = CpuRow<Key>;

/** The columns, in table order. PyTorch and tfjs are the peers. */
const TORCH_1T = 'PyTorch 1t';
const TORCH_2T = 'PyTorch 2t';
const TFJS = 'tfjs-wasm';
const JS = 'Nabla JS (before)';
const WASM_1T = 'Nabla wasm 1t';

/**
 * A group of rows that share their set-up: the served PyTorch case, the tfjs case and the Nabla
 * case per runtime; each row names the step every column times for it (none: not measured there).
 */
interface Group {
  torch?: Omit<ServedCase, 'threads'>;
  tf?: () => TfCase<string> & { values?: (xs: Float32Array) => Float32Array; hv?: () => Float32Array[] };
  nabla: (rt: Runtime) => NablaCase;
  rows: { key: Key; torch?: string; tf?: string; nabla: string }[];
  /** How long its rows measure, when not `ROW_TIMING`. */
  timing?: typeof ROW_TIMING;
}

export async function cpuSuite(): Promise<void> {
  [MATMUL, SILU, SCALAR, SILU2] = bench.quick ? [256, 256, 333, 1 << 14] : [1024, 1000, 3333, 1 << 20];
  const torch: TorchServer | { missing: string } = await startTorchServer();
  const rtJs = await createRuntime({ plugins: [cpuBackend({ wasm: false }), act.activations()] });
  const rtWasm = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
  const rtThreads = await createRuntime({ plugins: [cpuBackend({ threads: 'auto' }), act.activations()] });
  try {
    await measureAll(torch, rtJs, rtWasm, rtThreads);
  } finally {
    if ('close' in torch) torch.close();
    await rtWasm.dispose();
    await rtThreads.dispose();
    await rtJs.dispose();
  }
}

async function measureAll(torch: TorchServer | { missing: string }, rtJs: Runtime, rtWasm: Runtime, rtThreads: Runtime): Promise<void> {
  const nThreads = (rtThreads.backend('cpu') as unknown as CpuBackend).info.threads;
  const nt = `Nabla wasm ${nThreads}t`;
  const sides: { impl: string; rt: Runtime }[] = [
    { impl: JS, rt: rtJs },
    { impl: WASM_1T, rt: rtWasm },
    { impl: nt, rt: rtThreads },
  ];
  const tfOk = await tfWasmReady();
  const tfNote = tfOk ? tfWasmInfo() : 'TensorFlow.js wasm: not measured';
  const ref = hvpReference(rtJs);

  const ROWS: Row[] = [
    { name: `matmul ${MATMUL}² float32`, unit: 'GFLOP/s', key: 'matmulGflops', higherBetter: true },
    { name: `SiLU ${SILU}² fused, forward`, unit: 'ms', key: 'siluFwd', higherBetter: false },
    { name: `SiLU ${SILU}² fused, forward+backward`, unit: 'ms', key: 'siluFb', higherBetter: false },
    { name: `MLP 784-256-256-10 b${BATCH} SGD step`, unit: 'ms', key: 'mlp', higherBetter: false },
    { name: `scalar graph tanh(x·w+b) ×${SCALAR}, forward`, unit: 'µs/op', key: 'scalarFwd', higherBetter: false },
    { name: `scalar graph tanh(x·w+b) ×${SCALAR}, backward`, unit: 'µs/op', key: 'scalarBwd', higherBetter: false },
    { name: `same chain, no shared leaves (x·0.5+0.1), backward`, unit: 'µs/op', key: 'scalarBwdUnshared', higherBetter: false },
    { name: `SiLU'' on ${SILU2} (double backward)`, unit: 'ms', key: 'silu2', higherBetter: false, check: 'silu2Err' },
    { name: 'Hessian-vector product, tanh MLP', unit: 'ms', key: 'hvp', higherBetter: false, check: 'hvpErr' },
  ];
  const torchName = 'version' in torch ? `PyTorch ${torch.version} (${torch.blas})` : 'PyTorch';
  bench.table('cpu', {
    title: `CPU: Nabla (JavaScript kernels = before; wasm SIMD on 1 and ${nThreads} threads = after) vs ${torchName} and TensorFlow.js wasm`,
    description:
      "Issue 12's rows, one run, every row measured in rounds interleaved across the columns. Second-order results more than 1e-3 (relative to their largest entry) off the reference are marked wrong. " +
      'Goal column: each goal names the Nabla column it is judged on and reads this run\'s medians' +
      (bench.quick ? '; --quick sizes are smaller than the goals are set for, so its verdicts are indications only, and the absolute goals are left out.' : '.'),
    against: [TFJS, TORCH_1T, TORCH_2T, JS],
    goals: cpuGoals(ROWS, nt, bench.quick),
    wide: {
      ratios: [
        [WASM_1T, TFJS],
        [nt, TFJS],
        [WASM_1T, TORCH_1T],
        [nt, TORCH_2T],
        [WASM_1T, JS],
      ],
    },
  });

  const groups: Group[] = [
    { torch: { kind: 'matmul', arg: MATMUL }, tf: () => tfwMatmul(MATMUL), nabla: nablaMatmul, rows: [{ key: 'matmulGflops', torch: 'ms', tf: 'ms', nabla: 'ms' }] },
    {
      torch: { kind: 'silu', arg: SILU },
      tf: () => tfwSilu(SILU),
      nabla: nablaSilu,
      rows: [
        { key: 'siluFwd', torch: 'fwd_ms', tf: 'fwd', nabla: 'fwd' },
        { key: 'siluFb', torch: 'fb_ms', tf: 'fb', nabla: 'fb' },
      ],
    },
    { torch: { kind: 'mlp3', arg: BATCH }, tf: () => tfwMlp(BATCH), nabla: nablaMlp, rows: [{ key: 'mlp', torch: 'ms', tf: 'ms', nabla: 'ms' }] },
    {
      torch: { kind: 'scalar', arg: SCALAR },
      tf: () => tfwScalar(SCALAR),
      nabla: nablaScalar,
      rows: [
        { key: 'scalarFwd', torch: 'fwd', tf: 'fwd', nabla: 'fwd' },
        // tfjs: forward+backward, less its forward's median (below).
        { key: 'scalarBwd', torch: 'bwd', tf: 'fb', nabla: 'bwd' },
        { key: 'scalarBwdUnshared', nabla: 'bwdUnshared' },
      ],
      // Each sample allocates ~14 MB, so a scavenge lands in every second one or so, at a point
      // that differs from sample to sample: more samples than the other rows, for a steady median.
      timing: SCALAR_TIMING,
    },
    { torch: { kind: 'silu2', arg: SILU2 }, tf: () => tfwSilu2(SILU2), nabla: nablaSilu2, rows: [{ key: 'silu2', torch: 'ms', tf: 'ms', nabla: 'ms' }] },
    { torch: { kind: 'hvp', arg: HVP_BATCH }, tf: () => tfwHvp(HVP_INIT), nabla: (rt) => nablaHvp(rt, ref), rows: [{ key: 'hvp', torch: 'ms', tf: 'ms', nabla: 'ms' }] },
  ];

  // Per row and column, the wall ms of every sample (tfjs's scalar backward needs its forward's).
  const wallMs = new Map<string, number[]>();
  const checks: Record<string, Partial<Record<string, number>>> = { silu2Err: {}, hvpErr: {} };
  const toUnit = (key: Key, ms: number): number =>
    key === 'matmulGflops' ? (2 * MATMUL ** 3) / ms / 1e6 : key.startsWith('scalar') ? (ms * 1000) / (3 * SCALAR) : ms;

  for (const g of groups) {
    // Set up on every column (untimed); a column that fails to set up is left out with its reason.
    const failed = new Map<string, unknown>();
    const contenders = new Map<string, (step: string) => Contender>();
    if (g.torch && 'setup' in torch) {
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
    const tf = g.tf && tfOk ? g.tf() : null;
    if (tf) contenders.set(TFJS, (step) => localContender(TFJS, tf.steps[step]!));
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

    for (const r of g.rows) {
      const row = ROWS.find((x) => x.key === r.key)!;
      const stepOf = (impl: string): string | undefined => (impl === TORCH_1T || impl === TORCH_2T ? r.torch : impl === TFJS ? r.tf : r.nabla);
      const order = [TORCH_1T, TORCH_2T, TFJS, JS, WASM_1T, nt].filter((impl) => stepOf(impl) !== undefined && (contenders.has(impl) || failed.has(impl)));
      // A clean heap for every row: the previous row's garbage and finalizers are not this one's.
      collectGarbage();
      await yieldToEventLoop();
      const measured = await interleave(
        order.filter((impl) => contenders.has(impl)).map((impl) => contenders.get(impl)!(stepOf(impl)!)),
        g.timing ?? ROW_TIMING,
      );
      for (const impl of order) {
        const m: Measured = measured.get(impl) ?? { samples: [], cpuMs: [], error: failed.get(impl) };
        const peer = impl === TORCH_1T || impl === TORCH_2T || impl === TFJS;
        const input = { table: 'cpu', workload: row.name, impl, peer, ...(peer ? {} : { device: 'cpu' }), unit: row.unit, better: row.higherBetter ? 'higher' : 'lower' } as const;
        if (m.error !== undefined) {
          bench.missing(input, m.error);
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
          if (err !== undefined) checks[row.check]![impl] = err;
          // A second-order result more than 1e-3 (relative to its largest entry) off the reference is wrong.
          if (err !== undefined && !(err <= 1e-3)) note = `wrong: max rel. error ${err.toExponential(1)}`;
        }
        bench.record({ ...input, samples: ms.map((v) => toUnit(r.key, v)), cpuPerWall: m.samples.map((v, i) => m.cpuMs[i]! / v), ...(note ? { note } : {}) });
      }
    }
    tf?.dispose();
    for (const n of nab.values()) n.dispose();
  }

  const note = (line: string): void => bench.note(line);
  note(`${tfNote}; ${'version' in torch ? 'PyTorch threads as labelled, served by one Python process' : torch.missing}`);
  note(`Nabla: ${rtWasm.backend('cpu').describe()}; threads: ${rtThreads.backend('cpu').describe()} (threads split GEMMs of 2^20 multiply-adds or more, large transcendental elementwise rows, and cheaper rows whose operands all live in the wasm heap; reductions and small ops stay on the calling thread); JS: ${rtJs.backend('cpu').describe()}`);
  const e = (v: number | undefined): string => (v === undefined ? '—' : v.toExponential(1));
  note(`second-order checks (max relative error): SiLU'' vs closed form: wasm ${e(checks.silu2Err![WASM_1T])}, JS ${e(checks.silu2Err![JS])}, tfjs ${e(checks.silu2Err![TFJS])}; HVP vs float64: wasm ${e(checks.hvpErr![WASM_1T])}, JS ${e(checks.hvpErr![JS])}, tfjs ${e(checks.hvpErr![TFJS])}`);
  note(
    `method: every row in ${bench.quick ? '1 round' : 'rounds'} interleaved across the columns (order rotating), after a full GC; backward rows time .backward() alone on a graph built untimed (PyTorch and Nabla; tfjs records its tape inside the gradient call, so its backward is its forward+backward less its forward's median)`,
  );
}

/** How long each row measures: at least `runs` samples and `minMs` per cell, over the rounds. */
const ROW_TIMING = { warmup: 3, runs: 10, minMs: 1000, rounds: 5 };
const SCALAR_TIMING = { warmup: 3, runs: 20, minMs: 2000, rounds: 5 };

function tfCheck(check: 'silu2Err' | 'hvpErr', tf: ReturnType<NonNullable<Group['tf']>> | null, ref: Float64Array[]): number | undefined {
  if (tf === null) return undefined;
  if (check === 'silu2Err') return tf.values ? maxRelErr(tf.values(SILU2_PROBE), Array.from(SILU2_PROBE, silu2Exact)) : undefined;
  return tf.hv ? Math.max(...tf.hv().map((h, i) => maxRelErr(h, ref[i]!))) : undefined;
}
