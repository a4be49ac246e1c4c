/**
 * The CPU backend against PyTorch (1 and 2 threads) and TensorFlow.js's WebAssembly backend, the
 * rows of issue 12, all measured in this one run: matmul 1024², fused SiLU on 1000², a
 * 784-256-256-10 MLP step, a scalar graph tanh(x·w+b), SiLU'' on 2^20 by double backward and a
 * Hessian-vector product through a tanh MLP. Nabla runs twice: with its WebAssembly SIMD kernels
 * (the default) and with them off (`cpuBackend({ wasm: false })`, the JavaScript kernels), so the
 * table shows before and after side by side. Second-order results are checked: against the closed
 * form for SiLU'', against Nabla's own float64 result for the HVP.
 */
import * as act from '@nabla/activations';
import { cpuBackend, type CpuBackend } from '@nabla/backend-cpu';
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { runTorch, torchSamples, type TorchCase, type TorchResults } from '../peers/pytorch.js';
import { tfWasmInfo, tfWasmReady, tfwHvp, tfwMatmul, tfwMlp, tfwScalar, tfwSilu, tfwSilu2 } from '../peers/tfjs-wasm.js';
import { bench } from '../report/recorder.js';
import { cpuGoals, type CpuRow } from './cpu-goals.js';
import { median } from '../stats.js';
import { time } from '../timing.js';

// Sizes of a full run; cpuSuite shrinks the first ones for --quick (the HVP is small already).
let MATMUL = 1024;
let SILU = 1000;
const BATCH = 64;
let SCALAR = 3333;
let SILU2 = 1 << 20;
const HVP_BATCH = 64;

/** `scalarBwdUnshared`: the same chain with JS-number constants instead of the two shared leaves. */
type Key = 'matmulGflops' | 'siluFwd' | 'siluFb' | 'mlp' | 'scalarFwd' | 'scalarBwd' | 'scalarBwdUnshared' | 'silu2' | 'hvp';

/** Every timed sample of each workload (in its row's unit), and the second-order checks' errors. */
type Numbers = Record<Key, number[]> & { silu2Err: number; hvpErr: number };

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

