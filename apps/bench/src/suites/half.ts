/**
 * float16/bfloat16 against float32 on each device, in the same run: the cost of 16-bit storage
 * (on the CPU: elementwise kernels convert tile by tile, half-elementwise.ts; other kernels widen
 * to float32 stand-ins and round back, half-storage.ts; on WebGPU: packed-u32 storage) for an
 * elementwise chain, a matrix product, a full sum, a cast, and one
 * forward+backward of a small MLP layer. Ratios are 16-bit time / float32 time (below 1: the
 * 16-bit type is faster; storage is always half the bytes).
 */
import type { DType, Runtime, Tensor } from '@nabla/core';
import { settle } from '../devices.js';
import { fmt, printTable, time } from '../timing.js';

type Case = { name: string; make: (rt: Runtime, device: string, dtype: DType) => Tensor[]; run: (xs: Tensor[], dtype: DType) => Tensor };

const CASES: Case[] = [
  {
    name: 'x*y+x (1M)',
    make: (rt, device, dtype) => [rt.randn([1000, 1000], { device }).to(dtype), rt.randn([1000, 1000], { device }).to(dtype)],
    run: ([x, y]) => x!.mul(y!).add(x!),
  },
  {
    name: 'matmul 256³',
    make: (rt, device, dtype) => [rt.randn([256, 256], { device }).to(dtype), rt.randn([256, 256], { device }).to(dtype)],
    run: ([a, b]) => a!.matmul(b!),
  },
  { name: 'sum (1M)', make: (rt, device, dtype) => [rt.randn([1000, 1000], { device }).to(dtype)], run: ([x]) => x!.sum() },
  {
    // float32 → the column's dtype; the float32 column is a plain copy of the same tensor.
    name: 'cast from float32 (1M)',
    make: (rt, device) => [rt.randn([1000, 1000], { device })],
    run: ([x], dtype) => (dtype === 'float32' ? x!.clone() : x!.to(dtype)),
  },
  {
    name: 'linear+relu fwd+bwd 512×512, batch 64',
    make: (rt, device, dtype) => [rt.randn([64, 512], { device }).to(dtype), rt.randn([512, 512], { device }).to(dtype).requiresGrad_()],
    run: ([x, w]) => {
      x!.matmul(w!).relu().sum().backward();
      const g = w!.grad!;
      w!.grad = null;
      return g;
    },
  },
];

export async function halfSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  const rows: string[][] = [];
  const ratios: Record<string, number> = {};
  for (const device of devices) {
    for (const c of CASES) {
      const ms: Partial<Record<DType, number>> = {};
      for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
        rt.manualSeed(1);
        const xs = c.make(rt, device, dtype);
        ms[dtype] = (
          await time(async () => {
            const y = c.run(xs, dtype);
            await settle(rt, device, y);
            y.dispose();
          })
        ).ms;
        for (const x of xs) x.dispose();
      }
      const f16 = ms.float16! / ms.float32!;
      const bf16 = ms.bfloat16! / ms.float32!;
      ratios[`${device} ${c.name} float16/float32`] = f16;
      ratios[`${device} ${c.name} bfloat16/float32`] = bf16;
      rows.push([c.name, device, fmt(ms.float32!), fmt(ms.float16!), fmt(ms.bfloat16!), fmt(f16), fmt(bf16)]);
    }
  }
  printTable('16-bit floats vs float32 (ms, median)', ['case', 'device', 'float32', 'float16', 'bfloat16', 'f16/f32', 'bf16/f32'], rows);
  return ratios;
}
