/**
 * Conformance at the sizes where the CPU backend runs WebAssembly: the recorded cases are all
 * below every wasm threshold (48 elements at most), so these programs (fixtures/gen_wasm_sizes.py,
 * PyTorch 1.13, float32 and float64) use tensors past them — generated elementwise kernels (260+
 * elements, the fused SiLU and its double backward), wasm row folds and softmax rows (70),
 * the SIMD GEMM (12,000 multiply-adds) and the threaded GEMM (an MLP whose first layer is 4.2 million).
 * Each runs on three CPU backends — WebAssembly off, on with one thread, on with two — and must
 * match PyTorch on all three.
 */
import { readFileSync } from 'node:fs';
import * as act from '@nabla/activations';
import { CpuBackend, cpuBackend } from '@nabla/backend-cpu';
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';

type DT = 'float32' | 'float64';
interface Output {
  shape: number[];
  data: number[];
}
interface Fixture {
  format: string;
  cases: { program: string; dtype: DT; outputs: Record<string, Output> }[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/wasm-sizes.json', import.meta.url), 'utf8')) as Fixture;

/** The generator's inputs: exact in float64 on both sides, then rounded to the dtype. */
function val(rt: Runtime, shape: number[], seed: number, dtype: DT, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = (((i * 7919 + seed * 104729) % 2003) / 1001.5 - 1.0) * scale;
  return rt.tensor(dtype === 'float32' ? Float32Array.from(d) : d, { dtype }).reshape(shape);
}
const leaf = (rt: Runtime, shape: number[], seed: number, dtype: DT, scale = 1): Tensor => val(rt, shape, seed, dtype, scale).requiresGrad_();
const grads = (y: Tensor, xs: Tensor[]): Tensor[] => autograd.grad(y, xs) as Tensor[];

/** The programs of gen_wasm_sizes.py, one for one. */
const PROGRAMS: Record<string, (rt: Runtime, dt: DT) => Record<string, Tensor>> = {
  activations(rt, dt) {
    const x = leaf(rt, [260], 1, dt, 4);
    const y = act.silu(x);
    const [g] = grads(y.sum(), [x]);
    const [g2] = grads(x.tanh().mul(x.sigmoid()).sum(), [x]);
    return { silu: y, siluGrad: g!, tanh: x.tanh(), sigmoid: x.sigmoid(), exp: x.exp(), logAbs: x.abs().add(0.5).log(), tanhSigmoidGrad: g2! };
  },
  broadcast(rt, dt) {
    const [a, b, c] = [leaf(rt, [20, 40], 2, dt), leaf(rt, [40], 3, dt), leaf(rt, [20, 1], 4, dt)];
    const y = a.add(b).mul(c).div(b.abs().add(0.5));
    const [ga, gb, gc] = grads(y.mul(y).sum(), [a, b, c]);
    return { y, gradA: ga!, gradB: gb!, gradC: gc! };
  },
  reductions(rt, dt) {
    const x = leaf(rt, [6, 70], 5, dt, 3);
    const [g] = grads(x.amax(1).sum().add(x.logsumexp(1).sum()).add(x.mean()), [x]);
    return { sum1: x.sum(1), mean1: x.mean(1), amax1: x.amax(1), amin1: x.amin(1), logsumexp1: x.logsumexp(1), sumAll: x.sum(), grad: g! };
  },
  softmax(rt, dt) {
    const x = leaf(rt, [4, 70], 6, dt, 3);
    const w = val(rt, [4, 70], 7, dt);
    const s = x.softmax(1);
    const ls = x.logSoftmax(1);
    const [g] = grads(s.mul(w).sum().add(ls.mul(w).sum()), [x]);
    return { softmax: s, logSoftmax: ls, grad: g! };
  },
  matmul(rt, dt) {
    const [a, b] = [leaf(rt, [20, 30], 8, dt), leaf(rt, [30, 20], 9, dt)];
    const y = a.matmul(b);
    const [ga] = grads(y.mul(y).sum(), [a]);
    return { y, gradA: ga! };
  },
  mlp(rt, dt) {
    const [x, t] = [val(rt, [128, 256], 10, dt), val(rt, [128, 10], 11, dt)];
    const [w1, b1, w2] = [leaf(rt, [256, 128], 12, dt, 0.1), leaf(rt, [128], 13, dt, 0.1), leaf(rt, [128, 10], 14, dt, 0.1)];
    const loss = x.matmul(w1).add(b1).tanh().matmul(w2).sub(t).pow(2).mean();
    const [gw1, gb1, gw2] = grads(loss, [w1, b1, w2]);
    return { loss, gradW1RowSums: gw1!.sum(1), gradW1ColSums: gw1!.sum(0), gradB1: gb1!, gradW2: gw2! };
  },
  silu2(rt, dt) {
    const x = leaf(rt, [260], 15, dt, 4);
    const [g] = autograd.grad(act.silu(x).sum(), x, { createGraph: true });
    const [gg] = grads(g!.sum(), [x]);
    return { siluGradGrad: gg! };
  },
};

/** As gen.py's tolerances: float64 tight, float32 as PyTorch's own float32 strays. Absolute parts scale with the output's largest entry. */
const TOL = { float64: { rtol: 1e-9, atol: 1e-12 }, float32: { rtol: 1e-4, atol: 1e-5 } } as const;

// Where the engine has relaxed SIMD (Chrome 114+, Node 22+; Node 20 under the flag vitest.config.ts
// runs this file with), the products run the FMA micro-kernel too: both kernels must match PyTorch.
const fma = new CpuBackend().info.fma;
const setups = [
  { name: 'wasm off', plugin: () => cpuBackend({ wasm: false }), describe: /JavaScript, 1 thread/ },
  { name: 'wasm, 1 thread', plugin: () => cpuBackend({ fma: false }), describe: /WebAssembly SIMD \+ JavaScript, 1 thread/ },
  { name: 'wasm, 2 threads', plugin: () => cpuBackend({ threads: 2, fma: false }), describe: /WebAssembly SIMD \+ JavaScript, 2 threads/ },
  ...(fma
    ? [
        { name: 'wasm with relaxed-SIMD FMA, 1 thread', plugin: () => cpuBackend(), describe: /WebAssembly SIMD \(FMA\) \+ JavaScript, 1 thread/ },
        { name: 'wasm with relaxed-SIMD FMA, 2 threads', plugin: () => cpuBackend({ threads: 2 }), describe: /WebAssembly SIMD \(FMA\) \+ JavaScript, 2 threads/ },
      ]
    : []),
];
const runtimes = await Promise.all(setups.map((s) => createRuntime({ plugins: [s.plugin(), act.activations()] })));
afterAll(async () => {
  for (const rt of runtimes) await rt.dispose();
});

describe('PyTorch conformance at the sizes where the CPU runs WebAssembly', () => {
  it('covers every program of the fixture, in both dtypes', () => {
    expect(fixture.format).toBe('nabla-wasm-sizes/1');
    expect(new Set(fixture.cases.map((c) => c.program))).toEqual(new Set(Object.keys(PROGRAMS)));
    expect(fixture.cases).toHaveLength(2 * Object.keys(PROGRAMS).length);
  });

  setups.forEach((setup, k) => {
    it(`${setup.name}: every program matches PyTorch`, () => {
      const rt = runtimes[k]!;
      expect(rt.backend('cpu').describe()).toMatch(setup.describe);
      const failures: string[] = [];
      for (const c of fixture.cases) {
        rt.tidy(() => {
          const got = PROGRAMS[c.program]!(rt, c.dtype);
          for (const [name, want] of Object.entries(c.outputs)) {
            const t = got[name]!;
            const what = `${c.program} ${c.dtype} ${name}`;
            if (JSON.stringify(t.shape) !== JSON.stringify(want.shape)) {
              failures.push(`${what}: shape [${t.shape}] vs [${want.shape}]`);
              continue;
            }
            const g = t.dataSync();
            const { rtol, atol } = TOL[c.dtype];
            const scale = Math.max(1, ...want.data.map(Math.abs));
            let worst = -1;
            let excess = 0;
            for (let i = 0; i < want.data.length; i++) {
              const e = Math.abs(g[i]! - want.data[i]!) - (atol * scale + rtol * Math.abs(want.data[i]!));
              if (!(e <= excess)) {
                excess = Number.isNaN(e) ? Infinity : e;
                worst = i;
              }
            }
            if (worst >= 0) failures.push(`${what}[${worst}]: ${g[worst]} vs PyTorch ${want.data[worst]}`);
          }
        });
      }
      expect(failures).toEqual([]);
    });
  });

  it('the two-thread backends split the MLP product across their threads', () => {
    for (const k of [2, ...(fma ? [4] : [])]) {
      const be = runtimes[k]!.backend('cpu') as unknown as { wasm: { pool: { jobs: number } | null } | null };
      expect(be.wasm?.pool?.jobs ?? 0, setups[k]!.name).toBeGreaterThan(0);
    }
  });
});
