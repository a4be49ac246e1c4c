/**
 * float16 in WGSL's native f16 (an adapter with `shader-f16`: Mesa's lavapipe without a GPU, see
 * scripts/lavapipe.sh) against the same adapter's packed path (`float16: 'packed'`) and the CPU:
 * every 16-bit pattern through one-operation ops (f16 arithmetic) and formulas (f32, rounded once),
 * the kernels that ran (f16 shaders, not a silent fallback), promotion to float32, bfloat16 still
 * packed. Without `shader-f16` the suite skips saying why, or fails under NABLA_REQUIRE_F16=1.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitsOf, ulpMismatches } from '../../../tests/core-cpu/test/helpers/half-ops.js';
import { WebGpuBackend } from '../src/backend.js';
import { backendInfo } from '../src/plugin.js';
import { gpuRuntime, probe, REQUIRE_F16 } from '../src/test-utils/setup.js';

const adapter = await probe();
let offered = false;
let why = 'no WebGPU adapter';
if (adapter.ok) {
  const rt = (await gpuRuntime({ float16: 'auto' }))!;
  offered = backendInfo(rt).half.shaderF16;
  why = `${adapter.description} lacks shader-f16 (bash packages/backend-webgpu/scripts/lavapipe.sh gives an adapter that has it)`;
  await rt.dispose();
}
if (!offered) console.log(`[half-native] ${REQUIRE_F16 ? 'FAILING' : 'SKIPPED'}: ${why}`);
else console.log(`[half-native] adapter: ${adapter.ok ? adapter.description : ''} (shader-f16 offered)`);

describe.runIf(adapter.ok && !offered)('float16: native on an adapter without shader-f16', () => {
  it('is an error naming the adapter and the feature, not a silent fallback', async () => {
    await expect(gpuRuntime({ float16: 'native' })).rejects.toThrow(/float16: 'native' needs an adapter with the 'shader-f16' feature, and .* lacks it/);
  });
});

describe.runIf(REQUIRE_F16 && !offered)('native f16 required (NABLA_REQUIRE_F16=1)', () => {
  it('has an adapter with shader-f16', () => {
    expect.fail(`NABLA_REQUIRE_F16=1 but ${why}`);
  });
});

// Generous: lavapipe compiles each pipeline with LLVM, slowly on a loaded machine.
describe.skipIf(!offered)('float16 in native f16 on webgpu', { timeout: 300_000 }, () => {
  let native: Runtime;
  let packed: Runtime;
  const sources: string[] = [];
  beforeAll(async () => {
    native = (await gpuRuntime({ float16: 'native' }))!;
    packed = (await gpuRuntime({ float16: 'packed' }))!;
    const d = (native.backend('webgpu') as WebGpuBackend).dispatcher;
    const kernel = d.kernel.bind(d);
    d.kernel = (key, name, source, bindings) => {
      const k = kernel(key, name, source, bindings);
      sources.push(k.source);
      return k;
    };
  });
  afterAll(async () => {
    await native.dispose();
    await packed.dispose();
  });

  /** Every float16 pattern, and a partner operand cycling through values that reach every case. */
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const partner = Uint16Array.from({ length: 65536 }, (_, i) => [0x3c00, 0x0001, 0x7bff, 0xc200, 0x3555, 0x0400, 0x8000, 0x7c00, 0x2e66][i % 9]!);

  /** Sources of the kernels `f` records on the native runtime. */
  async function run(rt: Runtime, f: (a: Tensor, b: Tensor, c: Tensor) => Tensor): Promise<{ bits: Uint16Array; shaders: string[] }> {
    sources.length = 0;
    const a = rt.tensor(all, { dtype: 'float16', device: 'webgpu' });
    const b = rt.tensor(partner, { dtype: 'float16', device: 'webgpu' });
    const c = rt.tensor(Uint8Array.from(all, (v) => (v * 7) % 3 === 0 ? 1 : 0), { dtype: 'bool', device: 'webgpu' });
    const out = f(a, b, c);
    expect(out.dtype).toBe('float16');
    const bits = await bitsOf(out);
    return { bits, shaders: sources.slice() };
  }

  async function onCpu(f: (a: Tensor, b: Tensor, c: Tensor) => Tensor): Promise<Uint16Array> {
    const a = native.tensor(all, { dtype: 'float16' });
    const b = native.tensor(partner, { dtype: 'float16' });
    const c = native.tensor(Uint8Array.from(all, (v) => (v * 7) % 3 === 0 ? 1 : 0), { dtype: 'bool' });
    return bitsOf(f(a, b, c));
  }

  it('says so in backendInfo, and bfloat16 stays packed', () => {
    const info = backendInfo(native).half;
    expect(info.float16).toEqual({ storage: 'f16', arithmetic: 'f16' });
    expect(info.bfloat16).toEqual({ storage: 'packed-u32', arithmetic: 'f32' });
    expect(backendInfo(packed).half.float16).toEqual({ storage: 'packed-u32', arithmetic: 'f32' });
    expect(backendInfo(packed).half.nativeF16).toBe(false);
  });

  // One IEEE operation on float16 tensors: f16 arithmetic, bit for bit the CPU's float32-rounded-once.
  const exact: [string, (a: Tensor, b: Tensor, c: Tensor) => Tensor][] = [
    ['add', (a, b) => a.add(b)],
    ['sub', (a, b) => a.sub(b)],
    ['mul', (a, b) => a.mul(b)],
    ['neg', (a) => a.neg()],
    ['abs', (a) => a.abs()],
    ['square', (a) => a.square()],
    ['where', (a, b, c) => a.where(c, b)],
  ];
  for (const [name, f] of exact) {
    it(`${name}: all 65,536 patterns in f16 arithmetic, bit for bit the CPU and the packed path`, async () => {
      const got = await run(native, f);
      expect(got.shaders.some((s) => s.startsWith('enable f16;') && s.includes(', f16 arithmetic')), 'an f16-arithmetic shader ran').toBe(true);
      const want = Array.from(await onCpu(f));
      const differ: string[] = [];
      for (let i = 0; i < 65536; i++) {
        const w = want[i]!;
        const g = got.bits[i]!;
        const nan = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
        if (w !== g && !(nan(w) && nan(g))) differ.push(`0x${i.toString(16)}: cpu 0x${w.toString(16)}, native 0x${g.toString(16)}`);
      }
      expect(differ.slice(0, 10)).toEqual([]);
      const p = await run(packed, f);
      expect(Array.from(p.bits).filter((v, i) => v !== got.bits[i] && !((v & 0x7fff) > 0x7c00 && (got.bits[i]! & 0x7fff) > 0x7c00)).length).toBe(0);
    });
  }

  // Formulas and JS-number parameters: f32 arithmetic on f16 loads, rounded once on the store.
  const rounded: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['div', (a, b) => a.div(b)],
    ['mul by 0.1', (a) => a.mul(0.1)],
    ['add 1/3', (a) => a.add(1 / 3)],
    ['exp', (a) => a.exp()],
    ['sigmoid', (a) => a.sigmoid()],
    ['tanh', (a) => a.tanh()],
    ['maximum', (a, b) => a.maximum(b)],
    ['clamp', (a) => a.clamp(-2, 3)],
  ];
  for (const [name, f] of rounded) {
    it(`${name}: all 65,536 patterns in f32 rounded once, within one ulp of the CPU, bit for bit the packed path`, async () => {
      const got = await run(native, f);
      expect(got.shaders.some((s) => s.startsWith('enable f16;') && s.includes('f16 storage, f32 arithmetic')), 'an f16-storage shader ran').toBe(true);
      expect(ulpMismatches('float16', Array.from(await onCpu(f)), got.bits, name).slice(0, 10)).toEqual([]);
      const p = await run(packed, f);
      const nan = (h: number): boolean => (h & 0x7fff) > 0x7c00;
      const diff = Array.from(p.bits).flatMap((v, i) => (v !== got.bits[i] && !(nan(v) && nan(got.bits[i]!)) ? [`0x${i.toString(16)}: packed 0x${v.toString(16)}, native 0x${got.bits[i]!.toString(16)}`] : []));
      expect(diff.slice(0, 10)).toEqual([]);
    });
  }

  it('matmul and addmm read f16 directly, accumulate in f32, round once: bit for bit the packed path', async () => {
    const b = native.backend('webgpu') as WebGpuBackend;
    const before = b.nativeF16Structured;
    const cases: [string, (r: Runtime) => Promise<Uint16Array[]>][] = [
      ['bmm 3x70x130 @ 130x65, broadcast and transposed', async (r) => {
        r.manualSeed(3);
        const x = r.randn([3, 70, 130]).half().to('webgpu');
        const w = r.randn([65, 130]).half().to('webgpu');
        return [await bitsOf(x.matmul(w.t()))];
      }],
      ['linear fwd+bwd (addmm, then the weight and input gradients)', async (r) => {
        r.manualSeed(4);
        const x = r.randn([33, 40]).half().to('webgpu').requiresGrad_();
        const w = r.randn([17, 40]).half().to('webgpu').requiresGrad_();
        const bias = r.randn([17]).half().to('webgpu').requiresGrad_();
        const y = x.matmul(w.t()).add(bias);
        const z = bias.unsqueeze(0).expand([33, 17]).addmm(x, w.t(), { beta: 0.5, alpha: 2 });
        y.mul(z).sum().backward();
        return [await bitsOf(y), await bitsOf(z), await bitsOf(x.grad!), await bitsOf(w.grad!), await bitsOf(bias.grad!)];
      }],
    ];
    for (const [name, f] of cases) {
      const got = await f(native);
      const want = await f(packed);
      got.forEach((g, i) => expect(Array.from(g), `${name}: output ${i}`).toEqual(Array.from(want[i]!)));
    }
    expect(b.nativeF16Structured, 'native f16 matmuls ran').toBeGreaterThan(before + 2);
  });

  it('sum, mean, prod, amax and amin read f16 directly, accumulate in f32, round once: bit for bit the packed path', async () => {
    const b = native.backend('webgpu') as WebGpuBackend;
    const before = b.nativeF16Structured;
    const run = async (r: Runtime): Promise<number[][]> => {
      r.manualSeed(5);
      const x = r.randn([37, 300]).half().to('webgpu');
      const s = r.rand([5, 7]).add(0.5).half().to('webgpu');
      const outs = [x.sum(), x.sum(1), x.t().sum(1), x.mean(0), s.prod(1), x.amax(1), x.amin(0), x.index([':', '1:200:3']).sum(0)];
      return Promise.all(outs.map(async (t) => Array.from(await bitsOf(t))));
    };
    const got = await run(native);
    const want = await run(packed);
    got.forEach((g, i) => expect(g, `output ${i}`).toEqual(want[i]));
    expect(b.nativeF16Structured - before, 'native f16 reductions ran').toBeGreaterThanOrEqual(7);
  });

  it('promotes with float32 and bfloat16 as PyTorch does, and bfloat16 kernels stay packed', async () => {
    const h = native.tensor([1.5, -2, 65504], { device: 'webgpu' }).half();
    const f = native.tensor([0.25, 1e-3, 1], { device: 'webgpu' });
    const hf = h.add(f);
    expect(hf.dtype).toBe('float32');
    expect(Array.from(await hf.data())).toEqual([1.75, Math.fround(-2 + Math.fround(1e-3)), 65505]);
    const cmp = h.gt(f);
    expect(cmp.dtype).toBe('bool');
    expect(Array.from(await cmp.data(), Boolean)).toEqual([true, false, true]);
    sources.length = 0;
    const bf = native.tensor([1.5, -2, 3], { device: 'webgpu' }).bfloat16();
    const s = bf.add(bf);
    expect(s.dtype).toBe('bfloat16');
    expect(Array.from(await s.data())).toEqual([3, -4, 6]);
    expect(sources.filter((x) => x.startsWith('enable f16;'))).toEqual([]);
    const mixed = h.add(bf);
    expect(mixed.dtype).toBe('float32');
    expect(Array.from(await mixed.data())).toEqual([3, -4, 65507]);
  });

  it('writes strided and in-place through f16 bindings without touching neighbours', async () => {
    const bits = Uint16Array.from([0x7c01, 0x7d55, 0x3c00, 0x4000, 0x4200, 0xfe13, 0x7c02]);
    const t = native.tensor(bits, { dtype: 'float16', device: 'webgpu' });
    const s = t.index(['1:5']).index(['1:3']);
    s.add_(s);
    expect(Array.from(await bitsOf(t))).toEqual([0x7c01, 0x7d55, 0x4000, 0x4400, 0x4200, 0xfe13, 0x7c02]);
    const m = native.arange(0, 12).reshape([3, 4]).half().to('webgpu');
    const tt = m.t().mul(m.t());
    expect(Array.from(await tt.data())).toEqual([0, 16, 64, 1, 25, 81, 4, 36, 100, 9, 49, 121]);
  });
});
