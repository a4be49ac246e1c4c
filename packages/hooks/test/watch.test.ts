/**
 * watch / GradientRecorder / ActivationRecorder on the spiral MLP: the recorded statistics equal a
 * plain recomputation from the values, steps are recorded every `every`, exports carry them, hooks
 * come off, and device memory stays flat over 10,000 watched steps.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActivationRecorder, GradientRecorder, watch, type Stats } from '../src/index.js';
import { plainStats, spiral, spiralMlp } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

function expectStats(got: Stats, want: Stats, what: string): void {
  const close = (a: number, b: number, k: string): void => {
    if (!Number.isFinite(b)) expect(a, `${what} ${k}`).toBe(b);
    else expect(Math.abs(a - b), `${what} ${k}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));
  };
  expect(got.numel, `${what} numel`).toBe(want.numel);
  for (const k of ['mean', 'std', 'norm', 'min', 'max'] as const) close(got[k], want[k], k);
  expect(got.nanCount, `${what} nanCount`).toBe(want.nanCount);
  expect(got.infCount, `${what} infCount`).toBe(want.infCount);
  close(got.histogram.min, want.histogram.min, 'histogram.min');
  close(got.histogram.max, want.histogram.max, 'histogram.max');
  expect(got.histogram.counts, `${what} histogram`).toEqual(want.histogram.counts);
}

function data(): { x: Tensor; y: Tensor } {
  const d = spiral();
  return { x: rt.tensor(Float64Array.from(d.x), { shape: [300, 2], dtype: 'float64' }), y: rt.tensor(d.y, { shape: [300] }) };
}

describe('watch on the spiral MLP', () => {
  it("records gradients, parameters and module outputs equal to a plain recomputation", () => {
    const model = spiralMlp(rt, 32, { dtype: 'float64' });
    const { x, y } = data();
    const opt = new nn.optim.Adam(model.parameters(), { lr: 0.01 });
    const rec = watch(model, { log: 'all', every: 1, bins: 20 });
    const seen = new Map<string, number[]>();
    const own = model.namedModules().filter(([n]) => n !== '').map(([n, m]) => m.registerForwardHook((_m, _a, out) => void seen.set(n, Array.from((out as Tensor).dataSync(), Number))));
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      nn.crossEntropy(model.call(x), y).backward();
      rec.step();
      const r = rec.latest()!;
      expect(r.step).toBe(step);
      for (const [name, p] of model.namedParameters()) {
        expectStats(r.grads![name]!, plainStats(p.grad!.dataSync(), 20), `step ${step} grad ${name}`);
        expectStats(r.params![name]!, plainStats(p.dataSync(), 20), `step ${step} param ${name}`);
      }
      expect(Object.keys(r.acts!)).toEqual(['0', '1', '2', '3', '4']);
      for (const [name, v] of seen) expectStats(r.acts![name]!, plainStats(v, 20), `step ${step} act ${name}`);
      opt.step();
    }
    expect(rec.history.map((r) => r.step)).toEqual([0, 1, 2]);
    rec.remove();
    own.forEach((h) => h.remove());
  });

  it('records every `every` steps; the halves record what they say; exports carry the steps', () => {
    const model = spiralMlp(rt, 16, { dtype: 'float64' });
    const { x, y } = data();
    const grads = new GradientRecorder(model, { every: 5, bins: 8 });
    const acts = new ActivationRecorder(model, { every: 5, bins: 8 });
    for (let step = 0; step < 12; step++) {
      model.zeroGrad();
      nn.crossEntropy(model.call(x), y).backward();
      grads.note('loss-ish', step);
      grads.step();
      acts.step();
    }
    expect(grads.history.map((r) => r.step)).toEqual([0, 5, 10]);
    expect(grads.history.every((r) => r.grads && !r.params && !r.acts)).toBe(true);
    expect(acts.history.every((r) => r.acts && !r.grads)).toBe(true);
    expect(grads.latest()!.scalars).toEqual({ 'loss-ish': 10 });
    const json = JSON.parse(JSON.stringify(grads)) as { every: number; history: { step: number }[] };
    expect(json.every).toBe(5);
    expect(json.history.length).toBe(3);
    const csv = grads.toCSV().trim().split('\n');
    expect(csv[0]).toBe('step,kind,name,numel,mean,std,norm,min,max,nanCount,infCount');
    expect(csv.filter((l) => l.startsWith('10,grads,')).length).toBe(6);
    expect(csv).toContain('10,scalar,loss-ish,1,10,,,,,,');
    const html = acts.toHTML();
    expect((html.match(/<svg class="heatmap"/g) ?? []).length).toBe(5);
    grads.remove();
    acts.remove();
    // Removed: no hooks left on any module.
    expect(model.modules().every((m) => m._forwardHooks.length === 0)).toBe(true);
  });

  it('keeps device memory flat over 10,000 watched steps', () => {
    // 1,024 bins make each statistics vector 4 KiB: big enough for memory() to count on the CPU.
    rt.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(2, 32, { runtime: rt }), new nn.ReLU(), new nn.Linear(32, 3, { runtime: rt }));
    const d = spiral(16);
    const x = rt.tensor(d.x, { shape: [48, 2] });
    const y = rt.tensor(d.y, { shape: [48] });
    const opt = new nn.optim.SGD(model.parameters(), { lr: 0.05 });
    const rec = watch(model, { log: 'all', every: 100, bins: 1024 });
    const at: Record<number, number> = {};
    for (let step = 1; step <= 10_000; step++) {
      rt.tidy(() => {
        opt.zeroGrad();
        nn.crossEntropy(model.call(x), y).backward();
        opt.step();
      });
      rec.step();
      if (step === 100 || step === 10_000) at[step] = rt.memory().numBytes;
    }
    console.log(`[watch] memory().numBytes at step 100: ${at[100]}, at step 10,000: ${at[10_000]}; ${rec.history.length} recorded steps`);
    expect(at[10_000]).toBe(at[100]);
    expect(rec.history.length).toBe(100);
    expect(rec.latest()!.acts!['0']!.histogram.counts.length).toBe(1024);
    rec.remove();
  }, 600_000);
});
