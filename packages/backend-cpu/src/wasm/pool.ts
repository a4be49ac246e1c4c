/**
 * A pool of worker threads that run GEMM panels on the backend's shared WebAssembly memory.
 *
 * Each worker instantiates the same GEMM module against the same shared memory and sleeps in
 * `Atomics.wait` on a control block; the caller writes a job (block geometry, pointers, the job's
 * chunks: packing the shared operand, then slices of rows or columns) into the control block, wakes the workers, and every thread, the
 * caller included, claims chunks until none is left; the caller then waits for the chunks still
 * running. A worker the OS has not scheduled yet costs nothing on a busy machine: the caller
 * takes its chunks. Kernels stay synchronous for core, and a job costs atomic wake-ups instead of
 * messages through the event loop.
 *
 * Every element of C is computed by exactly one thread, with the same k-block order whatever the
 * thread count, so results are bit-for-bit identical with 1 or N threads.
 *
 * The workers come from `worker-host.ts`: Node's worker_threads, or Web Workers in a
 * cross-origin-isolated browser page. Where the caller may not block (a browser's main thread), it
 * spins instead of sleeping in `Atomics.wait` while the last chunks finish.
 */
import { MC, NC } from './gemm-kernel.js';
import { sliceBounds } from './gemm-split.js';
import { MODULE_TASK, runModuleTask, TASK_GEN, TASK_KIND } from './pool-tasks.js';
import type { HostedWorker, WorkerHost } from './worker-host.js';
import { workerFunctions } from './worker-source.js';

/** Control block layout (Int32 slots). */
const GEN = 0;
/** Workers still running the current module task (`runTasks`). */
const PENDING = 1;
const READY = 2;
const STOP = 3;
/** The claim word: (job id & 0xffff) << 16 | chunks << 8 | next chunk; claimed by compare-exchange. */
const CLAIM = 4;
/** Chunks of the current job finished. */
const DONE = 5;
const JOB = 8;
/**
 * Job fields after JOB: dtype(0 f32 / 1 f64), es, aBase, bBase, cBase, Mp, Np, K, kc, M, N, zero,
 * then the operand each thread packs for itself (flag, staged source, lane and k strides) for A
 * and for B, then the shared operand's packing (pack chunks P, which operand: 0 B / 1 A, staged
 * source, lane and k strides), then per chunk [i0, i1, j0, j1] (a pack chunk: [lane0, lane1, 0, 0]).
 */
const PACKS = JOB + 20;
const SLICES = JOB + 25;
export const MAX_THREADS = 16;
/** Equal slices per thread, before the last ones shrink (`gemm-split.ts`): enough that a thread that starts late leaves work to the others. */
const CHUNKS_PER_THREAD = 4;
/** Pack chunks of the shared operand per thread, and the fewest elements worth one (~10 µs of packing). */
const PACK_CHUNKS_PER_THREAD = 2;
const PACK_CHUNK_MIN = 1 << 15;
/** The claim word's 8-bit chunk count: room for the shrinking tail slices of `gemm-split.ts` at any thread count. */
const MAX_CHUNKS = 255;
/**
 * Set by a worker whose work threw, before it counts the work done: the caller then throws instead
 * of returning a result with a hole in it, and instead of waiting forever for a dead worker.
 */
const FAILED = SLICES + 4 * MAX_CHUNKS;
/**
 * Per worker, the module task's descriptor it is to run (0: none), claimed by exchanging it for 0:
 * by the worker when it wakes, or by the caller once every chunk is taken (`runTasks`), so that a
 * worker that wakes late is not waited for. Separate from the GEMM slices, which a late worker's
 * exchange must never touch.
 */
const TASKS = FAILED + 1;
/**
 * Tests only (`ThreadPool.stallWorkers`): when not 0, a worker that wakes waits (busy, at most this
 * many microseconds) for the caller to post its next job or task before it claims anything: the
 * late wake-up that lands in a later job, which on a real machine happens once in many jobs, made
 * to happen on every one.
 */
