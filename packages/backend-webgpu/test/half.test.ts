/**
 * float16/bfloat16 on WebGPU against PyTorch 1.13 (packages/core/fixtures/half/): conversions bit
 * for bit (all 65,536 patterns each way, 917,504 float32 patterns narrowed), the op fixtures
 * within one ulp (gradients included), views (slices, transposes, odd lengths, in-place writes
 * into a slice that must leave its neighbours' bits alone) and what `backendInfo()` says.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNaNBitsBf16, loadConversions, mismatches } from '../../../tests/core-cpu/test/helpers/half-fixtures.js';
import { bitsOf, loadHalfOps, replayHalfOp } from '../../../tests/core-cpu/test/helpers/half-ops.js';
import { WebGpuBackend } from '../src/backend.js';
import { backendInfo } from '../src/plugin.js';
import { gpuRuntime, probe, REQUIRE_F16 } from '../src/test-utils/setup.js';

const adapter = await probe();
const conv = loadConversions();
const ops = loadHalfOps();
const hex = (u: number): string => `0x${u.toString(16).padStart(8, '0')}`;
/** See tests/core-cpu/test/half-conversions.test.ts: PyTorch's vectorised cast writes NaN as 0xFFFF. */
const sameBf16 = (e: number, a: number): boolean => e === a || (isNaNBitsBf16(e) && isNaNBitsBf16(a));

