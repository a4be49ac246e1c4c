/**
 * Optimizer parity with PyTorch 1.13: a 784-256-256-10 MLP in float64 with weights from a shared
 * formula, 5 steps of each optimizer configuration recorded by fixtures/make_fixtures.py. Every
 * parameter is compared after every step through its sum, sum of squares, a weighted sum and 16
 * sampled entries; the losses and learning rates are compared too.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, hashed } from './helpers.js';

interface Checksums {
  sum: number;
  sumsq: number;
  wsum: number;
  samples: number[];
}

interface Step {
  loss: number;
  params: Record<string, Checksums>;
  lr: number[];
  totalNorm?: number;
}

interface Config {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop';
  options: Record<string, unknown>;
  extras: {
    groups?: ({ layers: number[] } & Record<string, unknown>)[];
    scheduler?: [string, Record<string, number>];
    clip_norm?: number;
    clip_value?: number;
    label_smoothing?: number;
  };
  steps: Step[];
  finalLoss: number;
}

interface Parity {
  sizes: number[];
  batch: number;
  samples: number;
  configs: Config[];
}

const data = fixture<Parity>('optim-parity.json');
const TOL = 1e-5;

/** PyTorch's snake_case keyword names → ours. */
function camel(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) {
    const name = k === 'T_max' ? 'tMax' : k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    out[name] = v;
  }
  return out;
}

function makeMlp(rt: Runtime): nn.Sequential {
  const [a, b, c, d] = data.sizes as [number, number, number, number];
  const o = { runtime: rt, dtype: 'float64' as const };
  const model = new nn.Sequential(new nn.Linear(a, b, o), new nn.ReLU(), new nn.Linear(b, c, o), new nn.ReLU(), new nn.Linear(c, d, o));
  const state: nn.StateDict = {};
  for (let l = 0; l < 3; l++) {
    const fanIn = data.sizes[l]!;
    const fanOut = data.sizes[l + 1]!;
    const bound = 1 / Math.sqrt(fanIn);
    state[`${2 * l}.weight`] = hashed(rt, [fanOut, fanIn], 2 * l + 1, { scale: 2 * bound });
    state[`${2 * l}.bias`] = hashed(rt, [fanOut], 2 * l + 2, { scale: 2 * bound });
  }
  model.loadStateDict(state);
  for (const t of Object.values(state)) t.dispose();
  return model;
}

function checksums(p: Tensor, nSamples: number): Checksums {
  const v = p.dataSync();
  let sum = 0;
  let sumsq = 0;
  let wsum = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    sumsq += v[i]! * v[i]!;
    wsum += v[i]! * ((i % 7) - 3);
  }
  const samples = Array.from({ length: nSamples }, (_, j) => v[(j * 2654435761) % v.length]!);
  return { sum, sumsq, wsum, samples };
}

function makeOptimizer(cfg: Config, model: nn.Sequential): nn.optim.Optimizer<{ lr: number }> {
  const opts = camel(cfg.options);
  const params = cfg.extras.groups
    ? cfg.extras.groups.map(({ layers, ...hyper }) => ({ ...camel(hyper), params: layers.flatMap((l) => model.get(l).parameters()) }))
    : model.parameters();
  switch (cfg.optimizer) {
    case 'SGD':
      return new nn.optim.SGD(params, opts as unknown as nn.optim.SGDOptions) as unknown as nn.optim.Optimizer<{ lr: number }>;
    case 'Adam':
      return new nn.optim.Adam(params, opts) as unknown as nn.optim.Optimizer<{ lr: number }>;
    case 'AdamW':
      return new nn.optim.AdamW(params, opts) as unknown as nn.optim.Optimizer<{ lr: number }>;
    case 'RMSprop':
      return new nn.optim.RMSprop(params, opts) as unknown as nn.optim.Optimizer<{ lr: number }>;
  }
}

function makeScheduler(cfg: Config, opt: nn.optim.Optimizer<{ lr: number }>): nn.optim.lrScheduler.LRScheduler | null {
  const s = cfg.extras.scheduler;
  if (!s) return null;
  const [name, kw] = s;
  const o = camel(kw);
  if (name === 'StepLR') return new nn.optim.lrScheduler.StepLR(opt, o as unknown as nn.optim.lrScheduler.StepLROptions);
  if (name === 'CosineAnnealingLR') return new nn.optim.lrScheduler.CosineAnnealingLR(opt, o as unknown as nn.optim.lrScheduler.CosineAnnealingLROptions);
  throw new Error(`unknown scheduler ${name}`);
}

/** The largest error seen per kind, over all configurations (printed at the end). */
const worst = { loss: 0, sum: 0, sumsq: 0, wsum: 0, sample: 0, lr: 0, norm: 0 };

function close(kind: keyof typeof worst, got: number, want: number, what: string): void {
  const err = Math.abs(got - want);
  const rel = err / Math.max(1, Math.abs(want));
  worst[kind] = Math.max(worst[kind], err);
  if (!(rel <= TOL)) throw new Error(`${what}: got ${got}, PyTorch ${want} (|diff| ${err})`);
}

describe('optimizers match PyTorch on a 784-256-256-10 MLP (float64, 5 steps)', () => {
  let rt: Runtime;
  let x: Tensor;
  let y: Tensor;

  beforeAll(async () => {
    rt = await cpuRuntime();
    x = hashed(rt, [data.batch, data.sizes[0]!], 100, { shift: 0.5 });
    y = rt.tensor(Array.from({ length: data.batch }, (_, n) => (n * 7 + 3) % 10), { dtype: 'int32' });
    return () => console.log(`[optim parity] max |error| vs PyTorch: ${JSON.stringify(worst)}`);
  });

  for (const cfg of data.configs) {
    it(cfg.name, () => {
      const model = makeMlp(rt);
      const opt = makeOptimizer(cfg, model);
      const sched = makeScheduler(cfg, opt);
      const labelSmoothing = cfg.extras.label_smoothing ?? 0;
      cfg.steps.forEach((want, step) => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.call(x), y, { labelSmoothing });
        loss.backward();
        if (cfg.extras.clip_norm !== undefined) {
          const total = nn.utils.clipGradNorm_(model.parameters(), cfg.extras.clip_norm);
          close('norm', total.item(), want.totalNorm!, `step ${step} total norm`);
        }
        if (cfg.extras.clip_value !== undefined) nn.utils.clipGradValue_(model.parameters(), cfg.extras.clip_value);
        opt.step();
        sched?.step();
        close('loss', loss.item(), want.loss, `step ${step} loss`);
        opt.paramGroups.forEach((g, i) => close('lr', g.lr, want.lr[i]!, `step ${step} lr of group ${i}`));
        for (const [name, p] of model.namedParameters()) {
          const got = checksums(p, data.samples);
          const ref = want.params[name]!;
          close('sum', got.sum, ref.sum, `step ${step} ${name} sum`);
          close('sumsq', got.sumsq, ref.sumsq, `step ${step} ${name} sum of squares`);
          close('wsum', got.wsum, ref.wsum, `step ${step} ${name} weighted sum`);
          got.samples.forEach((v, j) => close('sample', v, ref.samples[j]!, `step ${step} ${name} sample ${j}`));
        }
      });
      const final = rt.noGrad(() => nn.crossEntropy(model.call(x), y, { labelSmoothing }));
      close('loss', final.item(), cfg.finalLoss, 'loss after the last step');
      expect(worst.loss).toBeLessThan(TOL);
    });
  }
});