const STALL = TASKS + MAX_THREADS;
/** 1 when workers may stay awake after their work (`WORKER_SPIN_MS`, `GEMM_SPIN_MS`), 0 when they sleep at once (`ThreadPool.spin`). */
const SPIN = STALL + 1;
// runChunks (shipped to the workers as text) finds FAILED 19 slots from the control block's end.
if (FAILED !== SPIN + 1 - 19) throw new Error('pool: the control block layout drifted from runChunks');
/**
 * How long (ms) the caller spins for the workers' last chunks of a module task before it sleeps:
 * about one chunk of a costly elementwise kernel (`THREAD_CHUNK` elements at ~1.5 ns). A worker
 * still running then is most often inside its last chunk, and a caller asleep in `Atomics.wait`
 * costs a futex wake-up on top of it (on a VM, an interrupt to a halted virtual CPU). Bounded, so
 * a worker the OS has descheduled costs at most this much of the caller's CPU per task.
 */
const SETTLE_SPIN_MS = 0.05;
/**
 * How long (ms) a worker stays awake after an elementwise task, watching for the next one, before
 * it sleeps in `Atomics.wait` — only while tasks come close together: when one of the last two
 * came within this much of the one before it. A fwd+bwd step posts its tasks ~0.1-0.4 ms apart
 * (the `onesLike` fill and the engine run between them on the caller); asleep, the worker's
 * wake-up costs a futex wake (on a VM, an interrupt to a halted virtual CPU, 80-100 µs here).
 * Bounded: a worker spins at most this much per task, and not at all for work whose tasks come
 * further apart, or when the backend's `spin` option is off.
 */
export const WORKER_SPIN_MS = 0.5;
/**
 * The same after a GEMM job, shorter: a training step's products come 20-150 µs apart (a bias
 * add, a ReLU or its gradient between them), so a worker that sleeps after each one starts every
 * product ~0.1 ms late. Measured on the 2-core VM, the MLP 784-256-256-10 step on 2 threads, in
 * one process, runtimes interleaved (300 ms blocks, 10 rounds): quiet, 1.94-1.99 ms sleeping,
 * 1.70-1.77 with 0.15 ms, 1.56-1.67 with 0.3 (one thread: 2.06-2.21); the HVP row 1.62 → 1.53 ms.
 * With another process spinning on one core, 0.15 ms cost 5-12% (MLP 2.21-3.01 → 2.47-3.18 ms,
 * HVP 1.63 → 1.78) and 0.3 ms 14-16%: the spinning worker takes CPU its own caller needs. 0.5 ms
 * after each product once cost the HVP row 6-12% at load 9-10. So the shorter time, and the
 * `spin: false` option for machines whose cores are busy with other work.
 */
export const GEMM_SPIN_MS = 0.15;

type Gemm = (a: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, acc: number) => void;
type Pack = (src: number, ls: number, ks: number, n: number, kc: number, dst: number, zero: number) => void;

/**
 * The per-thread work; the same source runs in the workers (as text) and on the caller. Chunks
 * 0..P-1 pack the operand every thread reads whole (B when rows are split, A when columns are), a
 * range of its panels each; the others are slices of C: the thread packs its own share of the
 * split operand (its rows of A, or its columns of B: nobody else reads those panels), waits for
 * the pack chunks (DONE ≥ P: no slice finishes before them), then runs the cache-block loops over
 * its slice.
 */
