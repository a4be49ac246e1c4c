/**
 * The browser side of `test/browser-threads.test.ts`: a runtime asked for `threads` runs a GEMM
 * and large transcendental elementwise ops (big enough for the worker pool) beside a one-thread
 * runtime, and reports whether the bits agree, what the backend says about its threads, how much
 * the pool ran, and rough timings. The runtimes stay alive until `dispose()`, so the test can count
 * the page's workers through Chromium before and after.
 *
 * The same bundle also runs inside a dedicated worker (`runInWorker`): there the caller may sleep
 * in Atomics.wait, and the pool's workers are nested workers.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import type { CpuBackend } from '../src/backend.js';
import { cpuBackend } from '../src/plugin.js';
import { seeded } from '../src/test-utils/seeded.js';

export interface ThreadsReport {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  /** the runtime asked for `threads` */
  info: { kernels: string; threads: number; threadsNote?: string };
  describe: string;
  /** which workers run its pool, and whether the caller may sleep (null: no pool) */
  workers: { kind: string; callerMayBlock: boolean } | null;
  /** workers its pool holds */
  liveWorkers: number;
  /** GEMM jobs and elementwise tasks its pool ran during the workload (null: no pool) */
  poolJobs: number | null;
  poolTasks: number | null;
  /** per result: the same float32 bits as the one-thread runtime */
  sameBits: Record<string, boolean>;
  /** max |gemm - float64 dot| / (1 + |dot|) over a few rows: both runtimes are right, not just equal */
  gemmErr: number;
  /** median ms of a few rounds, one thread vs the asked threads (indications only) */
  ms: { gemm1: number; gemmN: number; tanh1: number; tanhN: number };
}

const M = 384;
const K = 512;
const N = 320;
/** Elements of the elementwise ops: 2^19, far past the pool's 2^15 threshold. */
const E = 1 << 19;

const A = seeded(M * K, 1);
const B = seeded(K * N, 2);
const X = seeded(E, 3, 6);

interface Results {
  tensors: Record<string, Float32Array>;
}

/** The workload's results: the product, and tanh, sigmoid, exp of a large tensor (each its own kernel). */
function workload(rt: Runtime): Results {
  return rt.tidy(() => {
    const a = rt.tensor(A).reshape([M, K]);
    const b = rt.tensor(B).reshape([K, N]);
    const x = rt.tensor(X).reshape([E / 512, 512]);
    const out: Record<string, Tensor> = { matmul: a.matmul(b), tanh: x.tanh(), sigmoid: x.sigmoid(), exp: x.mul(0.5).exp() };
    const tensors: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(out)) tensors[k] = t.dataSync() as Float32Array;
    return { tensors };
  });
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function gemmErr(c: Float32Array): number {
  let worst = 0;
  for (const i of [0, 1, 97, 200, M - 1]) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[i * K + k]! * B[k * N + j]!;
      worst = Math.max(worst, Math.abs(c[i * N + j]! - s) / (1 + Math.abs(s)));
    }
  }
  return worst;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1]!;
}

/** Median ms of `f` over a few rounds, interleaved with `g`'s (the same load on both). */
function timeBoth(f: () => void, g: () => void, rounds = 5): [number, number] {
  const tf: number[] = [];
  const tg: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    f();
    tf.push(performance.now() - t);
    t = performance.now();
    g();
    tg.push(performance.now() - t);
  }
  return [median(tf), median(tg)];
}

const alive: Runtime[] = [];

async function run(threads: number | 'auto'): Promise<ThreadsReport> {
  const one = await createRuntime({ plugins: [cpuBackend()] });
  const many = await createRuntime({ plugins: [cpuBackend({ threads })] });
  alive.push(one, many);
  const be = many.backend('cpu') as CpuBackend;
  const pool = be.wasm?.pool ?? null;
  const jobs0 = pool?.jobs ?? 0;
  const tasks0 = pool?.tasks ?? 0;
  const r1 = workload(one);
  const rN = workload(many);
  const jobs = pool === null ? null : pool.jobs - jobs0;
  const tasks = pool === null ? null : pool.tasks - tasks0;
  const same: Record<string, boolean> = {};
  for (const k of Object.keys(r1.tensors)) same[k] = sameBits(r1.tensors[k]!, rN.tensors[k]!);
  const mm = (rt: Runtime) => () => rt.tidy(() => void rt.tensor(A).reshape([M, K]).matmul(rt.tensor(B).reshape([K, N])).dataSync());
  const th = (rt: Runtime) => () => rt.tidy(() => void rt.tensor(X).reshape([E / 512, 512]).tanh().dataSync());
  const [gemm1, gemmN] = timeBoth(mm(one), mm(many));
  const [tanh1, tanhN] = timeBoth(th(one), th(many));
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
    info: be.info,
    describe: be.describe(),
    workers: be.wasm?.workers ?? null,
    liveWorkers: pool?.liveWorkers ?? 0,
    poolJobs: jobs,
    poolTasks: tasks,
    sameBits: same,
    gemmErr: Math.max(gemmErr(r1.tensors.matmul!), gemmErr(rN.tensors.matmul!)),
    ms: { gemm1, gemmN, tanh1, tanhN },
  };
}

/** Disposes every runtime `run` made; the pools' workers held afterwards (0: all terminated). */
async function dispose(): Promise<number> {
  const pools = alive.map((rt) => (rt.backend('cpu') as CpuBackend).wasm?.pool ?? null);
  for (const rt of alive.splice(0)) await rt.dispose();
  return pools.reduce((s, p) => s + (p?.liveWorkers ?? 0), 0);
}

interface Port {
  onmessage: ((e: { data: { cmd: 'run' | 'dispose'; threads?: number | 'auto' } }) => void) | null;
  postMessage(data: unknown): void;
}

let host: (Port & { terminate(): void }) | null = null;

/** `run` inside a dedicated worker made from this same bundle (module worker). */
async function runInWorker(threads: number | 'auto'): Promise<ThreadsReport> {
  const Ctor = (globalThis as unknown as { Worker: new (url: string, o: { type: 'module' }) => Port & { terminate(): void } }).Worker;
  host = new Ctor(import.meta.url, { type: 'module' });
  return ask<ThreadsReport>(host, { cmd: 'run', threads });
}

/** Disposes the worker's runtimes; its pool's live workers afterwards (the worker itself stays). */
async function disposeInWorker(): Promise<number> {
  return host === null ? 0 : ask<number>(host, { cmd: 'dispose' });
}

/** Ends the worker `runInWorker` made. */
function endWorker(): void {
  host?.terminate();
  host = null;
}

function ask<T>(port: Port, msg: { cmd: 'run' | 'dispose'; threads?: number | 'auto' }): Promise<T> {
  return new Promise<T>((resolve) => {
    port.onmessage = (e) => resolve(e.data as unknown as T);
    port.postMessage(msg);
  });
}

if (typeof document === 'undefined') {
  // Inside the dedicated worker: answer the page.
  const self = globalThis as unknown as Port;
  self.onmessage = (e) => {
    const { cmd, threads } = e.data;
    void (cmd === 'run' ? run(threads ?? 2) : dispose()).then((r) => self.postMessage(r));
  };
} else {
  (globalThis as unknown as { __nablaThreads: unknown }).__nablaThreads = { run, dispose, runInWorker, disposeInWorker, endWorker };
}
