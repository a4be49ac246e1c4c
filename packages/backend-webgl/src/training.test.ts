/**
 * 1,000 training steps on webgl keep `memory()` and the device's texture count flat. (The spiral
 * MLP learned to >= 95% on webgl is @nabla/nn's own example, run on this device in
 * packages/nn/test/spiral-webgl.test.ts: one spiral, shared by every device.)
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { randoms } from '@nabla/backend-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGLBackend } from './backend.js';
import { webglBackend } from './plugin.js';
import { probe } from './test-utils/setup.js';

const gl = await probe();

describe.skipIf(!gl.ok)('training on webgl', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend(), webglBackend()] });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  it('1,000 training steps keep memory() and the texture count flat', () => {
    const device = 'webgl';
    const b = rt.backend('webgl') as WebGLBackend;
    // A 2-layer classifier through the kernels a real loop uses: bmm, addmm, relu, logSoftmax,
    // gather (and scatterAdd in its gradient), reductions, in-place SGD.
    const x = rt.tensor(randoms(32 * 8, 1), { device, shape: [32, 8] });
    const y = rt.tensor(Array.from({ length: 32 }, (_, i) => i % 3), { device, dtype: 'int32', shape: [32, 1] });
    const w1 = rt.tensor(randoms(8 * 16, 2, -0.5, 0.5), { device, shape: [8, 16], requiresGrad: true });
    const w2 = rt.tensor(randoms(16 * 3, 3, -0.5, 0.5), { device, shape: [16, 3], requiresGrad: true });
    const b2 = rt.zeros([3], { device, requiresGrad: true });
    const params = [w1, w2, b2];
    const step = (): Tensor =>
      rt.tidy(() => {
        const logits = b2.addmm(x.matmul(w1).relu(), w2);
        const l = logits.logSoftmax(1).gather(1, y).neg().mean();
        l.backward();
        rt.noGrad(() => {
          for (const p of params) {
            p.sub_(p.grad!.mul(0.1));
            p.grad!.zero_();
          }
        });
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
