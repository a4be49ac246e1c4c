/**
 * The cpu suite measures each group of rows in a fresh process: the groups still cover every row
 * of the table once, in table order, with the same columns as before; and the PyTorch server the
 * suite owns answers a child's questions over the IPC channel (set-up, blocks, errors), here with
 * both ends of the channel joined in this process and a fake server. Nothing here times anything.
 */
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { borrowedTorch, lendTorch } from '../src/peers/pytorch-remote.js';
import type { ServedCase, TorchServer } from '../src/peers/pytorch.js';
import { CPU_GROUPS, cpuRows, cpuSizes, rowColumns } from '../src/suites/cpu-rows.js';

describe('cpu suite groups', () => {
  it('cover every row once, in table order, each with its columns', () => {
    for (const quick of [false, true]) {
      const rows = cpuRows(cpuSizes(quick));
      expect(CPU_GROUPS.flatMap((g) => g.rows.map((r) => r.key))).toEqual(rows.map((r) => r.key));
    }
    const cells = CPU_GROUPS.flatMap((g) => g.rows.flatMap((r) => rowColumns(r, 'Nabla wasm 2t').map((c) => `${r.key}|${c.impl}`)));
    // 8 rows on all six columns, and the unshared backward on Nabla's three only.
    expect(cells).toHaveLength(8 * 6 + 3);
    expect(cells.filter((c) => c.startsWith('scalarBwdUnshared|'))).toEqual(['scalarBwdUnshared|Nabla JS (before)', 'scalarBwdUnshared|Nabla wasm 1t', 'scalarBwdUnshared|Nabla wasm 2t']);
    expect(rowColumns(CPU_GROUPS[3]!.rows[1]!, 'Nabla wasm 2t').map((c) => c.step)).toEqual(['bwd', 'bwd', 'fb', 'bwd', 'bwd', 'bwd']);
  });

  it('the FMA column sits after wasm 1t, in the groups of matrix products only', () => {
    const gemm = CPU_GROUPS.filter((g) => g.gemm === true).map((g) => g.kind);
    expect(gemm).toEqual(['matmul', 'mlp3', 'hvp']);
    const mm = rowColumns(CPU_GROUPS[0]!.rows[0]!, 'Nabla wasm 2t', true).map((c) => c.impl);
    expect(mm).toEqual(['PyTorch 1t', 'PyTorch 2t', 'tfjs-wasm', 'Nabla JS (before)', 'Nabla wasm 1t', 'Nabla wasm 1t FMA', 'Nabla wasm 2t']);
    // Without it, the same six columns as before.
    expect(rowColumns(CPU_GROUPS[0]!.rows[0]!, 'Nabla wasm 2t', false).map((c) => c.impl)).toEqual(mm.filter((c) => c !== 'Nabla wasm 1t FMA'));
  });
});

describe('PyTorch lent to a measuring child', () => {
  const realSend = process.send;
  afterEach(() => {
    process.send = realSend;
  });

  /** Joins `lendTorch`'s child end and this process's IPC end in memory. */
  function joined(server: TorchServer): TorchServer {
    const child = Object.assign(new EventEmitter(), {
      connected: true,
      send: (m: unknown): boolean => (process as EventEmitter).emit('message', m),
    });
    lendTorch(child as unknown as ChildProcess, server);
    process.send = ((m: unknown): boolean => child.emit('message', m)) as typeof process.send;
    return borrowedTorch('1.13', 'reference BLAS');
  }

  it('forwards set-ups and blocks, and answers each question with its own samples', async () => {
    const asked: string[] = [];
    const server: TorchServer = {
      version: '1.13',
      blas: 'reference BLAS',
      setup: async (c: ServedCase) => void asked.push(`setup ${c.kind}:${c.arg}:${c.threads}`),
      contender: (name, c, step) => ({
        name,
        block: async (b) => {
          asked.push(`block ${name} ${c.kind} ${step} runs=${b.runs}`);
          return { samples: Array.from({ length: b.runs }, () => c.threads), cpuMs: Array.from({ length: b.runs }, () => 0.5) };
        },
      }),
      close: () => {},
    };
    const t = joined(server);
    const c1 = { kind: 'scalar', arg: 333, threads: 1 } as const;
    const c2 = { ...c1, threads: 2 } as const;
    await t.setup(c1);
    await t.setup(c2);
    const budget = { warmup: 1, runs: 3, minMs: 0, maxRuns: 3, maxMs: Infinity };
    const [a, b] = await Promise.all([t.contender('PyTorch 1t', c1, 'fwd').block(budget), t.contender('PyTorch 2t', c2, 'bwd').block({ ...budget, runs: 2 })]);
    expect(a).toEqual({ samples: [1, 1, 1], cpuMs: [0.5, 0.5, 0.5] });
    expect(b).toEqual({ samples: [2, 2], cpuMs: [0.5, 0.5] });
    expect(asked).toEqual(['setup scalar:333:1', 'setup scalar:333:2', 'block PyTorch 1t scalar fwd runs=3', 'block PyTorch 2t scalar bwd runs=2']);
    t.close();
  });

  it("passes the server's error on, so the cell is left missing with its reason", async () => {
    const server: TorchServer = {
      version: '1.13',
      blas: 'reference BLAS',
      setup: async () => {
        throw new Error('PyTorch: no such case');
      },
      contender: (name) => ({ name, block: async () => ({ samples: [], cpuMs: [] }) }),
      close: () => {},
    };
    const t = joined(server);
    await expect(t.setup({ kind: 'hvp', arg: 64, threads: 1 })).rejects.toThrow('PyTorch: no such case');
    t.close();
  });
});