function runSlice(gemm: Gemm, packA: Pack, packB: Pack, C: Int32Array, t: number, MCc: number, NCc: number): void {
  // JOB and SLICES as literals: this source is shipped to the workers as text, where a minifier's
  // names for module constants do not exist (worker-source.ts). The pool tests fail if they drift.
  const JOB = 8;
  const PACKS_AT = 28;
  const SLICES_AT = 33;
  const DONE_AT = 5;
  const es = C[JOB + 1]!;
  const aBase = C[JOB + 2]!;
  const bBase = C[JOB + 3]!;
  const cBase = C[JOB + 4]!;
  const Mp = C[JOB + 5]!;
  const Np = C[JOB + 6]!;
  const K = C[JOB + 7]!;
  const KCc = C[JOB + 8]!;
  const zero = C[JOB + 11]!;
  const s = SLICES_AT + 4 * t;
  if (t < C[PACKS_AT]!) {
    const isA = C[PACKS_AT + 1]! === 1;
    const [src, ls, ks] = [C[PACKS_AT + 2]!, C[PACKS_AT + 3]!, C[PACKS_AT + 4]!];
    const [l0, n, Lp, base] = [C[s]!, Math.min(isA ? C[JOB + 9]! : C[JOB + 10]!, C[s + 1]!) - C[s]!, isA ? Mp : Np, isA ? aBase : bBase];
    for (let k0 = 0; k0 < K; k0 += KCc) {
      const kc = Math.min(KCc, K - k0);
      (isA ? packA : packB)(src + l0 * ls + k0 * ks, ls, ks, n, kc, base + (k0 * Lp + l0 * kc) * es, zero);
    }
    return;
  }
  const iStart = C[s]!;
  const iEnd = C[s + 1]!;
  const jStart = C[s + 2]!;
  const jEnd = C[s + 3]!;
  // An empty slice (none is cut today) still waits below: DONE ≥ P must mean the packs are done.
  const empty = iStart >= iEnd || jStart >= jEnd;
  if (!empty && C[JOB + 12]! !== 0) {
    const [src, ls, ks, n] = [C[JOB + 13]!, C[JOB + 14]!, C[JOB + 15]!, Math.min(C[JOB + 9]!, iEnd) - iStart];
    for (let k0 = 0; k0 < K; k0 += KCc) packA(src + iStart * ls + k0 * ks, ls, ks, n, Math.min(KCc, K - k0), aBase + (k0 * Mp + iStart * Math.min(KCc, K - k0)) * es, zero);
  }
  if (!empty && C[JOB + 16]! !== 0) {
    const [src, ls, ks, n] = [C[JOB + 17]!, C[JOB + 18]!, C[JOB + 19]!, Math.min(C[JOB + 10]!, jEnd) - jStart];
    for (let k0 = 0; k0 < K; k0 += KCc) packB(src + jStart * ls + k0 * ks, ls, ks, n, Math.min(KCc, K - k0), bBase + (k0 * Np + jStart * Math.min(KCc, K - k0)) * es, zero);
  }
  // The shared operand's panels: the pack chunks (claimed before any slice) must be done. A short
  // spin covers one finishing on the other core; then sleep (bounded, in case a thread died
  // between its increment and the wake-up).
  const packs = C[PACKS_AT]!;
  let mayBlock = true;
  for (let spin = 0; ; spin++) {
    const d = Atomics.load(C, DONE_AT);
    if (d >= packs) break;
    if (spin > 2000 && mayBlock) {
      try {
        Atomics.wait(C, DONE_AT, d, 50);
      } catch {
        mayBlock = false; // a browser's main thread may not block: keep spinning
      }
    }
  }
  if (empty) return;
  for (let j0 = jStart; j0 < jEnd; j0 += NCc) {
    const nc = Math.min(NCc, jEnd - j0);
    for (let k0 = 0; k0 < K; k0 += KCc) {
      const kc = Math.min(KCc, K - k0);
      for (let i0 = iStart; i0 < iEnd; i0 += MCc) {
        const mc = Math.min(MCc, iEnd - i0);
        gemm(aBase + (k0 * Mp + i0 * kc) * es, bBase + (k0 * Np + j0 * kc) * es, cBase + (i0 * Np + j0) * es, mc, nc, kc, Np, k0 > 0 ? 1 : 0);
      }
    }
  }
}

/**
 * Claims and runs chunks of the published job until none is left (same source in the workers);
 * returns how many this thread ran.
 * A claim is a compare-exchange on a word that names the job, so a thread still looping from the
 * previous job can never take a chunk of a job whose fields are being written. Pack chunks come
 * first in the claim order; the thread that finishes the last of them wakes the slices waiting.
 *
 * The kernels (per dtype: index 0 float32, 1 float64) are picked from the job's dtype after each
 * claim, never before: a worker that read the dtype on waking, then stalled while the caller ran
 * that job alone and posted the next, would claim the next job's chunks, and a float64 job run
 * with float32 packers and kernel is silently wrong (seen about once in 60 runs of the wasm-sizes
 * conformance test, its float32 MLP followed by its float64 one).
 */
