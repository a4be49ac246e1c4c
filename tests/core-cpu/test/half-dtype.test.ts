/**
 * The float16/bfloat16 dtypes in core, on the CPU: finfo against torch.finfo, promotion through
 * real ops, casts and their gradients, gradients of 16-bit leaves staying 16-bit, storage bytes,
 * PyTorch's repr (packages/core/fixtures/half/half-repr.json) and the errors for bad dtype names.
 */
import { readFileSync } from 'node:fs';
import { createRuntime, finfo, NablaError, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFloatBody, withSuffixes } from '../../../packages/core/src/tensor/format-float.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  rt.manualSeed(14);
});
afterAll(async () => {
  await rt.dispose();
});

function nablaError(fn: () => unknown): NablaError {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a NablaError').toBeInstanceOf(NablaError);
  return err as NablaError;
}

describe('finfo', () => {
  it("gives torch.finfo's values (torch 1.13)", () => {
    // Printed by torch 1.13: bits, eps, max, min, tiny, resolution.
    const torch = {
      float16: [16, 0.0009765625, 65504.0, -65504.0, 6.103515625e-5, 0.001],
      bfloat16: [16, 0.0078125, 3.3895313892515355e38, -3.3895313892515355e38, 1.1754943508222875e-38, 0.01],
      float32: [32, 1.1920928955078125e-7, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 1e-6],
      float64: [64, 2.220446049250313e-16, 1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308, 1e-15],
    } as const;
    for (const [d, v] of Object.entries(torch)) {
      const f = finfo(d as keyof typeof torch);
      expect([f.bits, f.eps, f.max, f.min, f.tiny, f.resolution], d).toEqual(v);
      expect(f.smallestNormal).toBe(f.tiny);
    }
    expect(finfo('half')).toBe(finfo('float16'));
    expect(finfo().dtype).toBe('float32');
  });
  it('refuses non-float and unknown dtypes, listing the valid ones', () => {
    expect(nablaError(() => finfo('int32' as never)).message).toMatch(/int32 is not a floating point dtype/);
    expect(nablaError(() => finfo('float8' as never)).message).toMatch(/unknown dtype "float8" \(valid dtypes: float32, float64, int32, bool, float16, bfloat16\)/);
  });
});

describe('promotion through ops (as torch 1.13)', () => {
  const h = () => rt.tensor([1, 2], { dtype: 'float16' });
  const b = () => rt.tensor([1, 2], { dtype: 'bfloat16' });
  it('float16 with bfloat16 is float32; with float32/float64 the wider', () => {
    expect(h().add(b()).dtype).toBe('float32');
    expect(h().mul(rt.tensor([1, 2])).dtype).toBe('float32');
    expect(b().sub(rt.tensor([1, 2], { dtype: 'float64' })).dtype).toBe('float64');
  });
  it('ints and bools with half give half; numbers and 0-d tensors keep half', () => {
    expect(h().add(rt.tensor([1, 2], { dtype: 'int32' })).dtype).toBe('float16');
    expect(rt.tensor([true, false]).mul(b()).dtype).toBe('bfloat16');
    expect(h().mul(2.5).dtype).toBe('float16');
    expect(b().add(3).dtype).toBe('bfloat16');
    expect(h().add(rt.tensor(1.5)).dtype).toBe('float16');
    expect(rt.tensor([1, 2], { dtype: 'int32' }).add(rt.tensor(1.5, { dtype: 'float16' })).dtype).toBe('float16');
    expect(rt.tensor(1, { dtype: 'float16' }).add(rt.tensor(1, { dtype: 'bfloat16' })).dtype).toBe('float32');
  });
  it('math of 16-bit ints-free ops stays 16-bit; reductions keep the dtype', () => {
    expect(h().exp().dtype).toBe('float16');
    expect(b().sum().dtype).toBe('bfloat16');
    expect(h().mean().dtype).toBe('float16');
    expect(h().argmax().dtype).toBe('int32');
    expect(h().gt(1).dtype).toBe('bool');
  });
});