describe.skipIf(!adapter.ok)('float16/bfloat16 on webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });
  const all16 = Uint16Array.from({ length: 65536 }, (_, i) => i);

  it('says how it holds 16-bit floats', () => {
    const b = rt.backend('webgpu');
    expect(b).toBeInstanceOf(WebGpuBackend);
    const info = backendInfo(rt);
    expect(info).toEqual((b as WebGpuBackend).backendInfo());
    const packed = { storage: 'packed-u32', arithmetic: 'f32' };
    // The default (float16: 'auto') computes natively exactly when the adapter offers shader-f16.
    expect(info.half.nativeF16).toBe(info.half.shaderF16);
    if (REQUIRE_F16) expect(info.half.nativeF16, 'NABLA_REQUIRE_F16=1: float16 must compute in native f16').toBe(true);
    expect(info.half.float16).toEqual(info.half.nativeF16 ? { storage: 'f16', arithmetic: 'f16' } : packed);
    expect(info.half.bfloat16).toEqual(packed);
    expect({ storage: info.half.storage, arithmetic: info.half.arithmetic }).toEqual(info.half.float16);
    console.log(
      `[half] ${info.adapter}: shader-f16 ${info.half.shaderF16 ? 'offered' : 'not offered'}; ` +
        `float16 ${info.half.float16.storage} storage, ${info.half.float16.arithmetic} arithmetic; bfloat16 packed-u32, f32`,
    );
  });

  it('stores two elements per word: a float16 tensor takes half the bytes of float32', async () => {
    const before = rt.memory().numBytes;
    const t = rt.zeros([1000], { dtype: 'float16', device: 'webgpu' });
    expect(rt.memory().numBytes - before).toBe(2000);
    const f = rt.zeros([1000], { dtype: 'float32', device: 'webgpu' });
    expect(rt.memory().numBytes - before).toBe(6000);
    t.dispose();
    f.dispose();
  });

  for (const dtype of ['float16', 'bfloat16'] as const) {
    const table = dtype === 'float16' ? conv.f16ToF32 : conv.bf16ToF32;
    it(`${dtype}: all 65,536 patterns round-trip and widen to float32 bit for bit`, async () => {
      const t = rt.tensor(all16, { dtype, device: 'webgpu' });
      expect(await bitsOf(t)).toEqual(all16);
      const f = (await t.float().data()) as Float32Array;
      const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
      expect(mismatches(65536, (h) => table[h]!, (h) => u[h]!, (h) => `${dtype} 0x${h.toString(16)}`)).toEqual([]);
    });
    it(`${dtype}: 917,504 float32 patterns narrow bit for bit`, async () => {
      const u = conv.f32Inputs;
      const x = rt.tensor(new Float32Array(u.buffer.slice(0)), { device: 'webgpu' });
      const h = await bitsOf(dtype === 'float16' ? x.half() : x.bfloat16());
      const want = dtype === 'float16' ? conv.f32ToF16 : conv.f32ToBf16;
      expect(mismatches(u.length, (i) => want[i]!, (i) => h[i]!, (i) => `float32 ${hex(u[i]!)}`, dtype === 'float16' ? undefined : sameBf16)).toEqual([]);
    });
  }

  it('reads and computes on strided views, odd lengths and offsets', async () => {
    const base = rt.arange(0, 35).div(8).reshape([5, 7]);
    const h = base.half().to('webgpu');
    const cpu = base.half();
    const cases: [string, (t: Tensor) => Tensor][] = [
      ['transpose', (t) => t.t().contiguous()],
      ['column', (t) => t.index([':', 3]).contiguous()],
      ['odd slice', (t) => t.index(['1:4', '2:7']).mul(3)],
      ['broadcast add', (t) => t.add(t.index([':', '0:1']))],
      ['sum of a transpose', (t) => t.t().sum(1)],
    ];
    for (const [name, f] of cases) {
      expect(Array.from(await bitsOf(f(h))), name).toEqual(Array.from(await bitsOf(f(cpu))));
    }
  });

  it('writes into a slice leave the neighbouring halves of each word untouched (NaN payloads too)', async () => {
    // Patterns with NaN payloads around an odd-aligned slice: only the slice may change.
    const bits = Uint16Array.from([0x7c01, 0x7d55, 0x3c00, 0x4000, 0x4200, 0xfe13, 0x7c02]);
    const t = rt.tensor(bits, { dtype: 'float16', device: 'webgpu' });
    t.index(['1:5']).index(['1:3']).mul_(2);
    expect(Array.from(await bitsOf(t))).toEqual([0x7c01, 0x7d55, 0x4000, 0x4400, 0x4200, 0xfe13, 0x7c02]);
  });

  it('gradients of a float16 tensor are float16 (matmul, softmax, sum)', async () => {
    const a = rt.randn([4, 6]).half().to('webgpu').requiresGrad_();
    const b = rt.randn([6, 3]).half().to('webgpu');
    a.matmul(b).softmax(-1).mul(rt.tensor([1, 2, 3], { device: 'webgpu' }).half()).sum().backward();
    expect(a.grad!.dtype).toBe('float16');
    expect(a.grad!.device).toBe('webgpu');
    const ac = (await a.detach().toAsync('cpu')).requiresGrad_();
    ac.matmul(await b.toAsync('cpu')).softmax(-1).mul(rt.tensor([1, 2, 3]).half()).sum().backward();
    const g = Array.from(await a.grad!.data());
    const gc = Array.from(ac.grad!.dataSync());
    g.forEach((v, i) => expect(Math.abs(v - gc[i]!)).toBeLessThanOrEqual(4 * 2 ** -10 * Math.max(...gc.map(Math.abs))));
  });

  describe(`ops match PyTorch ${ops.torch} within one ulp`, () => {
    it.each(ops.cases.map((c) => [`${c.dtype} ${c.name} (${c.mode}${c.grads ? ', with gradients' : ''})`, c] as const))('%s', async (_n, c) => {
      expect(await replayHalfOp(rt, c, 'webgpu')).toEqual([]);
    });
  });

  it('ran the float16 elementwise ops and matmuls in native f16 kernels when the device has shader-f16 (no silent fallback)', () => {
    const b = rt.backend('webgpu') as WebGpuBackend;
    if (b.nativeF16) {
      expect(b.nativeF16Kernels).toBeGreaterThan(10);
      expect(b.nativeF16Structured).toBeGreaterThan(0);
    } else {
      expect(b.nativeF16Kernels).toBe(0);
      expect(b.nativeF16Structured).toBe(0);
    }
    console.log(`[half] native f16: ${b.nativeF16Kernels} elementwise kernels compiled, ${b.nativeF16Structured} structured kernel calls (matmul, reductions)`);
  });
});
