/**
 * The loop PyTorch users write — no `tidy`, no `dispose()`, no `gc()`:
 *
 *   for (...) { const l = nn.crossEntropy(model.call(x), y); l.backward(); opt.step(); opt.zeroGrad(); }
 *
 * stays flat on the CPU and on WebGPU. On the CPU the typed arrays of the tensors nobody disposed
 * go with them when V8 collects them (a finalizer holds only their count, see core's
 * runtime/memory.ts), so RSS stays within 1.5× of the same loop inside `tidy` even though no
 * finalizer can run inside a synchronous loop. `memory()` uncounts collected tensors when their
 * finalizers run, which is when the event loop turns: the samples below are taken after an
 * `await`, as a loop that logs its loss would.
 */
import { createRuntime, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';
import { probeNodeAdapter, webgpuBackend } from '@nabla/backend-webgpu';
import { describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime } from './helpers.js';

const adapter = await probeNodeAdapter();
if (!adapter.ok) console.log(`[naive loop] webgpu SKIPPED: no WebGPU adapter (${adapter.reason})`);

interface Sample {
  step: number;
  numTensors: number;
  numBytes: number;
  rssMiB: number;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function build(rt: Runtime, device: string, batch: number) {
  const o = { runtime: rt, device };
  rt.manualSeed(3);
  const model = new nn.Sequential(new nn.Linear(2, 64, o), new nn.ReLU(), new nn.Linear(64, 64, o), new nn.ReLU(), new nn.Linear(64, 3, o));
  const opt = new nn.optim.SGD(model.parameters(), { lr: 0.05 });
  const x = rt.randn([batch, 2], { device });
  const y = rt.tensor(Array.from({ length: batch }, (_, i) => i % 3), { dtype: 'int32', device });
  return { model, opt, x, y };
}

async function run(rt: Runtime, device: string, opts: { steps: number; every: number; batch: number; tidy: boolean; readEvery?: number }): Promise<Sample[]> {
  const { model, opt, x, y } = build(rt, device, opts.batch);
  const step = () => {
    const l = nn.crossEntropy(model.call(x), y);
    l.backward();
    opt.step();
    opt.zeroGrad();
    return l;
  };
  const samples: Sample[] = [];
  for (let s = 1; s <= opts.steps; s++) {
    if (opts.tidy) rt.tidy(() => void step());
    else {
      const l = step();
      if (opts.readEvery !== undefined && s % opts.readEvery === 0) await l.itemAsync();
    }
    if (s % opts.every === 0) {
      await turn();
      const m = rt.memory().byDevice[device]!;
      samples.push({ step: s, numTensors: m.numTensors, numBytes: m.numBytes, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) });
    }
  }
  return samples;
}

const show = (what: string, s: readonly Sample[]): void =>
  console.log(`[naive loop] ${what}: step tensors/bytes/RSS MiB ` + s.map((x) => `${x.step}:${x.numTensors}/${x.numBytes}/${x.rssMiB}`).join(' '));

describe('a naive training loop (no tidy, no dispose, no gc) stays flat', () => {
  it('on the cpu: 10,000 steps, RSS within 1.5x of the tidy loop, memory() bounded', async () => {
    const rt = await cpuRuntime();
    // The tidy loop first: its RSS is the reference (RSS never goes back down, so the naive loop
    // after it can only add to it).
    const tidy = await run(rt, 'cpu', { steps: 2000, every: 500, batch: 16, tidy: true });
    show('cpu, tidy', tidy);
    const naive = await run(rt, 'cpu', { steps: 10_000, every: 500, batch: 16, tidy: false });
    show('cpu, naive', naive);
    const ref = tidy.at(-1)!.rssMiB;
    expect(naive.at(-1)!.rssMiB, `RSS ${naive.at(-1)!.rssMiB} MiB vs tidy ${ref} MiB`).toBeLessThanOrEqual(1.5 * ref);
    // memory() rises between full collections and comes back down after them (before the fix it
    // only rose, +4 tensors a step): in the second half some sample is below an earlier one.
    expect(cameDown(naive.map((s) => s.numTensors)), 'memory().numTensors never came down').toBe(true);
    expect(cameDown(naive.map((s) => s.numBytes)), 'memory().numBytes never came down').toBe(true);
  }, 900_000);

  it.skipIf(!adapter.ok)('on webgpu: 1,000 steps, reading the loss every 10, device memory comes back down', async () => {
    const rt = (await createRuntime({ plugins: [cpuBackend(), activations(), webgpuBackend(adapter.ok ? adapter.options : {})] }));
    try {
      // Enough steps that V8 collects its young generation several times whatever the machine's
      // load (200 steps allocate about 10 MB of JS objects: on a quiet machine, less than one).
      const naive = await run(rt, 'webgpu', { steps: 1000, every: 100, batch: 16, tidy: false, readEvery: 10 });
      show('webgpu, naive', naive);
      // GPU buffers are invisible to V8, so when the collector runs is up to the JS heap: the
      // series is a sawtooth, not a line. What must hold is that it comes back down, with no gc().
      expect(cameDown(naive.map((s) => s.numTensors)), 'memory().numTensors never came down').toBe(true);
      expect(cameDown(naive.map((s) => s.numBytes)), 'memory().numBytes never came down').toBe(true);
    } finally {
      await rt.dispose();
    }
  }, 600_000);
});

/** Some sample of the second half is lower than a sample before it. */
function cameDown(xs: readonly number[]): boolean {
  for (let j = Math.floor(xs.length / 2); j < xs.length; j++) if (xs.slice(0, j).some((x) => x > xs[j]!)) return true;
  return false;
}