describe('casts', () => {
  it('half(), bfloat16(), to(dtype) and PyTorch dtype aliases', () => {
    const x = rt.tensor([1.0001, 70000, -1e-8, 3]);
    expect(x.half().tolist()).toEqual([1, Infinity, -0, 3]);
    // torch 1.13: [1.0, 70144.0, -1.0011717677116394e-08, 3.0].
    expect(x.bfloat16().tolist()).toEqual([1, 70144, -1.0011717677116394e-8, 3]);
    expect(x.to('half').dtype).toBe('float16');
    expect(x.half().float().dtype).toBe('float32');
    expect(x.half().double().dtype).toBe('float64');
    expect(rt.tensor([1.7, -2.5, 3], { dtype: 'float16' }).int().tolist()).toEqual([1, -2, 3]);
    expect(rt.tensor([0, 2], { dtype: 'float16' }).bool().tolist()).toEqual([false, true]);
    expect(rt.tensor([1.5], { dtype: 'float16' }).to('float16')).toBeDefined();
  });
  it('keeps the graph: the gradient comes back in the source dtype', () => {
    const x = rt.tensor([0.5, 1.5], { requiresGrad: true });
    const y = x.half().mul(x.half()).sum();
    expect(y.dtype).toBe('float16');
    expect(y.gradFn!.name()).toBe('SumBackward0');
    y.backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.tolist()).toEqual([1, 3]);
  });
  it('16-bit leaves require grad and get 16-bit gradients', () => {
    const w = rt.randn([3, 4], { dtype: 'float16', requiresGrad: true });
    const v = rt.tensor([[1, 2, 3]], { dtype: 'bfloat16', requiresGrad: true });
    expect(w.requiresGrad).toBe(true);
    v.float().matmul(w.float()).sum().backward();
    expect(w.grad!.dtype).toBe('float16');
    expect(v.grad!.dtype).toBe('bfloat16');
    const h = rt.tensor([1, 2], { dtype: 'float16', requiresGrad: true });
    h.mul(h).sum().backward();
    expect(h.grad!.dtype).toBe('float16');
    expect(h.grad!.tolist()).toEqual([2, 4]);
  });
  it('Uint16Array data with a 16-bit dtype holds bit patterns', () => {
    const t = rt.tensor(Uint16Array.from([0x3c00, 0xc000, 0x7c00]), { dtype: 'float16' });
    expect(t.tolist()).toEqual([1, -2, Infinity]);
    expect(rt.tensor(Uint16Array.from([0x3f80, 0x4049]), { dtype: 'bfloat16' }).tolist()).toEqual([1, 3.140625]);
    expect(t.dataSync()).toBeInstanceOf(Float32Array);
  });
});

describe('storage', () => {
  it('takes two bytes per element', () => {
    const before = rt.memory().numBytes;
    const t = rt.zeros([1000], { dtype: 'bfloat16' });
    expect(rt.memory().numBytes - before).toBe(2000);
    t.dispose();
  });
  it('factories make 16-bit tensors', () => {
    expect(rt.ones([2], { dtype: 'float16' }).tolist()).toEqual([1, 1]);
    expect(rt.full([2], 0.1, { dtype: 'float16' }).tolist()).toEqual([0.0999755859375, 0.0999755859375]);
    expect(rt.arange(0, 3, 1, { dtype: 'bfloat16' }).tolist()).toEqual([0, 1, 2]);
    const r = rt.rand([100], { dtype: 'float16' });
    expect(r.dtype).toBe('float16');
    expect(r.min().item()).toBeGreaterThanOrEqual(0);
    expect(r.max().item()).toBeLessThanOrEqual(1);
  });
});

describe("PyTorch's repr", () => {
  const fx = JSON.parse(readFileSync(new URL('../../../packages/core/fixtures/half/half-repr.json', import.meta.url), 'utf8')) as {
    torch: string;
    cases: { dtype: 'float16' | 'bfloat16'; shape: number[]; bits: number[]; repr: string }[];
  };
  it.each(fx.cases.map((c) => [c.repr.split('\n')[0]!, c] as const))('%s', (_n, c) => {
    const t = rt.tensor(Uint16Array.from(c.bits), { dtype: c.dtype, shape: c.shape });
    // The layout and wrapping exactly as PyTorch's, with PyTorch's suffix spelling...
    expect(withSuffixes(`tensor(${formatFloatBody(t.dataSync(), t.shape)}`, [`dtype=torch.${c.dtype}`])).toBe(c.repr);
    // ...and toString() the same body with Nabla's spelling of the suffix.
    expect(t.toString()).toBe(withSuffixes(`tensor(${formatFloatBody(t.dataSync(), t.shape)}`, [`dtype=${c.dtype}`]));
  });
  it('shows requiresGrad and gradFn', () => {
    const x = rt.tensor([3], { dtype: 'float16', requiresGrad: true });
    expect(x.toString()).toBe('tensor([3.], dtype=float16, requiresGrad=true)');
    expect(x.mul(2).toString()).toBe('tensor([6.], dtype=float16, gradFn=<MulBackward0>)');
  });
});

describe('errors', () => {
  it('bad dtype names list the valid ones', () => {
    const valid = 'float32, float64, int32, bool, float16, bfloat16';
    expect(nablaError(() => rt.tensor([1], { dtype: 'float8' as never })).message).toContain(`valid dtypes: ${valid}`);
    expect(nablaError(() => rt.zeros([1], { dtype: 'half2' as never })).message).toContain(`valid dtypes: ${valid}`);
    expect(nablaError(() => rt.tensor([1]).to('flaot16')).message).toContain(
      `'flaot16' is neither a dtype (${valid}) nor a registered device (cpu)`,
    );
  });
  it('an op without a 16-bit kernel on a device names the op, device and dtype', async () => {
    // A device that holds float16 but registers no sum kernel for it.
    const bare = await createRuntime({ plugins: [cpuBackend()] });
    const cpu = bare.backend('cpu');
    const toy = await createRuntime({
      plugins: [
        {
          name: 'toy-half-device',
          version: '0.0.0',
          coreRange: '^0.1.0',
          install(ctx) {
            ctx.registerBackend(Object.assign(Object.create(Object.getPrototypeOf(cpu) as object) as object, cpu, { device: 'toy' }) as never);
          },
        },
      ],
    });
    const t = toy.tensor([1, 2], { dtype: 'float16', device: 'toy' });
    expect(nablaError(() => t.sum()).message).toContain("device 'toy' has no 'sum' kernel for dtype float16");
    await toy.dispose();
    await bare.dispose();
  });
});
