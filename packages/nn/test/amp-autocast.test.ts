/**
 * CPU autocast against PyTorch 1.13's `torch.autocast('cpu', dtype=torch.bfloat16)` (recorded by
 * fixtures/make_amp_fixtures.py): every op's output dtype, its values within bfloat16 tolerance,
 * and for the low-precision ops the float32 leaves' gradients (dtype float32, values close).
 * Then the region's contract on real tensors: weight casts cached once per region (and remade
 * after an in-place update), `enabled: false` inside, float64 untouched, and the tutorial loop in
 * bfloat16 against PyTorch's sequence of scales and losses.
 */
import * as nabla from '@nabla/core';
import { amp, type Runtime, type Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, hashed, values } from './helpers.js';
import { ampSetup } from './amp-loop.js';

interface Input {
  shape: number[];
  dtype: string;
  values: number[];
}
interface OpCase {
  inputs: Input[];
  dtype: string;
  shape: number[];
  values: number[];
  grads?: ({ dtype: string; values: number[] } | null)[];
}
interface Training {
  dtype: string;
  steps: { loss: number; skipped: boolean; scale: number; growthTracker: number; outDtype: string; lossDtype: string; gradDtypes: string[] }[];
  params: number[][];
}
interface AmpFixture {
  initScale: number;
  growthInterval: number;
  overflowStep: number;
  training: Training[];
  ops: Record<string, OpCase>;
}

const fx = fixture<AmpFixture>('amp.json');
const F = nn.functional;

/** Nabla's spelling of each recorded op. */
const OPS: Record<string, (...t: Tensor[]) => Tensor> = {
  mm: (x, y) => x.mm(y),
  matmul: (x, y) => x.matmul(y),
  bmm: (x, y) => x.bmm(y),
  addmm: (c, x, y) => c.addmm(x, y),
  linear: (x, w, b) => F.linear(x, w, b),
  linear3d: (x, w, b) => F.linear(x, w, b),
  conv2d: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }),
  softmax_bf16: (x) => x.softmax(1),
  softmax_f32: (x) => x.softmax(1),
  logSoftmax_bf16: (x) => x.logSoftmax(1),
  sum_bf16: (x) => x.sum(),
  mean_bf16: (x) => x.mean(1),
  prod_bf16: (x) => x.prod(1),
  exp_bf16: (x) => x.exp(),
  log_bf16: (x) => x.log(),
  pow_bf16: (x) => x.pow(2),
  cumsum_bf16: (x) => x.cumsum(1),
  logsumexp_bf16: (x) => x.logsumexp(1),
  relu_bf16: (x) => x.relu(),
  add_mixed: (x, y) => x.add(y),
  cat_mixed: (x, y) => nabla.cat([x, y]),
  stack_mixed: (x, y) => nabla.stack([x, y]),
  mseLoss_bf16: (x, t) => nn.mseLoss(x, t),
  l1Loss_bf16: (x, t) => nn.l1Loss(x, t),
  crossEntropy_bf16: (x, t) => nn.crossEntropy(x, t),
  nllLoss_bf16: (x, t) => nn.nllLoss(x, t),
  bceWithLogits_bf16: (x, t) => nn.binaryCrossEntropyWithLogits(x, t),
  layerNorm_bf16: (x) => F.layerNorm(x, [8]),
  batchNorm_bf16: (x) => F.batchNorm(x, null, null, null, null, { training: true }),
};

let rt: Runtime;
let hasBf16 = false;
beforeAll(async () => {
  rt = await cpuRuntime();
  hasBf16 = rt.backends.all().some((b) => b.device === 'cpu' && (b.dtypes as readonly string[]).includes('bfloat16'));
});

function input(r: Runtime, i: Input, grad: boolean): Tensor {
  if (i.dtype === 'int64') return r.tensor(Int32Array.from(i.values), { shape: i.shape, dtype: 'int32' });
  const t = r.tensor(Float32Array.from(i.values), { shape: i.shape });
  return i.dtype === 'float32' ? (grad ? t.requiresGrad_(true) : t) : t.to(i.dtype as nabla.DType);
}

function close(got: readonly number[], want: readonly number[], rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(got[k]! - want[k]!) - rtol * Math.abs(want[k]!));
  expect(worst, `${what}: worst excess over rtol ${rtol}`).toBeLessThanOrEqual(atol);
}