function runChunks(gemms: readonly Gemm[], packers: readonly (readonly [Pack, Pack])[], C: Int32Array, MCc: number, NCc: number, stallUs = 0): number {
  // JOB, CLAIM and DONE as literals, like runSlice's constants; FAILED is the slot before the
  // MAX_THREADS (16) task slots and the STALL slot that end the control block (checked below STALL).
  const JOB = 8;
  const CLAIM_AT = 4;
  const DONE_AT = 5;
  const PACKS_AT = 28;
  const FAILED_AT = C.length - 19;
  let ran = 0;
  for (;;) {
    const v = Atomics.load(C, CLAIM_AT);
    const chunks = (v >>> 8) & 255;
    const next = v & 255;
    if (next >= chunks) return ran;
    // Tests only (STALL): the first claim waits for the caller's next job, as a late wake-up would.
    if (stallUs > 0) {
      stallWhile(C, CLAIM_AT, 16, v >>> 16, stallUs);
      stallUs = 0;
      continue;
    }
    if (Atomics.compareExchange(C, CLAIM_AT, v, v + 1) !== v) continue;
    ran++;
    const packs = C[PACKS_AT]!;
    const d = C[JOB]!;
    try {
      runSlice(gemms[d]!, packers[d]![0], packers[d]![1], C, next, MCc, NCc);
    } catch (e) {
      Atomics.store(C, FAILED_AT, 1);
      throw e;
    } finally {
      const d = Atomics.add(C, DONE_AT, 1) + 1;
      if (d === chunks || d === packs) Atomics.notify(C, DONE_AT);
    }
  }
}

/**
 * Tests only (STALL; shipped to the workers too): busy-waits while `C[slot] >>> shift` is still
 * `seen`, for at most `us` microseconds: a wake-up made late enough to land in the next job or task.
 */
function stallWhile(C: Int32Array, slot: number, shift: number, seen: number, us: number): void {
  const until = performance.now() + us / 1000;
  while (Atomics.load(C, slot) >>> shift === seen && performance.now() < until);
}

/** The worker's statements, run by `worker-host.ts` with its start-up data bound to `workerData`. */
const WORKER_SOURCE = `
const { memory, module, control, id, packs } = workerData;
const SLICES_AT = ${SLICES};
const JOB = ${JOB};
${workerFunctions({ runSlice, runChunks, runModuleTask, stallWhile })}
const tasks = new Map();
const inst = new WebAssembly.Instance(module, { env: { memory } });
const kernels = [inst.exports.gemm_float32, inst.exports.gemm_float64];
const packers = packs.map(([a, b]) => [inst.exports[a], inst.exports[b]]);
const C = new Int32Array(control);
Atomics.add(C, ${READY}, 1);
Atomics.notify(C, ${READY});
let gen = 0;
// Whether each of the last two tasks came within WORKER_SPIN_MS of the one before it (bits).
let near = 0;
// Whether the last wake-up was for an elementwise task: only those keep the worker awake after.
let elementwise = false;
for (;;) {
  const idle = performance.now();
  if (near !== 0 && C[${SPIN}] !== 0) {
    const until = idle + (elementwise ? ${WORKER_SPIN_MS} : ${GEMM_SPIN_MS});
    while (Atomics.load(C, ${GEN}) === gen && performance.now() < until);
  }
  Atomics.wait(C, ${GEN}, gen);
  near = ((near << 1) | (performance.now() - idle < ${WORKER_SPIN_MS} ? 1 : 0)) & 3;
  gen = Atomics.load(C, ${GEN});
  if (Atomics.load(C, ${STOP}) !== 0) break;
  // A module task is run by the wake-up that posted it (TASK_GEN), never by a late wake-up of an
  // earlier GEMM job: that one finds no chunk left and loops back to see the task's generation.
  elementwise = C[${TASK_KIND}] === ${MODULE_TASK} && C[${TASK_GEN}] === gen;
  if (elementwise) {
    // 0: no task for this worker, or the caller took it back (every chunk was taken) and counted it.
    if (C[${STALL}] > 0) stallWhile(C, ${GEN}, 0, gen, C[${STALL}]);
    const desc = Atomics.exchange(C, ${TASKS} + id, 0);
    if (desc === 0) continue;
    try {
      runModuleTask(memory, desc, tasks);
    } catch (e) {
      Atomics.store(C, ${FAILED}, 1);
      throw e;
    } finally {
      if (Atomics.sub(C, ${PENDING}, 1) === 1) Atomics.notify(C, ${PENDING});
    }
    continue;
  }
  runChunks(kernels, packers, C, ${MC}, ${NC}, C[${STALL}]);
}
`;

