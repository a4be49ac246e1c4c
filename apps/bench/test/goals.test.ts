/**
 * Goals (an issue's targets, declared with a table): judged from the same run's medians as ratios
 * against a peer or as bounds, "and right" failing a cell marked wrong; shown as the wide table's
 * last column in the terminal and the HTML, and absent (the row model unchanged) from tables that
 * declare none.
 */
import { describe, expect, it } from 'vitest';
import { judgeReport } from '../src/report/goal-report.js';
import { countGoals, fmtGoal, goalTally, judgeGoal, verdictOf } from '../src/report/goals.js';
import { reportHTML } from '../src/report/html.js';
import type { CaseRecord, Goal, Report, TableRecord } from '../src/report/model.js';
import { tableGroups, wideTable } from '../src/report/tables.js';
import { printSuite } from '../src/report/terminal.js';
import { summarize } from '../src/stats.js';
import { cpuGoals } from '../src/suites/cpu-goals.js';

const c = (workload: string, impl: string, samples: number[], unit = 'ms', note?: string): CaseRecord => ({
  suite: 's',
  table: 't',
  workload,
  impl,
  role: impl.startsWith('Nabla') ? 'nabla' : 'peer',
  unit,
  better: unit === 'GFLOP/s' ? 'higher' : 'lower',
  samples,
  summary: summarize(samples),
  ...(note ? { note } : {}),
  load1: 0,
});

const cases = [
  c('mm', 'tfjs', [10, 10, 10], 'GFLOP/s'),
  c('mm', 'Nabla 2t', [25, 24, 26], 'GFLOP/s'),
  c('mm', 'Nabla 1t', [11, 11, 11], 'GFLOP/s'),
  c('silu', 'torch', [2, 2, 2]),
  c('silu', 'Nabla 2t', [5, 5, 5]),
  c('hvp', 'Nabla 2t', [4, 4, 4], 'ms', 'wrong: max rel. error 3e-1'),
  c('hvp2', 'Nabla 2t', [4, 4, 4]),
];
const goals: Goal[] = [
  { workload: 'mm', impl: 'Nabla 2t', against: 'tfjs', atLeast: 2, label: '≥ 2× tfjs (2t)' },
  { workload: 'mm', impl: 'Nabla 1t', against: 'tfjs', atLeast: 1.2, label: '≥ 1.2× tfjs (1t)' },
  { workload: 'silu', impl: 'Nabla 2t', against: 'torch', atLeast: 0.5, label: 'within 2× of torch' },
  { workload: 'silu', impl: 'Nabla 2t', against: 'tfjs', atLeast: 10, label: '≥ 10× tfjs' },
  { workload: 'hvp', impl: 'Nabla 2t', atMost: 5, right: true, label: '≤ 5 ms and right' },
  { workload: 'hvp2', impl: 'Nabla 2t', atMost: 3, label: '≤ 3 ms' },
];
const judged = (g: Goal) => judgeGoal(g, cases.filter((x) => x.workload === g.workload));

