/** Runs the PyTorch side of a suite (src/peers/torch_bench.py) in one Python process. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface TorchCase {
  kind: 'overhead' | 'matmul' | 'chain' | 'mlp' | 'silu' | 'mlp3' | 'scalar' | 'silu2' | 'hvp' | 'sort' | 'topk' | 'cumsum' | 'cumprod';
  arg: number;
  /** torch.set_num_threads for this case; its result is keyed `kind:arg:threads` (else `kind:arg`, 1 thread). */
  threads?: number;
}

export interface TorchResults {
  version: string;
  /** The BLAS behind torch's matmul ('reference BLAS' for a plain Debian python3-torch). */
  blas: string;
  results: Record<string, Record<string, number>>;
}

const PYTHON = process.env.NABLA_BENCH_PYTHON ?? '/usr/bin/python3';

/** PyTorch's numbers for `cases`, or a reason why there are none. */
export function runTorch(cases: TorchCase[]): TorchResults | { missing: string } {
  if (!existsSync(PYTHON)) return { missing: `${PYTHON} not found` };
  const script = fileURLToPath(new URL('../../src/peers/torch_bench.py', import.meta.url));
  const r = spawnSync(PYTHON, [script], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? 'failed';
    return { missing: `PyTorch peer did not run (${why}); install it with: apt-get install -y python3-torch` };
  }
  const parsed = JSON.parse(r.stdout) as { torch: string; blas: string; results: TorchResults['results'] };
  return { version: parsed.torch, blas: parsed.blas, results: parsed.results };
}
