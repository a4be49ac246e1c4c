/**
 * The browser side of `test/browser-isolated.test.ts`, loaded once in a cross-origin-isolated page
 * (COOP/COEP headers: SharedArrayBuffer exists) and once in a plain one. It runs the wasm kernels on
 * the memory a threaded backend uses (shared where the page allows it), a whole backend asked for
 * two threads against one thread, and reports what it found.
 */
import { createRuntime, type ElementwiseKernel, type ElementwiseSpec, type View } from '@nabla/core';
import { CpuBackend } from '../src/backend.js';
import { cpuBackend } from '../src/plugin.js';
import { CpuStorage } from '../src/storage.js';
import { wasmElementwise } from '../src/wasm/elementwise.js';
import { bmmWasm } from '../src/wasm/gemm.js';
import { WasmRuntime } from '../src/wasm/runtime.js';
import { seeded } from '../src/test-utils/seeded.js';

export interface IsolatedReport {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  /** WasmRuntime.create(true) gave a runtime on shared memory (null: the page cannot share). */
  sharedHeap: boolean | null;
  /** max |wasm - js| / (1 + |js|) of a 130×70 · 70×90 float32 GEMM on that memory */
  sharedMatmulErr: number | null;
  /** max |wasm - js| of silu on 5000 float32 on that memory */
  sharedSiluErr: number | null;
  /** a backend created with `threads: 2` */
  threadsInfo: { kernels: string; threads: number; threadsNote?: string };
  threadsDescribe: string;
  /** whether its 256×300 · 300×200 matmul and silu have the same bits as a one-thread backend's */
  threadedSameBits: boolean;
  /** GEMM jobs its worker pool ran (null: it has no pool) */
  poolJobs: number | null;
}

const view = (s: CpuStorage, shape: number[]): View => {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { storage: s, dtype: s.dtype, shape, strides, offset: 0 };
};

function onSharedMemory(): Pick<IsolatedReport, 'sharedHeap' | 'sharedMatmulErr' | 'sharedSiluErr'> {
  const rt = WasmRuntime.create(true);
  if (rt === null) return { sharedHeap: null, sharedMatmulErr: null, sharedSiluErr: null };
  const js = new CpuBackend({ wasm: false });
  const [M, K, N] = [130, 70, 90];
  const a = new CpuStorage('float32', M * K, seeded(M * K, 1));
  const b = new CpuStorage('float32', K * N, seeded(K * N, 2));
  const got = new CpuStorage('float32', M * N, new Float32Array(M * N));
  const want = new CpuStorage('float32', M * N, new Float32Array(M * N));
  bmmWasm(rt.heap, rt.gemm, view(got, [1, M, N]), view(a, [1, M, K]), view(b, [1, K, N]));
  js.kernels.bmm(view(want, [1, M, N]), view(a, [1, M, K]), view(b, [1, K, N]));
  let mm = 0;
  for (let i = 0; i < M * N; i++) mm = Math.max(mm, Math.abs(got.data[i]! - want.data[i]!) / (1 + Math.abs(want.data[i]!)));
  const x = { op: 'input', index: 0 } as const;
  const spec: ElementwiseSpec = { name: 'silu', expr: { op: 'mul', a: x, b: { op: 'sigmoid', a: x } }, inputDtypes: ['float32'], outDtype: 'float32', computeDtype: 'float32', numParams: 0, key: 'isolated:silu' };
  const fail: ElementwiseKernel = () => {
    throw new Error('silu: the JavaScript fallback ran on the shared memory');
  };
  const n = 5000;
  const xin = new CpuStorage('float32', n, seeded(n, 3).map((v) => v * 20));
  const oW = new CpuStorage('float32', n, new Float32Array(n));
  const oJ = new CpuStorage('float32', n, new Float32Array(n));
  wasmElementwise(rt, spec, fail)(view(oW, [n]), [view(xin, [n])], []);
  js.compileElementwise(spec)(view(oJ, [n]), [view(xin, [n])], []);
  let silu = 0;
  for (let i = 0; i < n; i++) silu = Math.max(silu, Math.abs(oW.data[i]! - oJ.data[i]!));
  return { sharedHeap: rt.heap.shared, sharedMatmulErr: mm, sharedSiluErr: silu };
}

async function run(): Promise<IsolatedReport> {
  const shared = onSharedMemory();
  const rt1 = await createRuntime({ plugins: [cpuBackend()] });
  const rt2 = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
  const be2 = rt2.backend('cpu') as CpuBackend;
  const bits = (rt: typeof rt1): Uint32Array[] => {
    const a = rt.tensor(seeded(256 * 300, 4)).reshape([256, 300]);
    const b = rt.tensor(seeded(300 * 200, 5)).reshape([300, 200]);
    const y = a.matmul(b);
    const s = y.sigmoid().mul(y);
    return [y, s].map((t) => new Uint32Array((t.dataSync() as Float32Array).buffer.slice(0)));
  };
  const one = bits(rt1);
  const two = bits(rt2);
  const threadedSameBits = one.every((u, k) => u.length === two[k]!.length && u.every((v, i) => v === two[k]![i]));
  const report: IsolatedReport = {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    ...shared,
    threadsInfo: be2.info,
    threadsDescribe: be2.describe(),
    threadedSameBits,
    poolJobs: be2.wasm?.pool?.jobs ?? null,
  };
  await rt1.dispose();
  await rt2.dispose();
  return report;
}

(globalThis as unknown as { __nablaIsolated: () => Promise<IsolatedReport> }).__nablaIsolated = run;
