/**
 * The device itself: which gpu.js kernel class runs (it must be a GL one), dtypes and their
 * limits, reads and writes, strided in-place writes, kernel caching, and refusals.
 */
import type { DType, Runtime, Storage, View } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo } from './plugin.js';
import { WebGLBackend } from './backend.js';
import { INT32_EXACT_LIMIT } from './dtypes.js';
import { gpu } from './gpujs.js';
import { glRuntime, probe } from './test-utils/setup.js';

const gl = await probe();
const GL_CLASSES = ['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel'];

describe.skipIf(!gl.ok)('the webgl device', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await glRuntime();
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  it('runs its kernels on a GL kernel class of gpu.js and says so, with the renderer', () => {
    const x = rt.tensor([1, 2, 3], { device: 'webgl' });
    x.exp().dataSync().forEach((v, i) => expect(v).toBeCloseTo(Math.exp(i + 1), 4));
    const info = backendInfo(rt);
    console.log(`[backend-webgl] ${rt.backend('webgl').describe()}`);
    expect(GL_CLASSES).toContain(info.kernelClass);
    expect(info.renderer.length).toBeGreaterThan(0);
    expect(rt.backend('webgl').describe()).toContain(info.kernelClass);
  });

  it('holds float32, int32 and bool; float64 is an error naming the device', () => {
    expect(() => rt.tensor([1.5], { device: 'webgl', dtype: 'float64' })).toThrow(/webgl/);
    expect(() => rt.tensor([1.5], { device: 'webgl', dtype: 'float64' })).toThrow(/float64/);
    const b = rt.tensor([1, 0, 2], { device: 'webgl' }).gt(0.5);
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.dataSync())).toEqual([1, 0, 1]);
    expect(b.dataSync()).toBeInstanceOf(Uint8Array);
    expect(b.sum().dtype).toBe('int32');
    expect(b.sum().item()).toBe(2);
    const i = rt.tensor([7, -3, 12], { device: 'webgl', dtype: 'int32' });
    expect(i.dataSync()).toBeInstanceOf(Int32Array);
    expect(Array.from(i.mul(3).sub(1).dataSync())).toEqual([20, -10, 35]);
    expect(Array.from(i.div(2).dataSync())).toEqual([3.5, -1.5, 6]);
    expect(Array.from(rt.tensor([2.7, -2.7, 0.5], { device: 'webgl' }).to('int32').dataSync())).toEqual([2, -2, 0]);
  });

  it('int32 is exact up to 2^24 in magnitude (values live in float32 textures) and rounds beyond', () => {
    expect(INT32_EXACT_LIMIT).toBe(2 ** 24);
    const edge = [2 ** 24, -(2 ** 24), 2 ** 24 - 1, -(2 ** 24 - 1), 123456, 0];
    const t = rt.tensor(edge, { device: 'webgl', dtype: 'int32' });
    expect(Array.from(t.dataSync())).toEqual(edge);
    expect(Array.from(t.add(0).dataSync())).toEqual(edge);
    expect(rt.tensor([2 ** 24 - 2], { device: 'webgl', dtype: 'int32' }).add(1).item()).toBe(2 ** 24 - 1);
    // The documented limit: 2^24 + 1 has no float32, so it is stored as its nearest even neighbour.
    expect(rt.tensor([2 ** 24 + 1], { device: 'webgl', dtype: 'int32' }).item()).toBe(2 ** 24);
    expect(rt.tensor([2 ** 24 - 1], { device: 'webgl', dtype: 'int32' }).add(2).item()).toBe(2 ** 24);
  });

  it('reads any view synchronously and asynchronously; writes at an offset', async () => {
    const x = rt.arange(0, 24, 1, { device: 'webgl' }).reshape(2, 3, 4);
    const v = x.permute(2, 0, 1).narrow(0, 1, 2);
    const c = rt.arange(0, 24, 1).reshape(2, 3, 4).permute(2, 0, 1).narrow(0, 1, 2);
    expect(Array.from(v.dataSync())).toEqual(Array.from(c.dataSync()));
    expect(Array.from(await v.data())).toEqual(Array.from(c.dataSync()));
    expect(v.tolist()).toEqual(c.tolist());
    const b = rt.backend('webgl') as WebGLBackend;
    const s = b.allocate('float32', 10);
    b.write(s, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    b.write(s, Float32Array.from([-1, -2]), 4);
    b.write(s, Float32Array.from([42]), 9);
    expect(Array.from(b.readSync({ storage: s, dtype: 'float32', shape: [10], strides: [1], offset: 0 }))).toEqual([1, 2, 3, 4, -1, -2, 7, 8, 9, 42]);
    expect(() => b.write(s, Float32Array.from([1, 2]), 9)).toThrow(/overflows/);
    b.release(s);
    expect(() => b.release(s)).toThrow(/twice/);
  });

  it('writes in place through strided views (a transposed column, a broadcast input), other elements untouched', () => {
    const vals = Array.from({ length: 12 }, (_, i) => i - 4);
    const res = ['cpu', 'webgl'].map((device) => {
      const x = rt.tensor(vals, { device }).reshape(3, 4);
      x.t().select(0, 2).mul_(10);
      x.narrow(1, 1, 2).add_(rt.tensor([100, 200], { device }));
      x.t().narrow(0, 3, 1).zero_();
      return Array.from(x.dataSync());
    });
    expect(res[1]).toEqual(res[0]);
  });

  it('compiles each kernel once per expression and rank: new shapes reuse it', () => {
    const b = rt.backend('webgl') as WebGLBackend;
    const f = (n: number, m: number) => rt.ones([n, m], { device: 'webgl' }).mul(3).sigmoid().sum(1);
    f(3, 5).dataSync();
    const before = b.backendInfo().compiledKernels;
    for (const [n, m] of [[7, 2], [30, 41], [2, 9], [100, 3]] as const) expect(f(n, m).dataSync().length).toBe(n);
    expect(b.backendInfo().compiledKernels).toBe(before);
  });

  it('errors in kernels name the op and leave nothing allocated', () => {
    const b = rt.backend('webgl') as WebGLBackend;
    const x = rt.randn([4, 3], { device: 'webgl' });
    const index = rt.tensor([[0], [3], [1], [2]], { device: 'webgl', dtype: 'int32' });
    expect(() => x.gather(1, index)).toThrow(/gather.*index 3 is out of range for dimension 1 with size 3/);
    // The kernel itself, on storages this test owns: nothing is left behind.
    const out = b.allocate('float32', 4);
    const live = b.backendInfo().liveTextures;
    const v = (s: Storage, shape: number[], dtype: DType = 'float32') => ({ storage: s, dtype, shape, strides: shape.length === 2 ? [shape[1]!, 1] : [1], offset: 0 });
    const xs = (x as unknown as { _view(): View })._view();
    const is = (index as unknown as { _view(): View })._view();
    expect(() => b.kernels.gather!(v(out, [4, 1]), xs, 1, is)).toThrow(/gather: index 3 is out of range/);
    expect(() => b.kernels.scatterAdd!(v(out, [4, 1]), 1, is, v(out, [4, 1]))).toThrow(/scatterAdd: index 3 is out of range for dimension 1 with size 1/);
    expect(() => b.kernels.bmm!(v(out, [4, 1]), xs, xs)).toThrow(/bmm: expected/);
    expect(b.backendInfo().liveTextures).toBe(live);
    b.release(out);
  });
});

