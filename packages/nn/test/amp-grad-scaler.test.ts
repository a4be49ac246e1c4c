/**
 * GradScaler against PyTorch 1.13 (fixtures/make_amp_fixtures.py runs PyTorch's own GradScaler
 * class on the CPU with its two CUDA kernels written out): the tutorial's AMP loop with a planted
 * overflow must skip exactly that step, halve the scale, and otherwise follow PyTorch's sequence of
 * scales, growth counts, losses and parameters. Plus the scaler's contract: errors in PyTorch's
 * words, one device read per step, pass-through when disabled, state dicts.
 */
import { amp, type Runtime, type Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, hashed, values } from './helpers.js';
import { ampSetup } from './amp-loop.js';

interface Step {
  loss: number;
  outDtype: string;
  lossDtype: string;
  gradDtypes: string[];
  skipped: boolean;
  scale: number;
  growthTracker: number;
  paramSums: number[];
}
interface Training {
  dtype: 'float32' | 'bfloat16';
  steps: Step[];
  params: number[][];
  stateDict: Record<string, number>;
}
interface AmpFixture {
  initScale: number;
  growthInterval: number;
  overflowStep: number;
  training: Training[];
}

const fx = fixture<AmpFixture>('amp.json');

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** The tutorial's loop, as make_amp_fixtures.py runs it. */
function train(r: Runtime, rec: Training, onStep: (i: number, got: Step, scaler: amp.GradScaler) => void): Tensor[] {
  const { model, fc1, params, x, y, opt, scaler } = ampSetup(r, fx);
  for (let step = 0; step < rec.steps.length; step++) {
    r.tidy(() => {
      opt.zeroGrad();
      let outDtype = '';
      const loss = nn.amp.autocast(
        'cpu',
        () => {
          const out = model.forward(x);
          outDtype = out.dtype;
          return nn.crossEntropy(out, y);
        },
        { dtype: 'bfloat16', enabled: rec.dtype === 'bfloat16' },
      );
      scaler.scale(loss).backward();
      const gradDtypes = [...new Set(params.map((p) => p.grad!.dtype))].sort();
      if (step === fx.overflowStep) r.noGrad(() => fc1.weight.grad!.indexPut_([0, 0], Infinity));
      const before = params.map((p) => values(p));
      scaler.unscale_(opt);
      nn.utils.clipGradNorm_(model.parameters(), 1.0);
      scaler.step(opt);
      scaler.update();
      const skipped = params.every((p, i) => values(p).every((v, j) => v === before[i]![j]));
      const got: Step = {
        loss: loss.float().item(),
        outDtype,
        lossDtype: loss.dtype,
        gradDtypes,
        skipped,
        scale: scaler.getScale(),
        growthTracker: (scaler.stateDict() as amp.GradScalerState).growthTracker,
        paramSums: params.map((p) => values(p).reduce((a, b) => a + b, 0)),
      };
      onStep(step, got, scaler);
    });
  }
  return params;
}

describe('GradScaler: the tutorial AMP loop against PyTorch 1.13', () => {
  const f32 = fx.training.find((t) => t.dtype === 'float32')!;

  it('fixture sanity: the planted overflow skips one step and halves the scale in PyTorch', () => {
    const k = fx.overflowStep;
    expect(f32.steps.filter((s) => s.skipped).length).toBe(1);
    expect(f32.steps[k]!.skipped).toBe(true);
    expect(f32.steps[k]!.scale).toBe(f32.steps[k - 1]!.scale / 2);
  });

  it('float32 (autocast off): same skips, scales, growth counts, losses and parameters', () => {
    const params = train(rt, f32, (i, got) => {
      const want = f32.steps[i]!;
      expect(got.skipped, `step ${i} skipped`).toBe(want.skipped);
      expect(got.scale, `step ${i} scale`).toBe(want.scale);
      expect(got.growthTracker, `step ${i} growth tracker`).toBe(want.growthTracker);
      expect(got.loss).toBeCloseTo(want.loss, 5);
      expect(got.outDtype).toBe(want.outDtype);
      expect(got.lossDtype).toBe(want.lossDtype);
      expect(got.gradDtypes).toEqual(want.gradDtypes);
      got.paramSums.forEach((s, j) => expect(s).toBeCloseTo(want.paramSums[j]!, 4));
    });
    params.forEach((p, j) => {
      const v = values(p);
      f32.params[j]!.forEach((w, k) => expect(Math.abs(v[k]! - w)).toBeLessThan(2e-5));
    });
  });

  it('float32: exactly one skipped step, at the planted overflow', () => {
    const skipped: number[] = [];
    const scales: number[] = [];
    train(rt, f32, (i, got) => {
      if (got.skipped) skipped.push(i);
      scales.push(got.scale);
    });
    expect(skipped).toEqual([fx.overflowStep]);
    expect(scales).toEqual(f32.steps.map((s) => s.scale));
  });
});

