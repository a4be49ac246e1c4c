#!/usr/bin/env node
// float16 on WebGPU, native WGSL f16 against the packed-u32 path on the same adapter (and float32
// beside them), interleaved in one process: each round times every variant once, and the medians
// of the rounds are printed with the load average. Needs an adapter with shader-f16, e.g.
//   VK_ICD_FILENAMES=$(bash packages/backend-webgpu/scripts/lavapipe.sh) node apps/bench/scripts/native-f16.mjs
// after `npx turbo run build`. On a software adapter the numbers are indications only.
// `--rounds N` (default 7), `--f32-only` (float32 cases alone: compare adapters across two runs),
// `--read` (end each call with a read-back of the result, `await y.data()`, instead of waiting for
// the device with `synchronize`: the read adds the copy and, for 16-bit results, the host's widening).
import os from 'node:os';
import { createRuntime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { probeNodeAdapter, webgpuBackend, backendInfo } from '@nabla/backend-webgpu';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 7;
const f32Only = args.includes('--f32-only');
const readBack = args.includes('--read');
const p = await probeNodeAdapter();
if (!p.ok) throw new Error(p.reason);
const make = (float16) => createRuntime({ plugins: [cpuBackend(), webgpuBackend({ ...p.options, float16 })] });
const native = await make('auto');
const packed = await make('packed');
console.log(`adapter: ${p.description}; shader-f16: ${backendInfo(native).half.shaderF16}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
if (!backendInfo(native).half.nativeF16 && !f32Only) throw new Error('this adapter lacks shader-f16: nothing native to measure');

const N = 1 << 20;
const CASES = [
  { name: 'x*y+x (1M): f16 arithmetic', make: (rt, d) => [rt.randn([N], { device: 'webgpu' }).to(d), rt.randn([N], { device: 'webgpu' }).to(d)], run: ([x, y]) => x.mul(y).add(x) },
  { name: 'sigmoid (1M): f32 rounded once', make: (rt, d) => [rt.randn([N], { device: 'webgpu' }).to(d)], run: ([x]) => x.sigmoid() },
  { name: 'x*0.5+1 (1M): params', make: (rt, d) => [rt.randn([N], { device: 'webgpu' }).to(d)], run: ([x]) => x.mul(0.5).add(1) },
  { name: 'sum (1M): f32 accumulation', make: (rt, d) => [rt.randn([N], { device: 'webgpu' }).to(d)], run: ([x]) => x.sum() },
  {
    name: 'linear+relu fwd+bwd 256x256, batch 64',
    make: (rt, d) => [rt.randn([64, 256], { device: 'webgpu' }).to(d), rt.randn([256, 256], { device: 'webgpu' }).to(d).requiresGrad_()],
    run: ([x, w]) => {
      x.matmul(w).relu().sum().backward();
      const g = w.grad;
      w.grad = null;
      return g;
    },
  },
];
const variants = [
  ['float32', native, 'float32'],
  ...(f32Only ? [] : [['f16 native', native, 'float16'], ['f16 packed', packed, 'float16']]),
];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const c of CASES) {
  const inputs = variants.map(([, rt, d]) => { rt.manualSeed(1); return c.make(rt, d); });
  const samples = variants.map(() => []);
  for (let r = -1; r < rounds; r++) {
    for (let v = 0; v < variants.length; v++) {
      const t0 = performance.now();
      const y = c.run(inputs[v]);
      if (readBack) await y.data();
      else await variants[v][1].synchronize('webgpu');
      const ms = performance.now() - t0;
      y.dispose();
      if (r >= 0) samples[v].push(ms);
    }
  }
  const m = samples.map(median);
  rows.push([c.name, ...m.map((x) => x.toFixed(1)), ...(f32Only ? [] : [(m[1] / m[2]).toFixed(2)])]);
}
const head = ['case', ...variants.map(([n]) => `${n} ms`), ...(f32Only ? [] : ['native/packed'])];
console.log(head.join(' | '));
for (const r of rows) console.log(r.join(' | '));
console.log(`rounds ${rounds}, medians, ${readBack ? 'each call ends with a read-back' : 'each call ends with synchronize (no read-back)'}; load after: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
await native.dispose();
await packed.dispose();
process.exit(0);
