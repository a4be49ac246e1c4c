/**
 * float16/bfloat16 ↔ float32 conversions bit-exact against PyTorch 1.13
 * (packages/core/fixtures/half/half-conversions.json): all 65,536 patterns of each 16-bit type to
 * float32, and 917,504 float32 patterns (ties, one ulp either side, subnormals, overflow, NaN) to
 * each 16-bit type — both core's conversion functions and the CPU tensor casts.
 */
import {
  createRuntime,
  float32BitsToBfloat16Bits,
  float32BitsToHalfBits,
  halfBitsToFloat32Bits,
  bfloat16BitsToFloat32Bits,
  type Runtime,
  type Tensor,
} from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNaNBits32, isNaNBitsBf16, loadConversions, mismatches } from './helpers/half-fixtures.js';

const fx = loadConversions();
const hex = (u: number): string => `0x${u.toString(16).padStart(8, '0')}`;

/** The raw 16-bit patterns a tensor's storage holds (the backend's own read). */
function bitsOf(t: Tensor): Uint16Array {
  const data = t._ref.backend.readSync!(t._view());
  expect(data).toBeInstanceOf(Uint16Array);
  return data as Uint16Array;
}

/**
 * PyTorch 1.13's vectorised float32 → bfloat16 cast writes every NaN as 0xFFFF, while its scalar
 * conversion and bfloat16 arithmetic give 0x7FC0; Nabla gives 0x7FC0 everywhere. Both are NaN, so
 * NaN compares as NaN here and every other pattern bit for bit.
 */
const sameBf16 = (e: number, a: number): boolean => e === a || (isNaNBitsBf16(e) && isNaNBitsBf16(a));

describe(`16-bit conversions match PyTorch ${fx.torch} bit for bit (core's functions)`, () => {
  it('float16 → float32 for all 65,536 patterns', () => {
    expect(mismatches(65536, (h) => fx.f16ToF32[h]!, halfBitsToFloat32Bits, (h) => `float16 0x${h.toString(16)}`)).toEqual([]);
  });
  it('bfloat16 → float32 for all 65,536 patterns', () => {
    expect(mismatches(65536, (h) => fx.bf16ToF32[h]!, bfloat16BitsToFloat32Bits, (h) => `bfloat16 0x${h.toString(16)}`)).toEqual([]);
  });
  it('float32 → float16, round to nearest even, over 917,504 patterns', () => {
    const u = fx.f32Inputs;
    expect(mismatches(u.length, (i) => fx.f32ToF16[i]!, (i) => float32BitsToHalfBits(u[i]!), (i) => `float32 ${hex(u[i]!)}`)).toEqual([]);
  });
  it('float32 → bfloat16, round to nearest even, over 917,504 patterns (NaN as NaN)', () => {
    const u = fx.f32Inputs;
    expect(mismatches(u.length, (i) => fx.f32ToBf16[i]!, (i) => float32BitsToBfloat16Bits(u[i]!), (i) => `float32 ${hex(u[i]!)}`, sameBf16)).toEqual([]);
    // Every non-NaN pattern is compared exactly: count them so the exception stays small.
    let nan = 0;
    for (let i = 0; i < u.length; i++) if (isNaNBits32(u[i]!)) nan++;
    expect(nan).toBeLessThan(u.length / 100);
  });
});

describe(`16-bit tensors on the CPU match PyTorch ${fx.torch} bit for bit`, () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend()] });
  });
  afterAll(async () => {
    await rt.dispose();
  });
  const all16 = Uint16Array.from({ length: 65536 }, (_, i) => i);

  for (const dtype of ['float16', 'bfloat16'] as const) {
    const table = dtype === 'float16' ? fx.f16ToF32 : fx.bf16ToF32;
    it(`${dtype} tensor of every pattern .float()`, () => {
      const t = rt.tensor(all16, { dtype });
      expect(bitsOf(t)).toEqual(all16);
      const f = t.float().dataSync() as Float32Array;
      const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
      expect(mismatches(65536, (h) => table[h]!, (h) => u[h]!, (h) => `${dtype} 0x${h.toString(16)}`)).toEqual([]);
      // data() of the 16-bit tensor itself gives the same values.
      const direct = t.dataSync() as Float32Array;
      expect(direct).toBeInstanceOf(Float32Array);
      const du = new Uint32Array(direct.buffer, direct.byteOffset, direct.length);
      expect(mismatches(65536, (h) => table[h]!, (h) => du[h]!, (h) => `${dtype} 0x${h.toString(16)} data()`)).toEqual([]);
    });
    it(`float32 tensor of 917,504 patterns .${dtype === 'float16' ? 'half' : 'bfloat16'}()`, () => {
      const u = fx.f32Inputs;
      const x = rt.tensor(new Float32Array(u.buffer.slice(0)), { shape: [u.length] });
      const h = bitsOf(dtype === 'float16' ? x.half() : x.bfloat16());
      const want = dtype === 'float16' ? fx.f32ToF16 : fx.f32ToBf16;
      const same = dtype === 'float16' ? undefined : sameBf16;
      expect(mismatches(u.length, (i) => want[i]!, (i) => h[i]!, (i) => `float32 ${hex(u[i]!)}`, same)).toEqual([]);
    });
  }

  it('float16 ↔ bfloat16 casts go through float32 (each rounding as PyTorch)', () => {
    const x = rt.tensor(all16, { dtype: 'float16' });
    const viaF32 = bitsOf(x.float().bfloat16());
    expect(bitsOf(x.bfloat16())).toEqual(viaF32);
  });

  it('values from JS numbers round once through float32 (as PyTorch converts a double)', () => {
    // 1 + 2^-11 + 2^-40: float32 rounds it to the tie 1 + 2^-11, which float16 rounds to even (1).
    expect(rt.tensor([1 + 2 ** -11 + 2 ** -40], { dtype: 'float16' }).tolist()).toEqual([1]);
    expect(rt.tensor([1 + 2 ** -11 + 2 ** -40], { dtype: 'float64' }).half().tolist()).toEqual([1]);
    expect(rt.tensor([65504, 65519.99, 65520, -1e6, 2 ** -24, 2 ** -25, 3 * 2 ** -26], { dtype: 'float16' }).tolist()).toEqual([
      65504,
      65504,
      Infinity,
      -Infinity,
      2 ** -24,
      0,
      2 ** -24,
    ]);
  });
});
