/** Runs the PyTorch side of a suite (src/peers/torch_bench.py) in one Python process. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bench } from '../report/recorder.js';
import { effectiveTiming, type TimeOptions } from '../timing.js';

export interface TorchCase {
  kind: 'overhead' | 'matmul' | 'chain' | 'mlp' | 'silu' | 'mlp3' | 'scalar' | 'silu2' | 'hvp' | 'sort' | 'topk' | 'cumsum' | 'cumprod';
  arg: number;
  /** torch.set_num_threads for this case; its result is keyed `kind:arg:threads` (else `kind:arg`, 1 thread). */
  threads?: number;
}

/** A time measured in Python: its median and every sample (ms, or µs/op for per-op results). */
export interface TorchTimed {
  median: number;
  samples: number[];
}

export interface TorchResults {
  version: string;
  /** The BLAS behind torch's matmul ('reference BLAS' for a plain Debian python3-torch). */
  blas: string;
  results: Record<string, Record<string, TorchTimed | number>>;
}

const PYTHON = process.env.NABLA_BENCH_PYTHON ?? '/usr/bin/python3';

/** PyTorch's numbers for `cases`, or a reason why there are none. `timing` as the suite's own `time()` calls. */
export function runTorch(cases: TorchCase[], timing: TimeOptions = {}): TorchResults | { missing: string } {
  if (!existsSync(PYTHON)) return noteMissing({ missing: `${PYTHON} not found; install PyTorch with: apt-get install -y python3-torch` });
  const script = fileURLToPath(new URL('../../src/peers/torch_bench.py', import.meta.url));
  const t = effectiveTiming(timing);
  const input = JSON.stringify({ cases, timing: { warmup: t.warmup, runs: t.runs, min_ms: t.minMs } });
  const r = spawnSync(PYTHON, [script], { input, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? 'failed';
    return noteMissing({ missing: `PyTorch peer did not run (${why}); install it with: apt-get install -y python3-torch` });
  }
  const parsed = JSON.parse(r.stdout) as { torch: string; blas: string; results: TorchResults['results'] };
  bench.peers.PyTorch = `${parsed.torch} (${parsed.blas}; Python ${PYTHON}; threads as each case says, 1 unless labelled)`;
  return { version: parsed.torch, blas: parsed.blas, results: parsed.results };
}

function noteMissing(m: { missing: string }): { missing: string } {
  bench.peers.PyTorch ??= `missing: ${m.missing}`;
  return m;
}

/** The samples of `field` of the case `key` (e.g. `matmul:1024`, `ms`), or null when PyTorch did not run it. */
export function torchSamples(torch: TorchResults | { missing: string }, key: string, field = 'ms'): number[] | null {
  if (!('results' in torch)) return null;
  const v = torch.results[key]?.[field];
  if (v === undefined) return null;
  return typeof v === 'number' ? [v] : v.samples;
}
