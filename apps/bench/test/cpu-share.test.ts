/**
 * The cpu/wall share of a case (process CPU time per wall time of each sample): the median per
 * case, a line per table with each column's median, and the cells that waited for a core listed
 * (or counted, when most did).
 */
import { describe, expect, it } from 'vitest';
import { cpuShare, starved } from '../src/report/cpu-share.js';
import type { CaseRecord } from '../src/report/model.js';
import { shareLines } from '../src/report/terminal.js';
import { summarize } from '../src/stats.js';

const c = (impl: string, workload: string, cpuPerWall?: number[]): CaseRecord => ({
  suite: 's',
  table: 't',
  workload,
  impl,
  role: 'nabla',
  unit: 'ms',
  better: 'lower',
  samples: [1, 1, 1],
  summary: summarize([1, 1, 1]),
  load1: 0,
  ...(cpuPerWall ? { cpuPerWall } : {}),
});

describe('cpu/wall', () => {
  it('is the median over the samples, NaN where the suite did not measure it', () => {
    expect(cpuShare(c('a', 'w', [0.2, 1, 0.9]))).toBe(0.9);
    expect(Number.isNaN(cpuShare(c('a', 'w')))).toBe(true);
  });

  it('gives each column its median and lists the cells that waited for a core', () => {
    const cases = [c('1t', 'mm', [1, 1]), c('2t', 'mm', [2, 2]), c('1t', 'silu', [0.5, 0.5]), c('2t', 'silu', [1.8]), c('peer', 'mm')];
    expect(starved(cases)).toEqual(['1t on silu: 0.50']);
    const lines = shareLines(['1t', '2t', 'peer'], cases);
    expect(lines[0]).toMatch(/: 1t 0\.75 · 2t 1\.90$/);
    expect(lines[1]).toBe('waited for a core (cpu/wall < 0.8: indications only): 1t on silu: 0.50');
  });

  it('counts instead of listing when most cells waited, and says nothing for a table without shares', () => {
    const cases = [c('a', 'x', [0.3]), c('a', 'y', [0.2]), c('b', 'x', [1])];
    expect(shareLines(['a', 'b'], cases)[1]).toBe('2 of 3 cells waited for a core (cpu/wall < 0.8): the whole table is an indication only');
    expect(shareLines(['a'], [c('a', 'x')])).toEqual([]);
  });
});