describe("CPU autocast (bfloat16) matches torch.autocast('cpu')", () => {
  for (const [name, c] of Object.entries(fx.ops)) {
    it(`${name}: dtype ${c.dtype}, values within bfloat16 tolerance${c.grads ? ', float32 gradients' : ''}`, ({ skip }) => {
      if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
      const fn = OPS[name];
      expect(fn, `a Nabla spelling for ${name}`).toBeDefined();
      rt.tidy(() => {
        const xs = c.inputs.map((i) => input(rt, i, c.grads !== undefined));
        const out = nabla.autocast('cpu', () => fn!(...xs));
        expect(out.dtype).toBe(c.dtype);
        expect(out.shape).toEqual(c.shape);
        // One bfloat16 ulp is 2⁻⁸ relative; composite ops round a few times where PyTorch's
        // fused kernels round once.
        close(values(out.float()), c.values, 2 ** -5, 2 ** -6, name);
        if (c.grads) {
          out.float().sum().backward();
          c.grads.forEach((g, k) => {
            if (g === null) return;
            const got = xs[k]!.grad!;
            expect(got.dtype, `${name} grad ${k}`).toBe(g.dtype);
            close(values(got), g.values, 2 ** -5, 2 ** -5, `${name} grad ${k}`);
          });
        }
      });
    });
  }
});

describe('autocast region contract on tensors', () => {
  it('casts a weight once per region and reuses it; recasts after an in-place update', ({ skip }) => {
    if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
    const w = hashed(rt, [4, 4], 1, { dtype: 'float32', requiresGrad: true });
    const x = hashed(rt, [2, 4], 2, { dtype: 'float32' });
    nabla.autocast('cpu', () => {
      const a = x.mm(w);
      const b = x.mm(w);
      const castA = a.gradFn!.nextFunctions[1]![0]!;
      const castB = b.gradFn!.nextFunctions[1]![0]!;
      expect(castA.name()).toBe('ToCopyBackward0');
      expect(castB).toBe(castA); // one cast node: the cached copy
      rt.noGrad(() => w.mul_(2));
      const c = x.mm(w);
      expect(c.gradFn!.nextFunctions[1]![0]).not.toBe(castA);
      c.float().sum().backward();
    });
    expect(w.grad!.dtype).toBe('float32');
  });

  it('enabled:false inside turns it off; float64 is never cast; regions nest', ({ skip }) => {
    if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
    const a = hashed(rt, [3, 3], 3, { dtype: 'float32' });
    const d = hashed(rt, [3, 3], 4, { dtype: 'float64' });
    nabla.autocast('cpu', () => {
      expect(a.mm(a).dtype).toBe('bfloat16');
      expect(d.mm(d).dtype).toBe('float64');
      nabla.autocast('cpu', () => expect(a.mm(a).dtype).toBe('float32'), { enabled: false });
      expect(a.mm(a).dtype).toBe('bfloat16');
    });
    expect(a.mm(a).dtype).toBe('float32');
  });

  it("the tutorial's loop in bfloat16: PyTorch's scales, skips and growth counts; losses within bf16 tolerance", ({ skip }) => {
    if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
    const rec = fx.training.find((t) => t.dtype === 'bfloat16')!;
    const { model, fc1, params, x, y, opt, scaler } = ampSetup(rt, fx);
    rec.steps.forEach((want, step) =>
      rt.tidy(() => {
        opt.zeroGrad();
        let outDtype = '';
        const loss = nabla.autocast('cpu', () => {
          const out = model.forward(x);
          outDtype = out.dtype;
          return nn.crossEntropy(out, y);
        });
        expect(outDtype).toBe(want.outDtype);
        expect(loss.dtype).toBe(want.lossDtype);
        scaler.scale(loss).backward();
        expect([...new Set(params.map((p) => p.grad!.dtype))].sort()).toEqual(want.gradDtypes);
        if (step === fx.overflowStep) rt.noGrad(() => fc1.weight.grad!.indexPut_([0, 0], Infinity));
        const before = params.map((p) => values(p));
        scaler.unscale_(opt);
        nn.utils.clipGradNorm_(model.parameters(), 1.0);
        scaler.step(opt);
        scaler.update();
        const skipped = params.every((p, i) => values(p).every((v, j) => v === before[i]![j]));
        expect(skipped, `step ${step} skipped`).toBe(want.skipped);
        expect(scaler.getScale(), `step ${step} scale`).toBe(want.scale);
        expect((scaler.stateDict() as amp.GradScalerState).growthTracker).toBe(want.growthTracker);
        expect(Math.abs(loss.item() - want.loss)).toBeLessThan(2e-2);
      }),
    );
    params.forEach((p, j) => close(values(p), rec.params[j]!, 2 ** -5, 2 ** -6, `param ${j}`));
  });
});
