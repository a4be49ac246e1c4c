/**
 * Training lab: a 2-64-64-3 MLP learns the three-armed spiral (CS231n's toy data set) with Adam,
 * full batch; `watch` records per-layer gradient histograms, clipping is `clipGradNorm_`, and the
 * NaN detector names the module and op where a NaN first appears.
 */
import * as nabla from '@nabla/core';
import type { Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { nanDetector, watch, type GradientRecorder, type Recorder } from '@nabla/hooks';

export interface Spiral {
  readonly x: Tensor;
  readonly y: Tensor;
  /** The same points as plain numbers, for drawing: x0, y0, x1, y1, ... */
  readonly points: Float32Array;
  readonly labels: Int32Array;
}

/** `perClass` points per arm, 3 arms, with Gaussian noise on the angle (seeded, device independent). */
export function spiral(device: string, perClass = 100, seed = 7): Spiral {
  let s = seed >>> 0;
  const uniform = (): number => ((s = (s + 0x6d2b79f5) >>> 0), (((s ^ (s >>> 15)) * (s | 1)) >>> 0) / 2 ** 32);
  const gauss = (): number => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const n = perClass * 3;
  const points = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = i / (perClass - 1);
      const t = c * 4 + (4 * i) / (perClass - 1) + gauss() * 0.2;
      points[2 * k] = r * Math.sin(t);
      points[2 * k + 1] = r * Math.cos(t);
      labels[k] = c;
    }
  }
  const x = nabla.tensor(points, { shape: [n, 2], device });
  const y = nabla.tensor(labels, { shape: [n], dtype: 'int32', device });
  return { x, y, points, labels };
}

export function makeModel(seed = 0): nn.Sequential {
  nabla.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 3));
}

export interface Trainer {
  readonly model: nn.Sequential;
  readonly opt: nn.optim.Adam;
  /** Gradient histograms of every parameter, every `every` steps. */
  readonly recorder: GradientRecorder | Recorder;
}

export function trainer(every = 10): Trainer {
  const model = makeModel();
  return { model, opt: new nn.optim.Adam(model.parameters(), { lr: 0.01 }), recorder: watch(model, { log: 'grads', every, bins: 24 }) };
}

/**
 * One step: forward, cross-entropy, backward, (clip), Adam. Returns the loss and the gradient's
 * total norm before clipping, as tensors (read them when you need them: reads wait for the GPU).
 */
export function trainStep(t: Trainer, data: Spiral, clip: number | null): { loss: Tensor; gradNorm: Tensor } {
  return nabla.tidy(() => {
    t.opt.zeroGrad();
    const loss = nn.crossEntropy(t.model.call(data.x), data.y);
    loss.backward();
    t.recorder.step();
    // With maxNorm = Infinity nothing is scaled: the call only measures the norm.
    const gradNorm = nn.utils.clipGradNorm_(t.model.parameters(), clip ?? Infinity);
    t.opt.step();
    return { loss: loss.detach(), gradNorm };
  });
}

/** The fraction of points the model classifies right. */
export async function accuracy(model: nn.Module, data: Spiral): Promise<number> {
  const pred = nabla.noGrad(() => (model.call(data.x) as Tensor).argmax(1));
  const got = (await pred.data()) as Int32Array;
  pred.dispose();
  return got.reduce((ok, c, i) => ok + (c === data.labels[i] ? 1 : 0), 0) / got.length;
}

/** The predicted class on an n×n grid over [-extent, extent]², top row first. */
export async function boundary(model: nn.Module, device: string, n = 48, extent = 1.1): Promise<Int32Array> {
  const xs = new Float32Array(2 * n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      xs[2 * (i * n + j)] = -extent + ((j + 0.5) * 2 * extent) / n;
      xs[2 * (i * n + j) + 1] = extent - ((i + 0.5) * 2 * extent) / n;
    }
  }
  const pred = nabla.noGrad(() => nabla.tidy(() => (model.call(nabla.tensor(xs, { shape: [n * n, 2], device })) as Tensor).argmax(1)));
  const out = new Int32Array(await pred.data());
  pred.dispose();
  return out;
}

/** A layer with a bug: log of a pre-activation that goes negative. */
class LogFeatures extends nn.Module {
  override forward(x: Tensor): Tensor {
    return x.log();
  }
}

/** Runs a step of a model that makes a NaN, under the NaN detector, and returns what it says. */
export async function nanDemo(data: Spiral): Promise<string> {
  nabla.manualSeed(1);
  const model = new nn.Sequential(new nn.Linear(2, 16), new LogFeatures(), new nn.Linear(16, 3));
  const detector = nanDetector(model);
  try {
    nabla.tidy(() => nn.crossEntropy(model.call(data.x), data.y).backward());
    await detector.check(); // GPUs: one batched read of the step's NaN flags
    return 'no NaN found';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    detector.remove();
  }
}
