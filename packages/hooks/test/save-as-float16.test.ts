/**
 * saveAsFloat16 on the CPU: the activations an MLP saves for backward are held as float16, so
 * what the forward keeps (memory() after forward minus before) halves; backward casts them back,
 * so the gradients are float32 and equal to a run on float16-rounded activations (close to the
 * plain run's). Parameters are saved as they are (no copy); an activation saved by two ops
 * (tanh's output, the next matmul's input) is copied once. The model's input gets a float16 copy
 * too (it is saved by the first matmul), so 8 layers keep 9/16 of the float32 bytes.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveAsFloat16 } from '../src/index.js';

let rt: Runtime;
let hasHalf = false;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  hasHalf = rt.backends.all().some((b) => b.device === 'cpu' && (b.dtypes as readonly string[]).includes('float16'));
});

describe('saveAsFloat16', () => {
  it('halves what an MLP forward keeps for backward; float32 gradients close to the plain run', ({ skip }) => {
    if (!hasHalf) return skip('no float16 dtype on the CPU backend');
    rt.manualSeed(9);
    const x = rt.randn([256, 64]);
    const ws = Array.from({ length: 8 }, () => rt.randn([64, 64]).mul(0.2).requiresGrad_());
    // Each layer in its own tidy, and its input disposed once used (as saveOnCpu's test): what
    // stays after the forward is what the graph saved.
    const forward = (half: boolean): Tensor => {
      let h = x;
      for (const w of ws) {
        const prev = h;
        const layer = (): Tensor => rt.tidy(() => prev.matmul(w).tanh());
        h = half ? saveAsFloat16(layer, { runtime: rt }) : layer();
        if (prev !== x) prev.dispose();
      }
      const last = h;
      const loss = rt.tidy(() => (half ? saveAsFloat16(() => last.square().mean(), { runtime: rt }) : last.square().mean()));
      last.dispose();
      return loss;
    };
    const run = (half: boolean): { kept: number; grads: number[][] } => {
      for (const w of ws) w.grad = null;
      const before = rt.memory().byDevice.cpu!.numBytes;
      let kept = 0;
      rt.tidy(() => {
        const loss = forward(half);
        kept = rt.memory().byDevice.cpu!.numBytes - before;
        loss.backward();
      });
      return { kept, grads: ws.map((w) => Array.from(w.grad!.dataSync(), Number)) };
    };
    run(false);
    const plain = run(false);
    const half = run(true);
    console.log(`saveAsFloat16: the forward keeps ${plain.kept} B in float32, ${half.kept} B with float16 saves`);
    const ratio = half.kept / plain.kept;
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.6);
    expect(ws.every((w) => w.grad!.dtype === 'float32')).toBe(true);
    half.grads.forEach((g, i) => {
      const ref = plain.grads[i]!;
      const scale = Math.max(...ref.map(Math.abs));
      g.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThan(1e-2 * scale));
    });
  });

  it('saves parameters as they are: no copy, exact gradients', ({ skip }) => {
    if (!hasHalf) return skip('no float16 dtype on the CPU backend');
    const w = rt.randn([64, 64], { requiresGrad: true });
    const run = (half: boolean): { kept: number; grad: number[] } => {
      w.grad = null;
      const before = rt.memory().byDevice.cpu!.numBytes;
      let kept = 0;
      rt.tidy(() => {
        const f = (): Tensor => w.mul(w).sum(); // saves w twice
        const loss = half ? saveAsFloat16(f, { runtime: rt }) : f();
        kept = rt.memory().byDevice.cpu!.numBytes - before;
        loss.backward();
      });
      return { kept, grad: Array.from(w.grad!.dataSync(), Number) };
    };
    const plain = run(false);
    const half = run(true);
    expect(half.kept).toBe(plain.kept);
    expect(half.grad).toEqual(plain.grad);
  });
});
