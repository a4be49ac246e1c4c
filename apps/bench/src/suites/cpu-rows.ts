/**
 * The cpu suite's layout, shared by the suite (which forks a measuring process per group and
 * records what comes back, `cpu.ts`) and the measuring process (`cpu-group.ts`): the sizes, the
 * columns, the rows, and which rows each group of shared set-up measures with which step. Nothing
 * here loads a peer or a runtime.
 */
import type { CpuRow } from './cpu-goals.js';

/** `scalarBwdUnshared`: the same chain with JS-number constants instead of the two shared leaves. */
export type Key = 'matmulGflops' | 'siluFwd' | 'siluFb' | 'mlp' | 'scalarFwd' | 'scalarBwd' | 'scalarBwdUnshared' | 'silu2' | 'hvp';

export type Row = CpuRow<Key>;

/** The sizes of a run: `--quick` shrinks the first ones (the HVP is small already). */
export interface CpuSizes {
  matmul: number;
  silu: number;
  batch: number;
  scalar: number;
  silu2: number;
}

export function cpuSizes(quick: boolean): CpuSizes {
  return quick
    ? { matmul: 256, silu: 256, batch: 64, scalar: 333, silu2: 1 << 14 }
    : { matmul: 1024, silu: 1000, batch: 64, scalar: 3333, silu2: 1 << 20 };
}

/** The columns, in table order. PyTorch and tfjs are the peers; the threaded Nabla column is named for its thread count. */
export const TORCH_1T = 'PyTorch 1t';
export const TORCH_2T = 'PyTorch 2t';
export const TFJS = 'tfjs-wasm';
export const JS = 'Nabla JS (before)';
export const WASM_1T = 'Nabla wasm 1t';
export const threadsColumn = (nThreads: number): string => `Nabla wasm ${nThreads}t`;
/**
 * Nabla on one thread with the relaxed-SIMD FMA matrix products (what Chrome 114+ and Node 22+
 * run by default), in the groups of matrix products, where this Node compiles relaxed SIMD only
 * behind a V8 flag (`relaxed-simd.ts`): those groups' processes get the flag, and their other
 * Nabla columns keep `fma: false`, the code this Node runs without it.
 */
export const WASM_FMA = 'Nabla wasm 1t FMA';

export function cpuRows(sz: CpuSizes): Row[] {
  return [
    { name: `matmul ${sz.matmul}² float32`, unit: 'GFLOP/s', key: 'matmulGflops', higherBetter: true },
    { name: `SiLU ${sz.silu}² fused, forward`, unit: 'ms', key: 'siluFwd', higherBetter: false },
    { name: `SiLU ${sz.silu}² fused, forward+backward`, unit: 'ms', key: 'siluFb', higherBetter: false },
    { name: `MLP 784-256-256-10 b${sz.batch} SGD step`, unit: 'ms', key: 'mlp', higherBetter: false },
    { name: `scalar graph tanh(x·w+b) ×${sz.scalar}, forward`, unit: 'µs/op', key: 'scalarFwd', higherBetter: false },
    { name: `scalar graph tanh(x·w+b) ×${sz.scalar}, backward`, unit: 'µs/op', key: 'scalarBwd', higherBetter: false },
    { name: `same chain, no shared leaves (x·0.5+0.1), backward`, unit: 'µs/op', key: 'scalarBwdUnshared', higherBetter: false },
    { name: `SiLU'' on ${sz.silu2} (double backward)`, unit: 'ms', key: 'silu2', higherBetter: false, check: 'silu2Err' },
    { name: 'Hessian-vector product, tanh MLP', unit: 'ms', key: 'hvp', higherBetter: false, check: 'hvpErr' },
  ];
}

/** The served PyTorch cases (torch_bench.py's STEPS), one per group. */
export type GroupKind = 'matmul' | 'silu' | 'mlp3' | 'scalar' | 'silu2' | 'hvp';

/** How long a group's rows measure: at least `runs` samples and `minMs` per cell, over the rounds. */
export interface RowTiming {
  warmup: number;
  runs: number;
  minMs: number;
  rounds: number;
}

