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
 * second-order rows, a bound in ms that needs the full sizes, and a right answer). `nt`: the
 * threaded Nabla column, which every goal is judged on but the single-threaded matmul one.
 */
export function cpuGoals(rows: readonly CpuRow[], nt: string, quick: boolean): Goal[] {
  const w = (key: string): string => rows.find((r) => r.key === key)!.name;
  const goals: Goal[] = [
    { workload: w('matmulGflops'), impl: nt, against: 'tfjs-wasm', atLeast: 2, label: `≥ 2× tfjs-wasm (${nt.replace('Nabla wasm ', '')})` },
    { workload: w('matmulGflops'), impl: 'Nabla wasm 1t', against: 'tfjs-wasm', atLeast: 1.2, label: '≥ 1.2× tfjs-wasm (1t)' },
    { workload: w('siluFb'), impl: nt, against: 'PyTorch 2t', atLeast: 0.5, label: 'within 2× of PyTorch 2t' },
    { workload: w('siluFb'), impl: nt, against: 'tfjs-wasm', atLeast: 10, label: '≥ 10× tfjs-wasm' },
    { workload: w('mlp'), impl: nt, against: 'tfjs-wasm', atLeast: 10, label: '≥ 10× tfjs-wasm' },
    { workload: w('scalarFwd'), impl: nt, against: 'PyTorch 1t', atLeast: 5, label: '≥ 5× PyTorch 1t' },
    { workload: w('scalarBwd'), impl: nt, against: 'PyTorch 1t', atLeast: 5, label: '≥ 5× PyTorch 1t' },
  ];
  if (!quick) {
    goals.push(
      { workload: w('silu2'), impl: nt, atMost: 6, right: true, label: '≤ 6 ms and right' },
      { workload: w('hvp'), impl: nt, atMost: 5, right: true, label: '≤ 5 ms and right' },
    );
  }
  return goals;
}