/** A staged operand still to be packed (byte pointer, lane and k strides in bytes). */
export interface PackSource {
  readonly src: number;
  readonly ls: number;
  readonly ks: number;
}

/** The caller's instances of the GEMM module's functions. */
export interface PoolKernels {
  readonly float32: Gemm;
  readonly float64: Gemm;
  readonly pack: { readonly float32: { readonly a: Pack; readonly b: Pack }; readonly float64: { readonly a: Pack; readonly b: Pack } };
}

/** The packers' export names, [a, b] for float32 then float64 (the workers look them up). */
export type PackNames = readonly [readonly [string, string], readonly [string, string]];

export interface GemmJob {
  readonly dtype: 'float32' | 'float64';
  readonly M: number;
  readonly N: number;
  /** R zero elements (what padding lanes read). */
  readonly zero: number;
  /** A and B staged but not packed yet, or null when their panels are in place already. */
  readonly a: PackSource | null;
  readonly b: PackSource | null;
  readonly aBase: number;
  readonly bBase: number;
  readonly cBase: number;
  readonly Mp: number;
  readonly Np: number;
  readonly K: number;
  /** The k-block depth (`kcFor(K)`): every thread uses the caller's split. */
  readonly kc: number;
  readonly MR: number;
  readonly NR: number;
}

/** The running pool of each shared memory (`poolOf`). */
const pools = new WeakMap<WebAssembly.Memory, ThreadPool>();

/**
 * The pool whose workers run on `memory`, or null (one thread, or disposed): for kernels that know
 * only the heap, such as the fills of `fill.ts`.
 */
export function poolOf(memory: WebAssembly.Memory): ThreadPool | null {
  return pools.get(memory) ?? null;
}

export class ThreadPool {
  private readonly control: Int32Array;
  private memory: WebAssembly.Memory | null = null;
  private readonly workers: HostedWorker[] = [];
  private failure: Error | null = null;
  /** GEMM jobs run so far, their pack chunks, all their chunks and those the caller ran (tests check the threads were used). */
  jobs = 0;
  packChunks = 0;
  chunks = 0;
  callerChunks = 0;
  private jobId = 0;

