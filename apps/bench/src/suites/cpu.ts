/**
 * The CPU backend against PyTorch (1 and 2 threads) and TensorFlow.js's WebAssembly backend, the
 * rows of issue 12, all measured in this one run: matmul 1024², fused SiLU on 1000², a
 * 784-256-256-10 MLP step, a scalar graph tanh(x·w+b), SiLU'' on 2^20 by double backward and a
 * Hessian-vector product through a tanh MLP. Nabla runs three times: with its JavaScript kernels
 * (`cpuBackend({ wasm: false })`, before), and with its WebAssembly SIMD kernels on 1 thread (the
 * default) and on `threads: 'auto'` (after); on a Node that needs a flag for relaxed SIMD, a fourth
 * time in the matrix-product rows, with the FMA kernel Chrome and Node 22+ run (`relaxed-simd.ts`).
 * Second-order results are checked: against the closed form for SiLU'', against Nabla's own
 * float64 result for the HVP. The workloads are in
 * `cpu-group.ts`, the rows and groups in `cpu-rows.ts`.
 *
 * How it measures, so that the numbers can be trusted on a shared 2-core machine:
 * - each group of rows that share a set-up (matmul; SiLU; MLP; scalar graph; SiLU''; HVP) is
 *   measured in a fresh Node process (`cpu-child.ts`), where tfjs and the three Nabla runtimes
 *   are set up for it alone, as JMH forks a JVM per benchmark: in one shared process a group ran
 *   in the heap, the garbage collector's state and the JIT feedback every earlier group left
 *   behind, and its numbers depended on what ran before it (the scalar forward: 1.2 µs/op
 *   alone, 1.9 after the MLP group, 2.8 in the full run). PyTorch is one server process for the
 *   whole suite (`startTorchServer`), lent to each child over its IPC channel;
 * - every row is measured in rounds interleaved across all six columns (`interleave.ts`), so that
 *   drift hits every column alike and the ratios the goals read hold;
 * - a settled heap before each row (`settleHeap`: a full collection, the finalizers it found due,
 *   a second collection for what they held; never between samples: see `collectGarbage`), and a
 *   return to the event loop before each sample, so that no row pays for the previous one's
 *   garbage or finalizers;
 * - backward rows time `.backward()` alone, on a graph built untimed just before;
 * - each cell keeps the process's CPU time per sample: its cpu/wall share shows a cell whose
 *   samples lost their core to other processes.
 * The runtimes of a group stay alive together: idle pool workers sleep in `Atomics.wait` (no CPU).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lendTorch } from '../peers/pytorch-remote.js';
import { startTorchServer, type TorchServer } from '../peers/pytorch.js';
import { bench } from '../report/recorder.js';
import { timingOverrides } from '../timing.js';
import type { ChildOrders, ChildReport } from './cpu-child.js';
import { cpuGoals } from './cpu-goals.js';
import { reasonOf, type GroupMeta, type GroupResult } from './cpu-group.js';
import { CPU_GROUPS, JS, TFJS, TORCH_1T, TORCH_2T, WASM_1T, WASM_FMA, cpuRows, cpuSizes, isPeer, rowColumns, threadsColumn, type Row } from './cpu-rows.js';
import { relaxedSimdFlag } from './relaxed-simd.js';

const CHILD = fileURLToPath(new URL('./cpu-child.js', import.meta.url));

export async function cpuSuite(): Promise<void> {
  const torch: TorchServer | { missing: string } = await startTorchServer();
  try {
    await measureAll(torch);
  } finally {
    if ('close' in torch) torch.close();
  }
}

async function measureAll(torch: TorchServer | { missing: string }): Promise<void> {
  const sz = cpuSizes(bench.quick);
  const ROWS = cpuRows(sz);
  const fmaFlag = relaxedSimdFlag();
  const torchName = 'version' in torch ? `PyTorch ${torch.version} (${torch.blas})` : 'PyTorch';
  let meta: GroupMeta | null = null;
  let nt = '';
  // The table needs the threaded column's name, which the first measuring process tells.
  const declare = (m: GroupMeta): void => {
    if (meta !== null) return;
    meta = m;
    Object.assign(bench.peers, m.peers);
    nt = threadsColumn(m.nThreads);
    declareTable(ROWS, torchName, m.nThreads, nt, fmaFlag !== null);
  };
  const checks: GroupResult['checks'] = { silu2Err: {}, hvpErr: {} };

  for (const [i, layout] of CPU_GROUPS.entries()) {
    let result: GroupResult;
    try {
      result = await inFreshProcess(i, torch, declare, layout.gemm === true ? fmaFlag : null);
    } catch (e) {
      // The first group tells the columns: without it there is no table to leave cells in.
      if (meta === null) throw e;
      // A group whose process died leaves its cells standing, each with the reason.
      const why = reasonOf(e);
      const cells = layout.rows.flatMap((r) => rowColumns(r, nt, layout.gemm === true && fmaFlag !== null).filter((c) => 'setup' in torch || (c.impl !== TORCH_1T && c.impl !== TORCH_2T)).map((c) => ({ key: r.key, impl: c.impl, missing: why })));
      result = { cells, checks: { silu2Err: {}, hvpErr: {} } };
    }
    for (const c of result.cells) {
      const row = ROWS.find((x) => x.key === c.key)!;
      const peer = isPeer(c.impl);
      const input = { table: 'cpu', workload: row.name, impl: c.impl, peer, ...(peer ? {} : { device: 'cpu' }), unit: row.unit, better: row.higherBetter ? 'higher' : 'lower' } as const;
      if (c.missing !== undefined) bench.missing(input, c.missing);
      else bench.record({ ...input, samples: c.samples!, cpuPerWall: c.cpuPerWall ?? [], ...(c.rounds ? { rounds: c.rounds } : {}), ...(c.note ? { note: c.note } : {}) });
    }
    Object.assign(checks.silu2Err, result.checks.silu2Err);
    Object.assign(checks.hvpErr, result.checks.hvpErr);
  }

  const m = meta as GroupMeta | null;
  if (m === null) return;
  const note = (line: string): void => bench.note(line);
  note(`${m.tfNote}; ${'version' in torch ? 'PyTorch threads as labelled, served by one Python process' : torch.missing}`);
  if (fmaFlag !== null) {
    note(
      `${WASM_FMA}: matrix products with relaxed SIMD's fused multiply-add, what Chrome 114+ and Node 22+ run by default (${m.describe.fma ?? 'not measured'}), in the matmul, MLP and HVP rows; this Node compiles relaxed SIMD only under ${fmaFlag}, so those rows' processes run with it and their other Nabla columns with fma: false, the code this Node runs without it`,
    );
  }
  note(`Nabla: ${m.describe.wasm}; threads: ${m.describe.threads} (threads split GEMMs of 2^20 multiply-adds or more, large transcendental elementwise rows, and cheaper rows whose operands all live in the wasm heap; reductions and small ops stay on the calling thread); JS: ${m.describe.js}`);
  const e = (v: number | undefined): string => (v === undefined ? '—' : v.toExponential(1));
  note(`second-order checks (max relative error): SiLU'' vs closed form: wasm ${e(checks.silu2Err[WASM_1T])}, JS ${e(checks.silu2Err[JS])}, tfjs ${e(checks.silu2Err[TFJS])}; HVP vs float64: wasm ${e(checks.hvpErr[WASM_1T])}, JS ${e(checks.hvpErr[JS])}, tfjs ${e(checks.hvpErr[TFJS])}`);
  note(
    `method: every row in ${bench.quick ? '1 round' : 'rounds'} interleaved across the columns (order rotating), after a full GC and a warm-up of ${bench.quick ? 'one call' : 'up to 1 s per column (3 calls for the scalar rows)'}; backward rows time .backward() alone on a graph built untimed (PyTorch and Nabla; tfjs records its tape inside the gradient call, so its backward is its forward+backward less its forward's median); no column reads its results back (every kernel here runs synchronously in its call; a readback would copy out of tfjs's wasm memory what no other column copies)`,
  );
  note(
    'isolation: each group of rows (matmul; SiLU; MLP; scalar graph; SiLU\'\'; HVP) runs in a fresh Node process holding tfjs and the three Nabla runtimes (PyTorch: one server process for the suite), so that no group is measured in the heap, GC state and JIT feedback earlier groups left behind (in one process the scalar forward moved from 1.2 to 2.8 µs/op with what ran before it)',
  );
  note(
    'GC that runs between samples is charged to the sample before it: each in-process sample (Nabla, tfjs) is its wall time plus the collection pauses (perf_hooks gc entries) in the return to the event loop right after it, where V8 runs its task-scheduled scavenges and marking steps; PyTorch frees its graphs by refcounting inside its timed call (NABLA_BENCH_GC=1 prints per cell the GC ms inside, between and outside the samples)',
  );
}

function declareTable(ROWS: Row[], torchName: string, nThreads: number, nt: string, fma: boolean): void {
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
        ...(fma ? ([[WASM_FMA, TFJS]] as [string, string][]) : []),
        [nt, TFJS],
        [WASM_1T, TORCH_1T],
        [nt, TORCH_2T],
        [WASM_1T, JS],
      ],
    },
  });
}

/**
 * Forks a measuring process for group `group`, lends it the PyTorch server, and resolves with
 * what it measured; `onMeta` hears about its runtimes before it measures. The child inherits this
 * process's V8 flags (so `node --trace-gc dist/main.js` traces the children too) and its stdout;
 * `fmaFlag`: the flag that gives it relaxed SIMD, for the FMA column (null: no FMA column).
 */
