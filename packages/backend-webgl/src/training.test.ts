/**
 * End to end on webgl: the 3-arm spiral learned to >= 95% by an MLP (nn layers, Adam,
 * cross-entropy: matmul, reductions, softmax, gather and scatterAdd forward and backward), and
 * 1,000 training steps that keep `memory()` and the device's texture count flat.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGLBackend } from './backend.js';
import { webglBackend } from './plugin.js';
import { probe } from './test-utils/setup.js';

const gl = await probe();

/** CS231n's spiral: `classes` arms of `perClass` points, deterministic noise. */
function spiralData(perClass = 100, classes = 3, noise = 0.2): { x: Float32Array; y: Int32Array } {
  let s = 12345;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(perClass * classes * 2);
  const y = new Int32Array(perClass * classes);
  for (let k = 0; k < classes; k++) {
    for (let i = 0; i < perClass; i++) {
      const n = k * perClass + i;
      const r = i / (perClass - 1);
      const t = k * 4 + r * 4 + gauss() * noise;
      x[2 * n] = r * Math.sin(t);
      x[2 * n + 1] = r * Math.cos(t);
      y[n] = k;
    }
  }
  return { x, y };
}

describe.skipIf(!gl.ok)('training on webgl', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend(), webglBackend()] });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  it('an MLP learns the spiral to >= 95% training accuracy', async () => {
    rt.manualSeed(0);
    const device = 'webgl';
    const data = spiralData();
    const n = data.y.length;
    const x = rt.tensor(data.x, { shape: [n, 2], device });
    const y = rt.tensor(data.y, { shape: [n], dtype: 'int32', device });
    const o = { runtime: rt, device };
    const model = new nn.Sequential(new nn.Linear(2, 64, o), new nn.ReLU(), new nn.Linear(64, 64, o), new nn.ReLU(), new nn.Linear(64, 3, o));
    const opt = new nn.optim.Adam(model.parameters(), { lr: 0.02 });
    let first = NaN;
    let last = NaN;
    const steps = 200;
    for (let step = 1; step <= steps; step++) {
      const loss = nn.utils.tidy(rt, () => {
        opt.zeroGrad();
        const l = nn.crossEntropy(model.call(x), y);
        l.backward();
        opt.step();
        return step === 1 || step === steps ? l : null;
      });
      if (loss) {
        const v = loss.item();
        loss.dispose();
        if (step === 1) first = v;
        last = v;
      }
    }
    const correct: Tensor = nn.utils.tidy(rt, () => rt.noGrad(() => model.eval().call(x).argmax(1).eq(y).to('float32').sum()));
    const acc = correct.item() / n;
    console.log(`[backend-webgl] spiral: ${(acc * 100).toFixed(1)}% after ${steps} Adam steps, loss ${first.toFixed(3)} -> ${last.toFixed(4)}`);
    expect(acc).toBeGreaterThanOrEqual(0.95);
    expect(last).toBeLessThan(first / 10);
  }, 900_000); // ~150 kernels a step at a few ms each on a software rasterizer

  it('1,000 training steps keep memory() and the texture count flat', () => {
    const device = 'webgl';
    const b = rt.backend('webgl') as WebGLBackend;
    const x = rt.randn([32, 8], { device });
    const yt = rt.randn([32, 2], { device });
    const w = rt.randn([8, 2], { device }).mul(0.1).requiresGrad_();
    const step = (): Tensor =>
      rt.tidy(() => {
        const l = x.matmul(w).tanh().sub(yt).square().mean();
        l.backward();
        rt.noGrad(() => w.sub_(w.grad!.mul(0.05)));
        w.grad!.zero_();
        return l;
      });
    for (let i = 0; i < 10; i++) step().dispose();
    const m0 = rt.memory();
    const t0 = b.backendInfo().liveTextures;
    let first = 0;
    let last = 0;
    for (let i = 0; i < 1000; i++) {
      const l = step();
      if (i === 0) first = l.item();
      if (i === 999) last = l.item();
      l.dispose();
    }
    const m1 = rt.memory();
    console.log(`[backend-webgl] 1,000 steps: loss ${first.toFixed(4)} -> ${last.toFixed(4)}; webgl bytes ${m0.byDevice['webgl']?.numBytes} -> ${m1.byDevice['webgl']?.numBytes}, pooled ${m1.pooledBytes}, textures ${t0} -> ${b.backendInfo().liveTextures}`);
    expect(last).toBeLessThan(first);
    expect(m1.numBytes).toBe(m0.numBytes);
    expect(m1.numTensors).toBe(m0.numTensors);
    expect(b.backendInfo().liveTextures).toBe(t0);
    expect(m1.pooledBytes).toBeLessThanOrEqual(m0.pooledBytes * 2 + 1);
  }, 900_000);
});