describe('GradScaler contract', () => {
  function setup(r: Runtime, opts: amp.GradScalerOptions = {}) {
    const lin = new nn.Linear(3, 2, { runtime: r });
    const opt = new nn.optim.SGD(lin.parameters(), { lr: 0.1 });
    const x = hashed(r, [4, 3], 1, { dtype: 'float32' });
    const scaler = new amp.GradScaler(opts);
    return { lin, opt, x, scaler };
  }

  it('defaults are PyTorch 1.13s', () => {
    const s = new amp.GradScaler();
    expect(s.getScale()).toBe(65536);
    expect(s.getGrowthFactor()).toBe(2);
    expect(s.getBackoffFactor()).toBe(0.5);
    expect(s.getGrowthInterval()).toBe(2000);
    expect(s.isEnabled()).toBe(true);
    expect(s.stateDict()).toEqual({ scale: 65536, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 0 });
    expect(nn.amp.GradScaler).toBe(amp.GradScaler);
  });

  it('scales the loss, unscales the gradients to the unscaled ones', () => {
    const { lin, opt, x, scaler } = setup(rt, { initScale: 256 });
    const ref = lin.forward(x).square().sum();
    ref.backward();
    const want = values(lin.weight.grad!);
    opt.zeroGrad();
    const scaled = scaler.scale(lin.forward(x).square().sum());
    expect(scaled.item()).toBeCloseTo(ref.item() * 256, 2);
    scaled.backward();
    expect(values(lin.weight.grad!).map((v) => v / 256)).toEqual(want.map((v) => Math.fround(v * 256) / 256));
    scaler.unscale_(opt);
    values(lin.weight.grad!).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it('step reads the device once (the fused found-inf check), update reads nothing', () => {
    const { lin, opt, x, scaler } = setup(rt);
    scaler.scale(lin.forward(x).sum()).backward();
    const backend = lin.weight._ref.backend;
    const realSync = backend.readSync!.bind(backend);
    const realRead = backend.read.bind(backend);
    let reads = 0;
    backend.readSync = (v) => (reads++, realSync(v));
    backend.read = (v) => (reads++, realRead(v));
    try {
      scaler.step(opt);
      expect(reads).toBe(1);
      scaler.update();
      expect(reads).toBe(1);
    } finally {
      backend.readSync = realSync;
      backend.read = realRead;
    }
  });

  it('a NaN gradient skips the step too; the growth count restarts', () => {
    const { lin, opt, x, scaler } = setup(rt, { initScale: 8, growthInterval: 2 });
    scaler.scale(lin.forward(x).sum()).backward();
    scaler.step(opt);
    scaler.update();
    expect(scaler.stateDict()).toMatchObject({ scale: 8, growthTracker: 1 });
    opt.zeroGrad();
    scaler.scale(lin.forward(x).sum()).backward();
    rt.noGrad(() => lin.bias!.grad!.indexPut_([1], NaN));
    const before = values(lin.weight);
    expect(scaler.step(opt)).toBeUndefined();
    expect(values(lin.weight)).toEqual(before);
    scaler.update();
    expect(scaler.stateDict()).toMatchObject({ scale: 4, growthTracker: 0 });
  });

  it('growth stops where the scale would overflow float32 (as PyTorch)', () => {
    const { lin, opt, x, scaler } = setup(rt, { initScale: 2 ** 127, growthInterval: 1 });
    scaler.scale(lin.forward(x).sum().mul(0)).backward();
    scaler.step(opt);
    scaler.update();
    expect(scaler.getScale()).toBe(2 ** 127);
    expect(scaler.stateDict()).toMatchObject({ growthTracker: 0 });
  });

  it('errors in PyTorch words', () => {
    const { lin, opt, x, scaler } = setup(rt);
    expect(() => scaler.unscale_(opt)).toThrow(/did not use scaler.scale/);
    expect(() => scaler.update()).toThrow(/No inf checks were recorded prior to update/);
    scaler.scale(lin.forward(x).sum()).backward();
    scaler.unscale_(opt);
    expect(() => scaler.unscale_(opt)).toThrow(/unscale_\(\) has already been called on this optimizer since the last update\(\)/);
    scaler.step(opt);
    expect(() => scaler.step(opt)).toThrow(/step\(\) has already been called since the last update\(\)/);
    expect(() => scaler.unscale_(opt)).toThrow(/unscale_\(\) is being called after step\(\)/);
    scaler.update();
    expect(() => new amp.GradScaler({ growthFactor: 1 })).toThrow(/growthFactor should be > 1/);
    expect(() => new amp.GradScaler({ backoffFactor: 1 })).toThrow(/backoffFactor should be < 1/);
    expect(() => scaler.step({} as never)).toThrow(/expected an optimizer/);
    expect(() => scaler.loadStateDict({})).toThrow(/saved from a disabled instance/);
  });

  it('disabled: scale returns the loss, step steps, update and stateDict do nothing', () => {
    const { lin, opt, x, scaler } = setup(rt, { enabled: false });
    const loss = lin.forward(x).sum();
    expect(scaler.scale(loss)).toBe(loss);
    loss.backward();
    const before = values(lin.weight);
    scaler.unscale_(opt);
    scaler.step(opt);
    expect(values(lin.weight)).not.toEqual(before);
    scaler.update();
    expect(scaler.getScale()).toBe(1);
    expect(scaler.stateDict()).toEqual({});
  });

  it('stateDict round-trips, PyTorch snake_case keys accepted; update(newScale) sets it', () => {
    const a = new amp.GradScaler({ initScale: 512, growthInterval: 7 });
    a.update(100.1);
    expect(a.getScale()).toBe(Math.fround(100.1));
    const b = new amp.GradScaler();
    b.loadStateDict(a.stateDict() as amp.GradScalerState);
    expect(b.stateDict()).toEqual(a.stateDict());
    b.loadStateDict({ scale: 8, growth_factor: 3, backoff_factor: 0.25, growth_interval: 5, _growth_tracker: 2 });
    expect(b.stateDict()).toEqual({ scale: 8, growthFactor: 3, backoffFactor: 0.25, growthInterval: 5, growthTracker: 2 });
  });

  it('stepAsync gives the same result as step', async () => {
    const { lin, opt, x, scaler } = setup(rt, { initScale: 4 });
    scaler.scale(lin.forward(x).sum()).backward();
    const before = values(lin.weight);
    await scaler.stepAsync(opt);
    scaler.update();
    expect(values(lin.weight)).not.toEqual(before);
    expect(scaler.stateDict()).toMatchObject({ growthTracker: 1 });
  });
});