function inFreshProcess(group: number, torch: TorchServer | { missing: string }, onMeta: (m: GroupMeta) => void, fmaFlag: string | null): Promise<GroupResult> {
  const execArgv = fmaFlag === null ? process.execArgv : [...process.execArgv, fmaFlag];
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced', execArgv });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    process.stderr.write(d);
    stderr = (stderr + d).slice(-4000);
  });
  if ('setup' in torch) lendTorch(child, torch);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
    };
    child.on('message', (m: ChildReport | { t: string }) => {
      if (m.t === 'meta') onMeta((m as Extract<ChildReport, { t: 'meta' }>).meta);
      else if (m.t === 'result') settle(() => resolve((m as Extract<ChildReport, { t: 'result' }>).result));
      else if (m.t === 'error') settle(() => reject(Object.assign(new Error((m as Extract<ChildReport, { t: 'error' }>).message), { stack: (m as Extract<ChildReport, { t: 'error' }>).stack })));
    });
    child.on('error', (e) => settle(() => reject(e)));
    child.on('exit', (code, signal) =>
      settle(() => reject(new Error(`the measuring process of group ${CPU_GROUPS[group]!.kind} exited (${code ?? signal}) before it answered: ${stderr.trim().split('\n').pop() ?? ''}`))),
    );
    const orders: ChildOrders = {
      t: 'measure',
      group,
      quick: bench.quick,
      runs: timingOverrides.runs,
      fmaColumn: fmaFlag !== null,
      torch: 'version' in torch ? { version: torch.version, blas: torch.blas } : { missing: torch.missing },
    };
    child.send(orders);
  });
}