describe('goals', () => {
  it('judges ratio goals from medians, in the unit\'s direction', () => {
    expect(judged(goals[0]!)).toMatchObject({ value: 2.5, met: true }); // 25 vs 10 GFLOP/s
    expect(judged(goals[1]!).value).toBeCloseTo(1.1);
    expect(judged(goals[1]!).met).toBe(false);
    expect(judged(goals[2]!)).toMatchObject({ value: 0.4, met: false }); // 5 ms vs 2 ms: 2.5× slower, not within 2×
  });

  it('leaves a goal whose peer did not run unjudged, and says why', () => {
    expect(judged(goals[3]!)).toMatchObject({ met: null, why: 'tfjs not measured' });
    expect(fmtGoal(judged(goals[3]!))).toBe('≥ 10× tfjs: — not judged (tfjs not measured)');
  });

  it('judges bounds on the median, and "right" fails a cell marked wrong whatever its time', () => {
    expect(judged(goals[4]!)).toMatchObject({ value: 4, met: false, why: 'wrong' });
    expect(judged(goals[5]!)).toMatchObject({ value: 4, unit: 'ms', met: false });
    expect(fmtGoal(judged(goals[0]!))).toBe('≥ 2× tfjs (2t): 2.50× (2.40–2.60) met');
    expect(goalTally(goals.map(judged))).toBe('1 met, 0 at the line, 4 NOT met of 5 goals (1 not judged)');
  });

  const table: TableRecord = { id: 't', title: 'T', against: [], wide: { ratios: [['Nabla 2t', 'tfjs']] }, goals };

  it('adds a goal column to the wide table only when the table declares goals', () => {
    const w = wideTable(table, tableGroups(table, 's', cases));
    expect(w.header.at(-1)).toBe('goal');
    expect(w.rows.map((r) => r.goals.length)).toEqual([2, 2, 1, 1]);
    const plain = wideTable({ ...table, goals: undefined }, tableGroups(table, 's', cases));
    expect(plain.hasGoals).toBe(false);
    expect(plain.header).not.toContain('goal');
    expect(plain.rows[0]!.cells.length).toBe(w.rows[0]!.cells.length);
  });

  it('prints the goals in the terminal table with a tally', () => {
    const lines: string[] = [];
    printSuite({ name: 's', tables: [table], legacy: [], notes: [], seconds: 1 }, cases, (l) => lines.push(l));
    const mm = lines.find((l) => l.startsWith('mm '))!;
    expect(mm).toMatch(/≥ 2× tfjs \(2t\): 2\.50× \(2\.40–2\.60\) met; ≥ 1\.2× tfjs \(1t\): 1\.10× NOT met$/);
    expect(lines).toContain('goals: 1 met, 0 at the line, 4 NOT met of 5 goals (1 not judged)');
    expect(lines.some((l) => l.includes('90% bootstrap interval'))).toBe(true);
  });

  it('renders the goals in the HTML report: marked met, not met or not judged', () => {
    const report = {
      format: 'nabla-bench/1', startedAt: 'x', finishedAt: 'x', wallSeconds: 1, argv: [],
      options: { quick: false, runs: null, suites: ['s'], devices: null },
      conditions: { cpuModel: 'cpu', cpuCount: 2, totalMemGiB: 1, platform: 'linux', node: 'v20', loadBefore: [0], loadAfter: [0], loadMax: 0, devices: [], missing: [], peers: {}, notes: [] },
      suites: [{ name: 's', tables: [table], legacy: [], notes: [], seconds: 1 }],
      cases,
    } satisfies Report;
    const html = reportHTML(report);
    expect(html).toContain('<th>goal</th>');
    expect(html).toContain('Goals: 1 met, 0 at the line, 4 NOT met of 5 goals (1 not judged).');
    expect(html.match(/class="goal met"/g)).toHaveLength(1);
    expect(html.match(/class="goal unmet"/g)).toHaveLength(4);
    expect(html.match(/class="goal unjudged"/g)).toHaveLength(1);
    expect(html).toContain('≤ 5 ms and right: <span class="num">4.00 ms</span> <i>NOT met (wrong)</i>');
  });

  it("the cpu suite's goals are issue 12's table, each judged on the column it names", () => {
    const rows = (['matmulGflops', 'siluFwd', 'siluFb', 'mlp', 'scalarFwd', 'scalarBwd', 'scalarBwdUnshared', 'silu2', 'hvp'] as const).map((key) => ({ name: key, unit: 'ms', key, higherBetter: false }));
    const full = cpuGoals(rows, 'Nabla wasm 2t', false);
    const rule = (g: Goal): string => `${g.workload} ${g.impl} ${g.against ? `${g.atLeast}× ${g.against}` : `≤ ${g.atMost}`}${g.right ? ' right' : ''}${g.hint ? ' hint' : ''}`;
    expect(full.map(rule)).toEqual([
      // matmul 1024²: ≥ 2× tfjs-wasm with threads, ≥ 1.2× single-threaded
      'matmulGflops Nabla wasm 2t 2× tfjs-wasm',
      'matmulGflops Nabla wasm 1t 1.2× tfjs-wasm',
      // SiLU fwd+bwd: within 2× of PyTorch 2t, ≥ 10× tfjs-wasm
      'siluFb Nabla wasm 2t 0.5× PyTorch 2t',
      'siluFb Nabla wasm 2t 10× tfjs-wasm',
      // MLP step: ≥ 10× tfjs-wasm
      'mlp Nabla wasm 2t 10× tfjs-wasm',
      // scalar graph: ≥ 5× PyTorch (one thread against one thread), the issue's µs/op as hints
      'scalarFwd Nabla wasm 1t 5× PyTorch 1t',
      'scalarBwd Nabla wasm 1t 5× PyTorch 1t',
      'scalarFwd Nabla wasm 1t ≤ 0.4 hint',
      'scalarBwd Nabla wasm 1t ≤ 0.9 hint',
      // SiLU'' ≤ 6 ms, HVP ≤ 5 ms, and right
      'silu2 Nabla wasm 2t ≤ 6 right',
      'hvp Nabla wasm 2t ≤ 5 right',
    ]);
    // Every label starts with the column it is judged on.
    for (const g of full) expect(g.label.startsWith(g.impl.replace('Nabla ', ''))).toBe(true);
    // --quick's sizes are not the goals': the absolute bounds are left out there.
    expect(cpuGoals(rows, 'Nabla wasm 2t', true)).toHaveLength(7);
  });

  it('shows hints beside the goals but tallies them apart', () => {
    const hint: Goal = { workload: 'hvp2', impl: 'Nabla 2t', atMost: 3, hint: true, label: '≤ 3 ms (figure)' };
    const results = [...goals, hint].map(judged);
    expect(fmtGoal(results.at(-1)!)).toBe('hint: ≤ 3 ms (figure): 4.00 ms NOT met');
    expect(goalTally(results)).toBe('1 met, 0 at the line, 4 NOT met of 5 goals (1 not judged); hints (not counted): 0 met, 0 at the line, 1 NOT met');
  });
});