describe.skipIf(!gl.ok)('refusals', () => {
  it('refuses to install when gpu.js would run its CPU kernel instead of GL', async () => {
    await expect(WebGLBackend.create({ mode: 'cpu' })).rejects.toThrow(/CPUKernel, not on a GL kernel/);
  });

  it('fails an op, naming the kernel class, when gpu.js falls back to its CPU kernel at run time; recovers after', async () => {
    const rt = await glRuntime();
    const proto = gpu.HeadlessGLKernel.prototype as unknown as { run: (...a: unknown[]) => unknown; requestFallback(args: unknown, reason: string): unknown };
    const run = proto.run;
    const warn = console.warn;
    try {
      const x = rt.tensor([0.5, 1, 2], { device: 'webgl' });
      // The trap gpu.js sets: a GL kernel that cannot run asks for its CPU kernel and swaps itself out.
      proto.run = function (this: typeof proto, ...args: unknown[]) {
        return this.requestFallback(args, 'injected by the test');
      };
      console.warn = () => {}; // gpu.js says "Falling back to CPU"
      // sin's kernel calls a GLSL native function: its CPU replacement fails to build.
      expect(() => x.sin().dataSync()).toThrow(/gpu.js fell back from its HeadlessGLKernel to its CPU kernel for 'sin' \(injected by the test\); the webgl device refuses/);
      // The upload kernel is plain JS: its CPU replacement builds, runs, and is caught by its class.
      expect(() => rt.tensor([1, 2, 3], { device: 'webgl' })).toThrow(/gpu.js ran kernel 'write' on its CPUKernel, not on a GL kernel \(injected by the test\)/);
      proto.run = run;
      console.warn = warn;
      // The swapped kernels are forgotten: the next calls compile GL kernels and run there.
      x.sin().dataSync().forEach((v, i) => expect(v).toBeCloseTo(Math.sin([0.5, 1, 2][i]!), 5));
      expect(Array.from(x.cumsum(0).dataSync())).toEqual([0.5, 1.5, 3.5]);
      expect(backendInfo(rt).kernelClass).toBe('HeadlessGLKernel');
    } finally {
      proto.run = run;
      console.warn = warn;
      await rt.dispose();
    }
  });

  it('refuses to install on gpu.js WebAssembly kernels', async () => {
    await expect(WebGLBackend.create({ mode: 'webasm' })).rejects.toThrow(/not on a GL kernel|cannot run mode/);
  });
});