async function nabla(rt: Runtime, hvpRef: Float64Array[] | null): Promise<{ n: Numbers; hv: Float64Array[] }> {
  // matmul
  const a = rt.randn([MATMUL, MATMUL]);
  const b = rt.randn([MATMUL, MATMUL]);
  const mm = await time(() => a.matmul(b).dispose(), { runs: 3, minMs: 200 });
  a.dispose();
  b.dispose();

  // fused SiLU
  const x = rt.randn([SILU, SILU], { requiresGrad: true });
  const siluFwd = await time(() => rt.noGrad(() => act.silu(x)).dispose());
  const siluFb = await time(() => {
    const y = act.silu(x);
    const ones = rt.onesLike(y);
    y.backward(ones);
    x.grad!.dispose();
    x.grad = null;
    ones.dispose();
    y.dispose();
  });
  x.dispose();

  // MLP step
  rt.manualSeed(0);
  const sizes = [784, 256, 256, 10];
  const params: Tensor[] = [];
  for (let i = 0; i < 3; i++) {
    params.push(rt.tidy(() => rt.randn([sizes[i]!, sizes[i + 1]!]).mul(0.05)).requiresGrad_());
    params.push(rt.zeros([sizes[i + 1]!], { requiresGrad: true }));
  }
  const input = rt.randn([BATCH, 784]);
  const target = rt.randn([BATCH, 10]);
  const mlp = await time(() =>
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
    }),
  );
  for (const t of [...params, input, target]) t.dispose();

  // scalar graph with shared leaves
  const x0 = rt.tensor(0.3);
  const w = rt.tensor(0.5, { requiresGrad: true });
  const bb = rt.tensor(0.1, { requiresGrad: true });
  const chain = (): Tensor => {
    let y = x0;
    for (let i = 0; i < SCALAR; i++) y = y.mul(w).add(bb).tanh();
    return y;
  };
  const sf = await time(chain);
  const sfb = await time(() => {
    chain().backward();
    w.grad = null;
    bb.grad = null;
  });
  // Without shared leaves: nothing meets at a node, so the difference to the row above is what
  // summing 3,333 contributions into each of w and b costs.
  const x1 = rt.tensor(0.3, { requiresGrad: true });
  const chainU = (): Tensor => {
    let y = x1;
    for (let i = 0; i < SCALAR; i++) y = y.mul(0.5).add(0.1).tanh();
    return y;
  };
  const uf = await time(chainU);
  const ufb = await time(() => {
    chainU().backward();
    x1.grad = null;
  });

  // SiLU'' by double backward
  const x2 = rt.randn([SILU2], { requiresGrad: true });
  const silu2Of = (v: Tensor): Tensor =>
    rt.tidy(() => {
      const [g] = autograd.grad(act.silu(v).sum(), v, { createGraph: true });
      return autograd.grad(g!.sum(), v)[0]!;
    });
  const silu2 = await time(() => silu2Of(x2).dispose());
  x2.dispose();
  const probe = rt.tensor(SILU2_PROBE, { requiresGrad: true });
  const probeOut = silu2Of(probe);
  const silu2Err = maxRelErr(probeOut.dataSync() as Float32Array, Array.from(SILU2_PROBE, silu2Exact));
  probe.dispose();
  probeOut.dispose();

  // HVP through a tanh MLP (v = ones)
  const hvpRun = (dtype: 'float32' | 'float64'): { hv: Tensor[]; free: () => void } => {
    const ps = [
      rt.tensor(HVP_INIT.w1, { dtype }).reshape([256, 256]).requiresGrad_(),
      rt.zeros([256], { dtype, requiresGrad: true }),
      rt.tensor(HVP_INIT.w2, { dtype }).reshape([256, 10]).requiresGrad_(),
      rt.zeros([10], { dtype, requiresGrad: true }),
    ];
    const hx = rt.tensor(HVP_INIT.x, { dtype }).reshape([HVP_BATCH, 256]);
    const ht = rt.tensor(HVP_INIT.t, { dtype }).reshape([HVP_BATCH, 10]);
    const hv = rt.tidy(() => {
      const loss = hx.matmul(ps[0]!).add(ps[1]!).tanh().matmul(ps[2]!).add(ps[3]!).sub(ht).square().mean();
      const gs = autograd.grad(loss, ps, { createGraph: true });
      let dot = gs[0]!.sum();
      for (let i = 1; i < gs.length; i++) dot = dot.add(gs[i]!.sum());
      return autograd.grad(dot, ps) as Tensor[];
    });
    return { hv, free: () => [...ps, hx, ht].forEach((t) => t.dispose()) };
  };
  const hvp = await time(() => {
    const r = hvpRun('float32');
    r.hv.forEach((t) => t.dispose());
    r.free();
  });
  const r32 = hvpRun('float32');
  const hv32 = r32.hv.map((t) => Float64Array.from(t.dataSync() as Float32Array));
  r32.hv.forEach((t) => t.dispose());
  r32.free();
  let hvpErr = NaN;
  if (hvpRef !== null) hvpErr = Math.max(...hv32.map((h, i) => maxRelErr(h, hvpRef[i]!)));
  return {
    n: {
      matmulGflops: mm.samples.map((ms) => (2 * MATMUL ** 3) / ms / 1e6),
      siluFwd: siluFwd.samples,
      siluFb: siluFb.samples,
      mlp: mlp.samples,
      scalarFwd: sf.samples.map((ms) => (ms * 1000) / (3 * SCALAR)),
      scalarBwd: sfb.samples.map((ms) => ((ms - sf.ms) * 1000) / (3 * SCALAR)),
      scalarBwdUnshared: ufb.samples.map((ms) => ((ms - uf.ms) * 1000) / (3 * SCALAR)),
      silu2: silu2.samples,
      silu2Err,
      hvp: hvp.samples,
      hvpErr,
    },
    hv: hv32,
  };
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

