/**
 * Runs the PyTorch side of a suite (src/peers/torch_bench.py) in one Python process: all its
 * cases at once (`runTorch`), or as a server the bench asks for one block of samples at a time
 * (`startTorchServer`), so that PyTorch's samples are interleaved with Nabla's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Contender } from '../interleave.js';
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
const SCRIPT = fileURLToPath(new URL('../../src/peers/torch_bench.py', import.meta.url));

/** PyTorch's numbers for `cases`, or a reason why there are none. `timing` as the suite's own `time()` calls. */
export function runTorch(cases: TorchCase[], timing: TimeOptions = {}): TorchResults | { missing: string } {
  if (!existsSync(PYTHON)) return noteMissing({ missing: `${PYTHON} not found; install PyTorch with: apt-get install -y python3-torch` });
  const t = effectiveTiming(timing);
  const input = JSON.stringify({ cases, timing: { warmup: t.warmup, runs: t.runs, min_ms: t.minMs } });
  const r = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', timeout: 600_000 });
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

/** A case of the served peer, as torch_bench.py's STEPS name it (`matmul`, `silu`, ...). */
export interface ServedCase {
  kind: 'matmul' | 'silu' | 'mlp3' | 'scalar' | 'silu2' | 'hvp';
  arg: number;
  threads: number;
}

/**
 * A PyTorch process that waits for requests: `setup` builds a case, `contender` times one of its
 * steps a block at a time (each block's samples with the Python process's CPU time). While it
 * runs a block this process only waits, and while this process measures it blocks on its stdin.
 */
export interface TorchServer {
  version: string;
  blas: string;
  setup(c: ServedCase): Promise<void>;
  contender(name: string, c: ServedCase, step: string): Contender;
  close(): void;
}

/** Starts the served peer, or says why it cannot run. */
export async function startTorchServer(): Promise<TorchServer | { missing: string }> {
  if (!existsSync(PYTHON)) return noteMissing({ missing: `${PYTHON} not found; install PyTorch with: apt-get install -y python3-torch` });
  const child = spawn(PYTHON, [SCRIPT, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let dead: Error | null = null;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line) as Record<string, unknown>));
  const fail = (why: string): void => {
    dead ??= new Error(`PyTorch peer stopped (${why}): ${stderr.trim().split('\n').pop() ?? ''}`);
    for (const w of waiting.splice(0)) w.reject(dead);
  };
  child.on('exit', (code, signal) => fail(`exit ${code ?? signal}`));
  child.on('error', (e) => fail(e.message));
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (dead !== null) reject(dead);
      else waiting.push({ resolve, reject });
    });
  const ask = async (req: Record<string, unknown>): Promise<Record<string, unknown>> => {
    if (dead !== null) throw dead;
    const answer = next();
    child.stdin.write(`${JSON.stringify(req)}\n`);
    const a = await answer;
    if (typeof a.error === 'string') throw new Error(`PyTorch: ${a.error}`);
    return a;
  };
  let hello: Record<string, unknown>;
  try {
    hello = await next();
  } catch (e) {
    return noteMissing({ missing: `PyTorch peer did not run (${(e as Error).message}); install it with: apt-get install -y python3-torch` });
  }
  const version = String(hello.torch);
  const blas = String(hello.blas);
  bench.peers.PyTorch = `${version} (${blas}; Python ${PYTHON}; threads as each case says, 1 unless labelled)`;
  return {
    version,
    blas,
    setup: async (c) => void (await ask({ op: 'setup', ...c })),
    contender: (name, c, step) => ({
      name,
      block: async (b) => {
        const a = await ask({ op: 'block', ...c, step, warmup: b.warmup, runs: b.runs, min_ms: b.minMs, max_runs: b.maxRuns });
        return { samples: a.samples as number[], cpuMs: a.cpu_ms as number[] };
      },
    }),
    close: () => {
      child.stdin.end();
      child.kill();
    },
  };
}
