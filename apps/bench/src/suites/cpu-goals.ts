/** Issue 12's goals for the cpu suite's rows (kept apart from the suite, which loads the peers). */
import type { Goal } from '../report/model.js';

/** A row of the cpu suite: its workload name, unit and the key of its samples. */
export interface CpuRow<K extends string = string> {
  name: string;
  unit: string;
  key: K;
  higherBetter: boolean;
  check?: 'silu2Err' | 'hvpErr';
}

/**
 * Issue 12's goal table, each goal as a ratio against a peer measured in the same run (or, for the
 * second-order rows, a bound in ms that needs the full sizes, and a right answer). Every label
 * starts with the Nabla column it is judged on:
 * - `nt` (threads 'auto'), where the issue lets threads help: matmul "with threads", SiLU
 *   fwd+bwd (against PyTorch on 2 threads too), the MLP step, SiLU'' and the HVP;
 * - `Nabla wasm 1t`: the single-threaded matmul goal, and the scalar graph, whose 0-d ops run on
 *   the calling thread whatever the thread count, judged against PyTorch on one thread as well.
 *   The issue's absolute figures for it (0.4 and 0.9 µs/op) are shown as hints, not counted: the
 *   ratio is the goal they were derived from, and it holds on any machine.
 */
export function cpuGoals(rows: readonly CpuRow[], nt: string, quick: boolean): Goal[] {
  const w = (key: string): string => rows.find((r) => r.key === key)!.name;
  const one = 'Nabla wasm 1t';
  const short = (impl: string): string => impl.replace('Nabla ', '');
  const T = short(nt);
  const S = short(one);
  const goals: Goal[] = [
    { workload: w('matmulGflops'), impl: nt, against: 'tfjs-wasm', atLeast: 2, label: `${T} ≥ 2× tfjs-wasm` },
    { workload: w('matmulGflops'), impl: one, against: 'tfjs-wasm', atLeast: 1.2, label: `${S} ≥ 1.2× tfjs-wasm` },
    { workload: w('siluFb'), impl: nt, against: 'PyTorch 2t', atLeast: 0.5, label: `${T} within 2× of PyTorch 2t` },
    { workload: w('siluFb'), impl: nt, against: 'tfjs-wasm', atLeast: 10, label: `${T} ≥ 10× tfjs-wasm` },
    { workload: w('mlp'), impl: nt, against: 'tfjs-wasm', atLeast: 10, label: `${T} ≥ 10× tfjs-wasm` },
    { workload: w('scalarFwd'), impl: one, against: 'PyTorch 1t', atLeast: 5, label: `${S} ≥ 5× PyTorch 1t` },
    { workload: w('scalarBwd'), impl: one, against: 'PyTorch 1t', atLeast: 5, label: `${S} ≥ 5× PyTorch 1t` },
  ];
  if (!quick) {
    goals.push(
      { workload: w('scalarFwd'), impl: one, atMost: 0.4, hint: true, label: `${S} ≤ 0.4 µs/op (issue's figure)` },
      { workload: w('scalarBwd'), impl: one, atMost: 0.9, hint: true, label: `${S} ≤ 0.9 µs/op (issue's figure)` },
      { workload: w('silu2'), impl: nt, atMost: 6, right: true, label: `${T} ≤ 6 ms and right` },
      { workload: w('hvp'), impl: nt, atMost: 5, right: true, label: `${T} ≤ 5 ms and right` },
    );
  }
  return goals;
}