function torchRows(torch: TorchResults | { missing: string }, threads: number): Partial<Numbers> | null {
  if (!('results' in torch)) return null;
  const r = (k: string, field = 'ms'): number[] | undefined => torchSamples(torch, `${k}:${threads}`, field) ?? undefined;
  const out: Partial<Numbers> = {
    matmulGflops: r(`matmul:${MATMUL}`)?.map((ms) => (2 * MATMUL ** 3) / ms / 1e6),
    siluFwd: r(`silu:${SILU}`, 'fwd_ms'),
    siluFb: r(`silu:${SILU}`, 'fb_ms'),
    mlp: r(`mlp3:${BATCH}`),
    scalarFwd: r(`scalar:${SCALAR}`, 'forward_us_per_op'),
    scalarBwd: r(`scalar:${SCALAR}`, 'backward_us_per_op'),
    silu2: r(`silu2:${SILU2}`),
    hvp: r(`hvp:${HVP_BATCH}`),
  };
  return out;
}

type Row = CpuRow<Key>;

export async function cpuSuite(): Promise<Record<string, number>> {
  [MATMUL, SILU, SCALAR, SILU2] = bench.quick ? [256, 256, 333, 1 << 14] : [1024, 1000, 3333, 1 << 20];
  const cases: TorchCase[] = [];
  for (const threads of [1, 2]) {
    cases.push(
      { kind: 'matmul', arg: MATMUL, threads },
      { kind: 'silu', arg: SILU, threads },
      { kind: 'mlp3', arg: BATCH, threads },
      { kind: 'scalar', arg: SCALAR, threads },
      { kind: 'silu2', arg: SILU2, threads },
      { kind: 'hvp', arg: HVP_BATCH, threads },
    );
  }
  const torch = runTorch(cases);
  const t1 = torchRows(torch, 1);
  const t2 = torchRows(torch, 2);

  const rtWasm = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
  const rtJs = await createRuntime({ plugins: [cpuBackend({ wasm: false }), act.activations()] });
  const rtThreads = await createRuntime({ plugins: [cpuBackend({ threads: 'auto' }), act.activations()] });
  const ref = hvpReference(rtJs);
  const w = await nabla(rtWasm, ref);
  const wt = await nabla(rtThreads, ref);
  const j = await nabla(rtJs, ref);
  const nThreads = (rtThreads.backend('cpu') as unknown as CpuBackend).info.threads;

  let tf: Partial<Numbers> | null = null;
  let tfNote = 'TensorFlow.js wasm: not measured';
  if (await tfWasmReady()) {
    tfNote = tfWasmInfo();
    const silu = await tfwSilu(SILU);
    const scalar = await tfwScalar(SCALAR);
    const silu2 = await tfwSilu2(SILU2, SILU2_PROBE);
    const hvp = await tfwHvp(HVP_INIT);
    tf = {
      matmulGflops: (await tfwMatmul(MATMUL)).samples.map((ms) => (2 * MATMUL ** 3) / ms / 1e6),
      siluFwd: silu.fwd.samples,
      siluFb: silu.fb.samples,
      mlp: (await tfwMlp(BATCH)).samples,
      scalarFwd: scalar.forwardUs,
      scalarBwd: scalar.backwardUs,
      silu2: silu2.time.samples,
      silu2Err: maxRelErr(silu2.values, Array.from(SILU2_PROBE, silu2Exact)),
      hvp: hvp.time.samples,
      hvpErr: Math.max(...hvp.hv.map((h, i) => maxRelErr(h, ref[i]!))),
    };
  }

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
  const torchName = 'results' in torch ? `PyTorch ${torch.version} (${torch.blas})` : 'PyTorch';
  const nt = `Nabla wasm ${nThreads}t`;
  bench.table('cpu', {
    title: `CPU: Nabla (JavaScript kernels = before; wasm SIMD on 1 and ${nThreads} threads = after) vs ${torchName} and TensorFlow.js wasm`,
    description:
      "Issue 12's rows, one run. Second-order results more than 1e-3 (relative to their largest entry) off the reference are marked wrong. " +
      `Goal column: issue 12's goals, judged on ${nt} (threads 'auto') from this run's medians, except the single-threaded matmul goal (Nabla wasm 1t)` +
      (bench.quick ? '; --quick sizes are smaller than the goals are set for, so its verdicts are indications only, and the absolute (ms) goals are left out.' : '.'),
    against: ['tfjs-wasm', 'PyTorch 1t', 'PyTorch 2t', 'Nabla JS (before)'],
    goals: cpuGoals(ROWS, nt, bench.quick),
    wide: {
      ratios: [
        ['Nabla wasm 1t', 'tfjs-wasm'],
        [nt, 'tfjs-wasm'],
        ['Nabla wasm 1t', 'PyTorch 1t'],
        [nt, 'PyTorch 2t'],
        ['Nabla wasm 1t', 'Nabla JS (before)'],
      ],
    },
  });
  const impls: { impl: string; n: Partial<Numbers> | null; peer: boolean }[] = [
    { impl: 'PyTorch 1t', n: t1, peer: true },
    { impl: 'PyTorch 2t', n: t2, peer: true },
    { impl: 'tfjs-wasm', n: tf, peer: true },
    { impl: 'Nabla JS (before)', n: j.n, peer: false },
    { impl: 'Nabla wasm 1t', n: w.n, peer: false },
    { impl: nt, n: wt.n, peer: false },
  ];
  const out: Record<string, number> = {};
  for (const r of ROWS) {
    out[r.key] = median(w.n[r.key]);
    out[`${r.key}Threads`] = median(wt.n[r.key]);
    for (const { impl, n, peer } of impls) {
      const samples = n?.[r.key];
      if (!samples || samples.length === 0) continue;
      const err = r.check !== undefined ? n?.[r.check] : undefined;
      // A second-order result more than 1e-3 (relative to its largest entry) off the reference is wrong.
      const wrong = err !== undefined && !(err <= 1e-3);
      bench.record({ table: 'cpu', workload: r.name, impl, peer, ...(peer ? {} : { device: 'cpu' }), unit: r.unit, better: r.higherBetter ? 'higher' : 'lower', samples, ...(wrong ? { note: `wrong: max rel. error ${err.toExponential(1)}` } : {}) });
    }
  }
  const note = (line: string): void => bench.note(line);
  note(`${tfNote}; ${'results' in torch ? `PyTorch threads as labelled` : torch.missing}`);
  note(`Nabla wasm: ${rtWasm.backend('cpu').describe()}; threads: ${rtThreads.backend('cpu').describe()} (threads split GEMMs of 2^20 multiply-adds or more and large transcendental elementwise rows; reductions, copies and small ops stay on the calling thread); JS: ${rtJs.backend('cpu').describe()}`);
  note(`second-order checks (max relative error): SiLU'' vs closed form: wasm ${w.n.silu2Err.toExponential(1)}, JS ${j.n.silu2Err.toExponential(1)}${tf ? `, tfjs ${tf.silu2Err!.toExponential(1)}` : ''}; HVP vs float64: wasm ${w.n.hvpErr.toExponential(1)}, JS ${j.n.hvpErr.toExponential(1)}${tf ? `, tfjs ${tf.hvpErr!.toExponential(1)}` : ''}`);
  await rtWasm.dispose();
  await rtThreads.dispose();
  await rtJs.dispose();
  return out;
}