describe('how sure a verdict is', () => {
  // 20 samples each, evenly over ±w around the centre (shuffled): hand-made, no randomness.
  const around = (centre: number, w: number, n = 20): number[] => Array.from({ length: n }, (_, i) => centre * (1 - w + (2 * w * ((i * 7) % n)) / (n - 1)));
  const mm = (tfjs: number[], nabla: number[]): CaseRecord[] => [c('mm', 'tfjs', tfjs, 'GFLOP/s'), c('mm', 'Nabla 2t', nabla, 'GFLOP/s')];
  const two: Goal = { workload: 'mm', impl: 'Nabla 2t', against: 'tfjs', atLeast: 2, label: '≥ 2× tfjs' };

  it('places an interval against a range: met inside, NOT met wholly outside, at the line across an edge', () => {
    expect(verdictOf({ low: 2.1, high: 2.4 }, 2, Infinity)).toBe('met');
    expect(verdictOf({ low: 1.6, high: 1.9 }, 2, Infinity)).toBe('NOT met');
    expect(verdictOf({ low: 1.8, high: 2.2 }, 2, Infinity)).toBe('at the line');
    expect(verdictOf({ low: 4.1, high: 5.6 }, -Infinity, 6)).toBe('met');
    expect(verdictOf({ low: 5.2, high: 6.4 }, -Infinity, 6)).toBe('at the line');
    expect(verdictOf({ low: 6.1, high: 6.4 }, -Infinity, 6)).toBe('NOT met');
  });

  it('says "at the line" when the median is past the line but the spread is not, and when it falls short by less than the spread', () => {
    // Medians 2.05× and 1.95×, with ±30% samples: this run cannot tell either from 2×.
    const above = judgeGoal(two, mm(around(10, 0.3), around(20.5, 0.3)));
    expect(above.value).toBeCloseTo(2.05, 2);
    expect(above.met).toBe(true); // the median alone said "met"
    expect(above.verdict).toBe('at the line');
    expect(above.spread.low).toBeLessThan(2);
    expect(above.spread.high).toBeGreaterThan(2);
    const below = judgeGoal(two, mm(around(10, 0.3), around(19.5, 0.3)));
    expect(below.met).toBe(false);
    expect(below.verdict).toBe('at the line');
    expect(fmtGoal(below)).toMatch(/^≥ 2× tfjs: 1\.95× \(1\.\d\d–2\.\d\d\) at the line$/);
    // The same medians with ±3% samples are sure either way.
    expect(judgeGoal(two, mm(around(10, 0.03), around(20.5, 0.03))).verdict).toBe('met');
    expect(judgeGoal(two, mm(around(10, 0.03), around(19.5, 0.03))).verdict).toBe('NOT met');
    // Far from the line, wide samples still give a sure verdict.
    expect(judgeGoal(two, mm(around(10, 0.3), around(40, 0.3))).verdict).toBe('met');
  });

  it('judges bounds on the median\'s interval, and "wrong" stays NOT met however the time falls', () => {
    const bound: Goal = { workload: 'hvp', impl: 'Nabla 2t', atMost: 5, label: '≤ 5 ms' };
    expect(judgeGoal(bound, [c('hvp', 'Nabla 2t', around(4.9, 0.2))]).verdict).toBe('at the line');
    expect(judgeGoal(bound, [c('hvp', 'Nabla 2t', around(4, 0.1))]).verdict).toBe('met');
    expect(judgeGoal({ ...bound, right: true }, [c('hvp', 'Nabla 2t', around(4, 0.1), 'ms', 'wrong: x')])).toMatchObject({ verdict: 'NOT met', why: 'wrong' });
  });

  it('counts the three verdicts apart in the tally, the terminal, the HTML and report.json', () => {
    const table: TableRecord = {
      id: 't',
      title: 'T',
      against: [],
      wide: { ratios: [['Nabla 2t', 'tfjs']] },
      goals: [
        two,
        { workload: 'mm', impl: 'Nabla 1t', against: 'tfjs', atLeast: 1.2, label: '1t ≥ 1.2× tfjs' },
        { workload: 'mm', impl: 'Nabla 1t', against: 'tfjs', atLeast: 3, label: '1t ≥ 3× tfjs' },
        { workload: 'mm', impl: 'Nabla 1t', against: 'torch', atLeast: 3, label: '1t ≥ 3× torch' },
      ],
    };
    // 2t at 2.05× ±30% (at the line), 1t at 1.5× ±3% (≥ 1.2× met, ≥ 3× NOT met), torch missing.
    const cs = [...mm(around(10, 0.3), around(20.5, 0.3)), c('mm', 'Nabla 1t', around(15, 0.03), 'GFLOP/s')];
    const results = table.goals!.map((g) => judgeGoal(g, cs));
    expect(results.map((r) => r.verdict)).toEqual(['at the line', 'met', 'NOT met', 'not judged']);
    expect(countGoals(results)).toEqual({ met: 1, atLine: 1, notMet: 1, notJudged: 1 });
    const tally = '1 met, 1 at the line, 1 NOT met of 3 goals (1 not judged)';
    expect(goalTally(results)).toBe(tally);

    const lines: string[] = [];
    printSuite({ name: 's', tables: [table], legacy: [], notes: [], seconds: 1 }, cs, (l) => lines.push(l));
    expect(lines).toContain(`goals: ${tally}`);
    expect(lines.find((l) => l.startsWith('mm '))).toMatch(/≥ 2× tfjs: 2\.05× \([\d.]+–[\d.]+\) at the line; 1t ≥ 1\.2× tfjs: 1\.50× \([\d.]+–[\d.]+\) met;/);

    const report = {
      format: 'nabla-bench/1', startedAt: 'x', finishedAt: 'x', wallSeconds: 1, argv: [],
      options: { quick: false, runs: null, suites: ['s'], devices: null },
      conditions: { cpuModel: 'cpu', cpuCount: 2, totalMemGiB: 1, platform: 'linux', node: 'v20', loadBefore: [0], loadAfter: [0], loadMax: 0, devices: [], missing: [], peers: {}, notes: [] },
      suites: [{ name: 's', tables: [table], legacy: [], notes: [], seconds: 1 }],
      cases: cs,
    } satisfies Report;
    const html = reportHTML(report);
    expect(html).toContain(`Goals: ${tally}.`);
    expect(html.match(/class="goal atline"/g)).toHaveLength(1);
    expect(html.match(/class="goal met"/g)).toHaveLength(1);
    expect(html).toMatch(/≥ 2× tfjs: <span class="num">2\.05×<\/span> <span class="spread">\([\d.]+–[\d.]+\)<\/span> <i>at the line<\/i>/);

    const judged = judgeReport(report.suites, report.cases);
    expect(judged.tallies).toEqual([{ suite: 's', table: 't', tally }]);
    expect(judged.goals.map((g) => [g.label, g.line, g.verdict])).toEqual([
      ['≥ 2× tfjs', '≥ 2.00×', 'at the line'],
      ['1t ≥ 1.2× tfjs', '≥ 1.20×', 'met'],
      ['1t ≥ 3× tfjs', '≥ 3.00×', 'NOT met'],
      ['1t ≥ 3× torch', '≥ 3.00×', 'not judged'],
    ]);
    const first = judged.goals[0]!;
    expect(first).toMatchObject({ suite: 's', table: 't', workload: 'mm', impl: 'Nabla 2t', against: 'tfjs', unit: '×', level: 0.9, spreadBy: 'samples' });
    expect(first.low!).toBeLessThan(2);
    expect(first.high!).toBeGreaterThan(2);
    expect(first.value).toBeCloseTo(2.05, 2);
    // Not judged: nulls (JSON has no NaN), and why.
    expect(judged.goals[3]).toMatchObject({ value: null, low: null, high: null, why: 'torch not measured' });
    // Round sizes recorded with the cells make it resample rounds.
    const withRounds = cs.map((x) => ({ ...x, rounds: [4, 4, 4, 4, 4] }));
    expect(judgeReport(report.suites, withRounds).goals[0]!.spreadBy).toBe('rounds');
  });
});
