import { describe, expect, it } from 'vitest';
import type { CaseRecord, TableRecord } from '../src/report/model.js';
import { tableGroups, wideTable } from '../src/report/tables.js';
import { summarize } from '../src/stats.js';

const c = (workload: string, impl: string, samples: number[], better: 'lower' | 'higher' = 'lower', peer = false): CaseRecord => ({
  suite: 's',
  table: 't',
  workload,
  impl,
  role: peer ? 'peer' : 'nabla',
  unit: better === 'lower' ? 'ms' : 'GFLOP/s',
  better,
  samples,
  summary: summarize(samples),
  load1: 0,
});

describe('tables', () => {
  const cases = [c('a', 'fused', [1, 2, 3]), c('a', 'composed', [4, 6, 8]), c('b', 'fused', [10]), c('b', 'composed', [5]), c('g', 'Nabla cpu', [30], 'higher'), c('g', 'PyTorch', [10], 'higher', true)];

  it('groups cases by workload and gives each row its ratio against the named implementations', () => {
    const t: TableRecord = { id: 't', title: 'T', against: ['composed'] };
    const g = tableGroups(t, 's', cases);
    expect(g.map((x) => x.workload)).toEqual(['a', 'b', 'g']);
    expect(g[0]!.rows.map((r) => r.ratios[0])).toEqual([3, NaN]); // fused 2 ms vs composed 6 ms: 3× better; composed vs itself: none
    expect(g[1]!.rows[0]!.ratios[0]).toBe(0.5); // fused 10 ms vs composed 5 ms: half as good
    expect(g[2]!.rows[0]!.ratios[0]).toBeNaN(); // no 'composed' in that workload
  });

  it('lays a table out wide: a row per workload, a column per implementation, chosen ratios (those of implementations that ran)', () => {
    const t: TableRecord = { id: 't', title: 'T', against: [], wide: { ratios: [['fused', 'composed'], ['Nabla cpu', 'PyTorch'], ['budget', 'composed']] } };
    const w = wideTable(t, tableGroups(t, 's', cases));
    expect(w.header).toEqual(['workload', 'unit', 'fused', 'composed', 'Nabla cpu', 'PyTorch', 'fused vs composed', 'Nabla cpu vs PyTorch']);
    expect(w.rows.map((r) => r.cells.map((x) => x?.summary.median))).toEqual([
      [2, 6, undefined, undefined],
      [10, 5, undefined, undefined],
      [undefined, undefined, 30, 10],
    ]);
    expect(w.rows.map((r) => r.ratios)).toEqual([
      [3, NaN],
      [0.5, NaN],
      [NaN, 3], // throughput: 30 GFLOP/s against 10 is 3× better
    ]);
  });
});