  private constructor(
    readonly threads: number,
    kernels: PoolKernels,
    /** Whether the caller may sleep in Atomics.wait (else it spins: a browser's main thread). */
    private readonly callerMayBlock: boolean,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (SPIN + 1)));
    this.control[SPIN] = 1;
    // Indexed by the job's dtype slot (0 float32, 1 float64), as in the workers.
    this.gemms = [kernels.float32, kernels.float64];
    this.packers = [
      [kernels.pack.float32.a, kernels.pack.float32.b],
      [kernels.pack.float64.a, kernels.pack.float64.b],
    ];
  }

  /** The caller's kernels and packers by dtype slot, for `runChunks`. */
  private readonly gemms: readonly Gemm[];
  private readonly packers: readonly (readonly [Pack, Pack])[];

  /**
   * Starts `threads - 1` workers from `host` (the caller is the first thread) on `memory`, running
   * `module`. Null for one thread or a memory that is not shared; throws when the workers fail to start.
   */
  static async start(
    host: WorkerHost,
    threads: number,
    memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    kernels: PoolKernels,
    packs: PackNames,
  ): Promise<ThreadPool | null> {
    const n = Math.max(1, Math.min(MAX_THREADS, Math.floor(threads)));
    if (n === 1) return null;
    if (!(memory.buffer instanceof SharedArrayBuffer)) return null;
    const pool = new ThreadPool(n, kernels, host.callerMayBlock);
    for (let id = 1; id < n; id++) {
      const data = { memory, module, control: pool.control.buffer, id, packs };
      try {
        pool.workers.push(host.spawn(WORKER_SOURCE, data, (e) => (pool.failure = e)));
      } catch (e) {
        await pool.dispose();
        throw e;
      }
    }
    // Workers start on their own threads; wait (without blocking the event loop) until all are in.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(pool.control, READY) < n - 1) {
      if (pool.failure !== null || Date.now() > deadline) {
        const failed = pool.failure as Error | null;
        await pool.dispose();
        throw new Error(failed !== null ? `a worker failed to start: ${failed.message}` : 'the workers did not start within 30 s');
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    pool.memory = memory;
    pools.set(memory, pool);
    return pool;
  }

  /**
   * Runs a GEMM with rows (or columns, for short wide products) split across the threads. The
   * operand that every thread reads whole is packed by the first chunks (a range of its panels
   * each, any thread); each slice packs its own share of the split one, then waits for those.
   */
  gemm(job: GemmJob): void {
    this.throwIfFailed();
    this.jobs++;
    const C = this.control;
    C[JOB] = job.dtype === 'float32' ? 0 : 1;
    C[JOB + 1] = job.dtype === 'float32' ? 4 : 8;
    C[JOB + 2] = job.aBase;
    C[JOB + 3] = job.bBase;
    C[JOB + 4] = job.cBase;
    C[JOB + 5] = job.Mp;
    C[JOB + 6] = job.Np;
    C[JOB + 7] = job.K;
    C[JOB + 8] = job.kc;
    C[JOB + 9] = job.M;
    C[JOB + 10] = job.N;
    C[JOB + 11] = job.zero;
    const n = this.threads;
    const byRows = job.Mp / job.MR >= job.Np / job.NR;
    // The operand every thread reads whole is packed by pack chunks (below), split by panels.
    const whole = byRows ? job.b : job.a;
    let packs = 0;
    if (whole !== null && job.K > 0) {
      const [R, lanes] = byRows ? [job.NR, job.N] : [job.MR, job.M];
      const panels = Math.ceil(lanes / R);
      packs = Math.max(1, Math.min(panels, n * PACK_CHUNKS_PER_THREAD, Math.floor((lanes * job.K) / PACK_CHUNK_MIN)));
      for (let t = 0; t < packs; t++) {
        const s = SLICES + 4 * t;
        C[s] = Math.floor((panels * t) / packs) * R;
        C[s + 1] = Math.floor((panels * (t + 1)) / packs) * R;
        C[s + 2] = 0;
        C[s + 3] = 0;
      }
      C[PACKS + 1] = byRows ? 0 : 1;
      C[PACKS + 2] = whole.src;
      C[PACKS + 3] = whole.ls;
      C[PACKS + 4] = whole.ks;
    }
    C[PACKS] = packs;
    this.packChunks += packs;
    const split = byRows ? job.a : job.b;
    C[JOB + 12] = byRows && split !== null ? 1 : 0;
    C[JOB + 16] = !byRows && split !== null ? 1 : 0;
    if (split !== null) {
      const at = byRows ? JOB + 13 : JOB + 17;
      C[at] = split.src;
      C[at + 1] = split.ls;
      C[at + 2] = split.ks;
    }
    const units = byRows ? job.Mp / job.MR : job.Np / job.NR;
    const lanes = byRows ? job.MR : job.NR;
    const bounds = sliceBounds(units, lanes, lanes * (byRows ? job.N : job.M) * job.K, n, CHUNKS_PER_THREAD, MAX_CHUNKS - packs);
    const slices = bounds.length - 1;
    const chunks = packs + slices;
    for (let u = 0; u < slices; u++) {
      const lo = bounds[u]!;
      const hi = bounds[u + 1]!;
      const s = SLICES + 4 * (packs + u);
      if (byRows) {
        C[s] = lo * job.MR;
        C[s + 1] = hi * job.MR;
        C[s + 2] = 0;
        C[s + 3] = job.Np;
      } else {
        C[s] = 0;
        C[s + 1] = job.Mp;
        C[s + 2] = lo * job.NR;
        C[s + 3] = hi * job.NR;
      }
    }
    // Publish: the claim word names this job, so only threads that see it (and so the fields
    // written above) take its chunks.
    this.jobId = (this.jobId + 1) & 0xffff;
    Atomics.store(C, DONE, 0);
    Atomics.store(C, CLAIM, (this.jobId << 16) | (chunks << 8));
    Atomics.add(C, GEN, 1);
    Atomics.notify(C, GEN);
    this.chunks += chunks;
    this.callerChunks += runChunks(this.gemms, this.packers, C, MC, NC);
    this.waitFor(DONE, (done) => done >= chunks);
  }

  /** Sleeps until the control slot's value is `ready`, rethrowing a worker's failure. */
  private waitFor(slot: number, ready: (value: number) => boolean): void {
    const C = this.control;
    for (;;) {
      const v = Atomics.load(C, slot);
      this.throwIfFailed();
      if (ready(v)) return;
      if (this.callerMayBlock) Atomics.wait(C, slot, v, 1000);
    }
  }

  /**
   * Throws when a worker failed: its error if it has reached this thread (the host reports it
   * through the event loop), else the flag it set in the control block.
   */
  private throwIfFailed(): void {
    const failed = this.failure as Error | null;
    if (failed !== null) throw new Error(`cpu: a worker thread failed: ${failed.message}`);
    if (Atomics.load(this.control, FAILED) !== 0) throw new Error('cpu: a worker thread failed (its error is reported asynchronously, as an error event of the worker)');
  }

  /** Module tasks run so far (pool-tasks.ts; tests check the threads were used). */
  tasks = 0;
  /** Workers' module tasks the caller took back before they woke (`runTasks`' `takeBack`). */
  takenBack = 0;

  /**
   * Runs a module task (`pool-tasks.ts`): worker t runs the descriptor at byte `descriptors[t]`
   * (0: nothing), while the caller runs `own`; returns when every thread is done. Everything a
   * worker reads is written before the generation is bumped (the fence that publishes it).
   * With `takeBack`, the caller then claims the descriptors of workers that have not woken yet and
   * runs them itself through `takeBack` (for tasks whose chunks `own` has all taken: a no-op), so
   * it never waits for a late wake-up.
   */
  runTasks(descriptors: readonly number[], own: () => void, takeBack?: (descriptor: number) => void): void {
    this.throwIfFailed();
    this.tasks++;
    const C = this.control;
    let pending = 0;
    for (let t = 1; t < this.threads; t++) {
      const d = descriptors[t] ?? 0;
      C[TASKS + t] = d;
      if (d !== 0) pending++;
    }
    Atomics.store(C, PENDING, pending);
    Atomics.store(C, TASK_KIND, MODULE_TASK);
    Atomics.store(C, TASK_GEN, Atomics.load(C, GEN) + 1);
    Atomics.add(C, GEN, 1);
    Atomics.notify(C, GEN);
    try {
      own();
    } finally {
      // A worker that has not woken yet would find every chunk taken: take its task back rather
      // than wait for its wake-up (on a busy machine, often longer than the whole task).
      if (takeBack !== undefined) {
        for (let t = 1; t < this.threads; t++) {
          const d = Atomics.exchange(C, TASKS + t, 0);
          if (d === 0) continue;
          this.takenBack++;
          try {
            takeBack(d);
          } finally {
            Atomics.sub(C, PENDING, 1);
          }
        }
      }
      if (Atomics.load(C, PENDING) !== 0) {
        const until = performance.now() + SETTLE_SPIN_MS;
        while (Atomics.load(C, PENDING) !== 0 && performance.now() < until);
      }
      this.waitFor(PENDING, (left) => left === 0);
      Atomics.store(C, TASK_KIND, 0);
    }
  }

  /**
   * @internal Tests only: after each wake-up, every worker waits for the caller's next job or task
   * (busy, at most `us` microseconds) before it claims work (0: never), so that tests can force a
   * wake-up that lands in a later job.
   */
  stallWorkers(us: number): void {
    Atomics.store(this.control, STALL, Math.max(0, Math.round(us)));
  }

  /**
   * Whether workers stay awake for a moment after their work while work comes close together
   * (`WORKER_SPIN_MS`, `GEMM_SPIN_MS`; the backend's `spin` option), or sleep at once.
   */
  set spin(on: boolean) {
    Atomics.store(this.control, SPIN, on ? 1 : 0);
  }

  get spin(): boolean {
    return Atomics.load(this.control, SPIN) !== 0;
  }

  /** Stops and joins every worker. */
  async dispose(): Promise<void> {
    if (this.memory !== null && pools.get(this.memory) === this) pools.delete(this.memory);
    this.memory = null;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  get liveWorkers(): number {
    return this.workers.length;
  }
}
