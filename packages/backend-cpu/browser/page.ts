/**
 * The browser side of `test/browser.test.ts`: runs the wasm kernels in the page (main thread,
 * no cross-origin isolation) against the JavaScript kernels, and reports what it found.
 */
import { createRuntime, type ElementwiseKernel, type ElementwiseSpec, type Expr } from '@nabla/core';
import { CpuBackend } from '../src/backend.js';
import { cpuBackend } from '../src/plugin.js';
import { CpuStorage } from '../src/storage.js';
import { wasmElementwise } from '../src/wasm/elementwise.js';
import { WasmRuntime } from '../src/wasm/runtime.js';

export interface PageReport {
  describe: string;
  info: { kernels: string; fma: boolean; threads: number };
  crossOriginIsolated: boolean;
  /** max |wasm - js| / (1 + |js|) of a 300×200 · 200×100 float32 product */
  matmulErr: number;
  /** the wasm memory grew (the GEMM packed its operands there) */
  heapBytes: number;
  /** per op: max ulp distance between the SIMD kernel (no fallback allowed) and the JS kernel */
  ulps: Record<string, number>;
  /** a 2-thread request in a page without cross-origin isolation */
  threadsDescribe: string;
}

function ulp(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  const key = (i: number): number => (i < 0 ? -(i & 0x7fffffff) : i);
  return Math.abs(key(bits[0]!) - key(bits[1]!));
}

async function run(): Promise<PageReport> {
  const rtW = await createRuntime({ plugins: [cpuBackend()] });
  const rtJ = await createRuntime({ plugins: [cpuBackend({ wasm: false })] });
  const be = rtW.backend('cpu') as CpuBackend;
  rtW.manualSeed(3);
  const a = rtW.randn([300, 200]);
  const b = rtW.randn([200, 100]);
  const got = a.matmul(b).dataSync() as Float32Array;
  const want = rtJ.tensor(a.dataSync() as Float32Array).reshape([300, 200]).matmul(rtJ.tensor(b.dataSync() as Float32Array).reshape([200, 100])).dataSync() as Float32Array;
  let matmulErr = 0;
  for (let i = 0; i < want.length; i++) matmulErr = Math.max(matmulErr, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  const heapBytes = be.pooledBytes();

  const wasm = WasmRuntime.create()!;
  const js = new CpuBackend({ wasm: false });
  const n = 5000;
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = -40 + (80 * i) / n;
  xs.set([0, -0, Infinity, -Infinity, NaN, 1e-40], 0);
  const ulps: Record<string, number> = {};
  const x: Expr = { op: 'input', index: 0 };
  const exprs: Record<string, Expr> = {
    exp: { op: 'exp', a: x },
    log: { op: 'log', a: { op: 'abs', a: x } },
    tanh: { op: 'tanh', a: x },
    sigmoid: { op: 'sigmoid', a: x },
    relu: { op: 'relu', a: x },
    mul: { op: 'mul', a: x, b: { op: 'const', value: 3 } },
    where: { op: 'where', cond: { op: 'gt', a: x, b: { op: 'const', value: 0 } }, a: x, b: { op: 'neg', a: x } },
  };
  const view = (s: CpuStorage) => ({ storage: s, dtype: 'float32' as const, shape: [n], strides: [1], offset: 0 });
  for (const [name, expr] of Object.entries(exprs)) {
    const spec: ElementwiseSpec = { name, expr, inputDtypes: ['float32'], outDtype: 'float32', computeDtype: 'float32', numParams: 0, key: `page:${name}` };
    const fail: ElementwiseKernel = () => {
      throw new Error(`${name}: the JavaScript fallback ran in the browser`);
    };
    const oW = new CpuStorage('float32', n, new Float32Array(n));
    const oJ = new CpuStorage('float32', n, new Float32Array(n));
    const xin = new CpuStorage('float32', n, xs.slice());
    wasmElementwise(wasm, spec, fail)(view(oW), [view(xin)], []);
    js.compileElementwise(spec)(view(oJ), [view(xin)], []);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, ulp(oW.data[i]!, oJ.data[i]!));
    ulps[name] = worst;
  }
  const threaded = new CpuBackend({ threads: 2 });
  await threaded.init();
  const report: PageReport = {
    describe: be.describe(),
    info: be.info,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    matmulErr,
    heapBytes,
    ulps,
    threadsDescribe: threaded.describe(),
  };
  await threaded.dispose();
  await rtW.dispose();
  await rtJ.dispose();
  return report;
}

(globalThis as unknown as { __nablaCpu: () => Promise<PageReport> }).__nablaCpu = run;
