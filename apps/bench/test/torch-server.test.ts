/**
 * The served PyTorch peer (what the cpu suite interleaves with Nabla's columns): it starts, sets a
 * case up, answers blocks of the requested runs with a CPU time per sample, times the scalar
 * backward alone, and turns a bad request into an error without dying. Needs Debian's
 * python3-torch; without it the test says so and skips.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startTorchServer, type TorchServer } from '../src/peers/pytorch.js';

const PYTHON = process.env.NABLA_BENCH_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.log(`[torch-server] SKIPPED: ${PYTHON} cannot import torch (apt-get install -y python3-torch, or set NABLA_BENCH_PYTHON)`);

describe.skipIf(!hasTorch)('served PyTorch peer', () => {
  let server: TorchServer | null = null;
  afterAll(() => server?.close());

  it('sets up a case and answers blocks of samples with their CPU time', async () => {
    const s = await startTorchServer();
    if (!('setup' in s)) throw new Error(s.missing);
    server = s;
    expect(s.version).toMatch(/^\d+\.\d+/);
    const c = { kind: 'scalar', arg: 20, threads: 1 } as const;
    await s.setup(c);
    const bwd = await s.contender('PyTorch 1t', c, 'bwd').block({ warmup: 1, runs: 3, minMs: 0, maxRuns: 3, maxMs: Infinity });
    expect(bwd.samples).toHaveLength(3);
    expect(bwd.cpuMs).toHaveLength(3);
    expect(bwd.samples.every((v) => v > 0)).toBe(true);
    const mm = { kind: 'matmul', arg: 16, threads: 2 } as const;
    await s.setup(mm);
    expect((await s.contender('PyTorch 2t', mm, 'ms').block({ warmup: 0, runs: 2, minMs: 0, maxRuns: 2, maxMs: Infinity })).samples).toHaveLength(2);
  }, 120_000);

  it('turns a bad request into an error and keeps serving', async () => {
    const s = server!;
    const c = { kind: 'scalar', arg: 20, threads: 1 } as const;
    await expect(s.contender('x', c, 'nope').block({ warmup: 0, runs: 1, minMs: 0, maxRuns: 1, maxMs: Infinity })).rejects.toThrow(/PyTorch: KeyError: 'nope'/);
    expect((await s.contender('x', c, 'fwd').block({ warmup: 0, runs: 1, minMs: 0, maxRuns: 1, maxMs: Infinity })).samples).toHaveLength(1);
  }, 60_000);
});