/**
 * Warm-up: as many calls as one second allows (every contender stops warming up at 1 s: timing.ts's
 * WARMUP_MS, the PyTorch server's WARMUP_S), so each is measured in the steady state a training
 * loop runs in, not in its first steps. Three calls did not reach it: Nabla's MLP step on 2 threads
 * measured 2.3-2.5 ms over its first ~300 steps, 1.57-1.7 ms after 600-2000 (why it takes that
 * long is not pinned down: V8's tier-up is part of it, a smaller --interrupt-budget took those
 * first steps from 2.56 to 2.22 ms; the young generation's size is not, --min-semi-space-size=16
 * changed nothing); tfjs, whose step is mostly inside its wasm kernels, changes little.
 */
const WARM_FOR_A_SECOND = 100_000;
const ROW_TIMING: RowTiming = { warmup: WARM_FOR_A_SECOND, runs: 10, minMs: 1000, rounds: 5 };
// Each scalar sample allocates ~14 MB, so a scavenge lands in every second one or so, at a point
// that differs from sample to sample: more samples than the other rows, for a steady median.
const SCALAR_TIMING: RowTiming = { warmup: 3, runs: 20, minMs: 2000, rounds: 5 };

/**
 * A group of rows that share their set-up (the served PyTorch case, the tfjs case and the Nabla
 * case per runtime), measured in one fresh process; each row names the step every column times
 * for it (none: not measured there).
 */
export interface GroupLayout {
  kind: GroupKind;
  /** Mostly matrix products: the FMA column (`WASM_FMA`) measures it too, where there is one. */
  gemm?: boolean;
  rows: { key: Key; torch?: string; tf?: string; nabla: string }[];
  timing: RowTiming;
}

export const CPU_GROUPS: readonly GroupLayout[] = [
  { kind: 'matmul', gemm: true, rows: [{ key: 'matmulGflops', torch: 'ms', tf: 'ms', nabla: 'ms' }], timing: ROW_TIMING },
  {
    kind: 'silu',
    rows: [
      { key: 'siluFwd', torch: 'fwd_ms', tf: 'fwd', nabla: 'fwd' },
      { key: 'siluFb', torch: 'fb_ms', tf: 'fb', nabla: 'fb' },
    ],
    timing: ROW_TIMING,
  },
  { kind: 'mlp3', gemm: true, rows: [{ key: 'mlp', torch: 'ms', tf: 'ms', nabla: 'ms' }], timing: ROW_TIMING },
  {
    kind: 'scalar',
    rows: [
      { key: 'scalarFwd', torch: 'fwd', tf: 'fwd', nabla: 'fwd' },
      // tfjs: forward+backward, less its forward's median (cpu-group.ts).
      { key: 'scalarBwd', torch: 'bwd', tf: 'fb', nabla: 'bwd' },
      { key: 'scalarBwdUnshared', nabla: 'bwdUnshared' },
    ],
    timing: SCALAR_TIMING,
  },
  { kind: 'silu2', rows: [{ key: 'silu2', torch: 'ms', tf: 'ms', nabla: 'ms' }], timing: ROW_TIMING },
  { kind: 'hvp', gemm: true, rows: [{ key: 'hvp', torch: 'ms', tf: 'ms', nabla: 'ms' }], timing: ROW_TIMING },
];

/** The columns a row of a group has, in table order (`nt`: the threaded Nabla column; `fma`: the FMA column too). */
export function rowColumns(r: GroupLayout['rows'][number], nt: string, fma = false): { impl: string; step: string }[] {
  const cols: [string, string | undefined][] = [
    [TORCH_1T, r.torch],
    [TORCH_2T, r.torch],
    [TFJS, r.tf],
    [JS, r.nabla],
    [WASM_1T, r.nabla],
    [WASM_FMA, fma ? r.nabla : undefined],
    [nt, r.nabla],
  ];
  return cols.filter((c): c is [string, string] => c[1] !== undefined).map(([impl, step]) => ({ impl, step }));
}

export const isPeer = (impl: string): boolean => impl === TORCH_1T || impl === TORCH_2T || impl === TFJS;
